"""The operational store (业务库): SQLAlchemy models, Alembic migrations, repositories and the lake loader.

``with Store(url).unit() as uow:`` is the only way domain code reaches the database. The names are
imported on use, so ``yibao load --help`` loads no SQLAlchemy.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["OverdraftError", "Store", "UnitOfWork", "current", "default_url", "downgrade", "load_lake",
           "make_engine", "upgrade"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.store.db": ("current", "default_url", "downgrade", "make_engine", "upgrade"),
    "yibao.store.load": ("load_lake",),
    "yibao.store.repositories": ("OverdraftError", "Store", "UnitOfWork"),
})
