"""Alembic migrations of the operational store (run through ``yibao.store.db``); nothing is imported
from here."""

__all__: list[str] = []
