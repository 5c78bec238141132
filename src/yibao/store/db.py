"""Engines and schema migrations for the operational store.

Alembic is configured in code (the migration scripts ship inside the package), so users need no
``alembic.ini``: ``upgrade(url)`` brings any database to the latest schema.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from yibao.errors import ValidationError

DEFAULT_URL = "sqlite:///yibao.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """``YIBAO_DB_URL`` when set, else a SQLite file ``yibao.db`` in the working directory."""
    return os.environ.get("YIBAO_DB_URL") or DEFAULT_URL


def show_url(url: str | None) -> str:
    """``url`` (or the default) with its password masked, for messages; also for strings that are no URL."""
    url = url or default_url()
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def parse_url(url: str | None) -> sa.URL:
    """``url`` (or the default) parsed; a string that is no database URL is a ``ValidationError``."""
    url = url or default_url()
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValidationError("url", "is not a database URL (e.g. sqlite:///yibao.db or "
                              "postgresql+psycopg://user@host/db)", record=show_url(url)) from None


def make_engine(url: str | None = None, **kwargs) -> sa.Engine:
    """An engine for ``url``; SQLite gets foreign keys on, WAL and a busy timeout for concurrent writers."""
    url = url or default_url()
    if parse_url(url).get_backend_name() != "sqlite":
        try:
            return sa.create_engine(url, **kwargs)
        except (sa.exc.NoSuchModuleError, ModuleNotFoundError) as e:
            raise ValidationError("url", f"no database driver for it: {e}", record=show_url(url)) from None
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
def connect(url: str | None, begin: bool = True) -> Iterator[sa.Connection]:
    """A connection to ``url`` (in a transaction when ``begin``) whose engine is disposed after.

    A database that cannot be reached (no server, a missing folder, a refused login) is a
    ``ValidationError`` naming the URL with its password masked.
    """
    engine = make_engine(url)
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as e:
            problem = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
            raise ValidationError("url", f"cannot connect to the database: {problem}", record=show_url(url)) from None
        with conn, conn.begin() if begin else _nothing():
            yield conn
    finally:
        engine.dispose()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def upgrade(url: str | None = None, rev: str = "head") -> None:
    """Migrate the database at ``url`` up to ``rev`` (default: the latest)."""
    _check_revision(rev, url)
    with connect(url) as conn:
        now = MigrationContext.configure(conn).get_current_revision()
        known = revisions()
        if rev in known and now in known and known.index(now) > known.index(rev):
            raise ValidationError("revision", f"the store is at {now}, later than {rev}: downgrade to reach it",
                                  record=show_url(url))
        _migrate(command.upgrade, conn, rev, url)


def downgrade(url: str | None, rev: str) -> None:
    """Migrate the database at ``url`` down to ``rev`` (``"base"`` drops every table)."""
    _check_revision(rev, url)
    with connect(url) as conn:
        _migrate(command.downgrade, conn, rev, url)


def revisions() -> list[str]:
    """The revisions shipped with the package, oldest first."""
    return [s.revision for s in reversed(list(_scripts().walk_revisions()))]


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def _check_revision(rev: str, url: str | None) -> None:
    relative = re.fullmatch(r"\w*[+-]\d+", rev)  # head-1, -1, 0001+1: Alembic resolves these
    known = revisions()
    if not relative and rev not in ("head", "base", *known):
        raise ValidationError("revision", f"{rev!r} is not a revision of the store (known: base, "
                              f"{', '.join(known)}, head)", record=show_url(url))


def _migrate(step, conn: sa.Connection, rev: str, url: str | None) -> None:
    """Run an Alembic command; one it refuses (a downgrade to a later revision …) names the revision."""
    try:
        step(_config(conn), rev)
    except CommandError as e:
        raise ValidationError("revision", f"{rev!r}: {e}", record=show_url(url)) from None


def current(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    with connect(url, begin=False) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """The latest revision shipped with the package."""
    return _scripts().get_current_head()
