"""Institution credentials (接口凭证): issued by ``yibao institution add``, looked up per request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from yibao.api.signing import new_credential
from yibao.store.models import Credential

CRED = Credential.__table__


def issue(conn: sa.Connection, fixmedins_code: str, master_key: bytes, now: dt.datetime) -> tuple[str, str]:
    """A new (access key, secret) for the institution; only the access key is stored."""
    access_key, secret = new_credential(master_key)
    conn.execute(sa.insert(CRED).values(access_key=access_key, fixmedins_code=fixmedins_code, created_at=now,
                                        revoked=False))
    return access_key, secret


def find(conn: sa.Connection, access_key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(CRED).where(CRED.c.access_key == access_key)).mappings().first()
    return dict(row) if row else None


def revoke(conn: sa.Connection, access_key: str) -> bool:
    return conn.execute(sa.update(CRED).where(CRED.c.access_key == access_key).values(revoked=True)).rowcount == 1


__all__ = ["find", "issue", "revoke"]
