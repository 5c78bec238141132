"""Alembic migrations of the operational store (run through ``yibao.store.db``)."""
