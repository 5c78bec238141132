"""The operational store (业务库): SQLAlchemy models, Alembic migrations, repositories and the lake loader.

``with Store(url).unit() as uow:`` is the only way domain code reaches the database.
"""

from yibao.store.db import current, default_url, downgrade, make_engine, upgrade
from yibao.store.load import load_lake
from yibao.store.repositories import OverdraftError, Store, UnitOfWork

__all__ = ["OverdraftError", "Store", "UnitOfWork", "current", "default_url", "downgrade", "load_lake",
           "make_engine", "upgrade"]
