"""A migrated store (SQLite and PostgreSQL) for the regulator tests."""

from __future__ import annotations

import pytest

from yibao.store import upgrade


@pytest.fixture
def url(db_url):
    upgrade(db_url)
    return db_url
