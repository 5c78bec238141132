"""The ledger's database engine: the store's engine, with SQLite transactions that take the write
lock when they begin (``BEGIN IMMEDIATE``), so two settlements of one person queue instead of one
failing when it upgrades its read lock; PostgreSQL locks rows (``SELECT … FOR UPDATE``)."""

from __future__ import annotations

import sqlalchemy as sa

from yibao.store.sql import hook
from yibao.store.db import make_engine, parse_url


def ledger_engine(url: str | None = None, **kwargs) -> sa.Engine:
    """An engine for the service: pooled connections; on SQLite, immediate transactions; on
    PostgreSQL, writes deferred to the next statement (:func:`yibao.store.sql.hook`)."""
    if parse_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 8)
        return hook(make_engine(url, **kwargs))
    engine = make_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_conn, _record):  # noqa: ANN001 - let SQLAlchemy's begin emit BEGIN
        dbapi_conn.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


__all__ = ["ledger_engine"]
