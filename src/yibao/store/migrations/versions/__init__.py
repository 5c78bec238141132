"""The migration scripts, each loaded by Alembic from its file; nothing is imported from here."""

__all__: list[str] = []
