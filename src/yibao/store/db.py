"""Engines and schema migrations for the operational store.

Alembic is configured in code (the migration scripts ship inside the package), so users need no
``alembic.ini``: ``upgrade(url)`` brings any database to the latest schema.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

DEFAULT_URL = "sqlite:///yibao.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """``YIBAO_DB_URL`` when set, else a SQLite file ``yibao.db`` in the working directory."""
    return os.environ.get("YIBAO_DB_URL") or DEFAULT_URL


def make_engine(url: str | None = None, **kwargs) -> sa.Engine:
    """An engine for ``url``; SQLite gets foreign keys on, WAL and a busy timeout for concurrent writers."""
    url = url or default_url()
    if sa.make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(url, **kwargs)
    kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    engine = sa.create_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DBAPI connection
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if sa.make_url(url).database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def _config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _connection(url: str | None, begin: bool = True) -> Iterator[sa.Connection]:
    """A connection to ``url`` (in a transaction when ``begin``) whose engine is disposed after."""
    engine = make_engine(url)
    try:
        with engine.begin() if begin else engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def upgrade(url: str | None = None, rev: str = "head") -> None:
    """Migrate the database at ``url`` up to ``rev`` (default: the latest)."""
    with _connection(url) as conn:
        command.upgrade(_config(conn), rev)


def downgrade(url: str | None, rev: str) -> None:
    """Migrate the database at ``url`` down to ``rev`` (``"base"`` drops every table)."""
    with _connection(url) as conn:
        command.downgrade(_config(conn), rev)


def current(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    with _connection(url, begin=False) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """The latest revision shipped with the package."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
