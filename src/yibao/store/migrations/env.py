"""Alembic environment: runs on the connection handed over by ``yibao.store.db``."""

from __future__ import annotations

from alembic import context

from yibao.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("run migrations through yibao.store.db.upgrade(url)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
