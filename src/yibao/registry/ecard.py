"""医保电子凭证: the insured person's electronic card. The agency issues a short-lived token (the
code the person's phone shows); an institution's 1101 names it with 就诊凭证类型 01 and reads the
person by it, as it would by 身份证 or 社保卡. A token is random (it carries nothing of the person)
and stored, so it can be looked up and expires on its own."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa

from yibao.errors import ValidationError
from yibao.store.models import EcardToken

T = EcardToken.__table__
LIFETIME = dt.timedelta(minutes=5)  # how long a shown code is good for (the person's phone refreshes it)
MAX_MINUTES = 24 * 60


def issue(conn: sa.Connection, psn_no: str, now: dt.datetime, minutes: int | None = None) -> dict:
    """A new token for ``psn_no``, good from ``now`` for ``minutes`` (default five)."""
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        raise ValidationError("--minutes", f"{minutes}: a token is good for 1 to {MAX_MINUTES} minutes")
    life = LIFETIME if minutes is None else dt.timedelta(minutes=minutes)
    row = {"token": secrets.token_hex(16), "psn_no": psn_no, "issued_at": now, "expires_at": now + life}
    conn.execute(sa.insert(T).values(**row))
    return row


class TokenRefused(Exception):
    """The token is unknown or past its time; ``reason`` says which, in the interface's words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def holder(conn: sa.Connection, token: str, now: dt.datetime) -> str:
    """The 人员编号 a token was issued to, if it is still good at ``now``."""
    row = conn.execute(sa.select(T.c.psn_no, T.c.expires_at).where(T.c.token == token)).first()
    if row is None:
        raise TokenRefused("电子凭证无效")
    if now >= row.expires_at:
        raise TokenRefused(f"电子凭证已过期 ({row.expires_at:%Y-%m-%d %H:%M:%S})")
    return row.psn_no


__all__ = ["LIFETIME", "TokenRefused", "holder", "issue"]
