"""The transaction table {infno: handler} that each domain fills with its endpoints.

A handler takes a :class:`Call` — the connection (inside the message's transaction), the region
it settles with, the calling institution, the parsed envelope and input, the time received — and
returns its output values (``{node: record or [records]}``, amounts in fen) for
:func:`yibao.api.fields.render_output`. Domain errors carry the input field at fault; the
dispatcher turns them into ``infcode -1``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

import sqlalchemy as sa


@dataclass
class Call:
    conn: sa.Connection
    region: Any  # yibao.ledger.service.Region
    inst: dict[str, Any]
    header: dict[str, Any]
    input: dict[str, Any]
    now: dt.datetime

    @property
    def msgid(self) -> str:
        return self.header["msgid"]

    @property
    def infno(self) -> str:
        return self.header["infno"]


Handler = Callable[[Call], dict]
TRANSACTIONS: dict[str, Handler] = {}


def transaction(*infnos: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``infnos``."""
    def register(fn: Handler) -> Handler:
        for infno in infnos:
            if infno in TRANSACTIONS:
                raise RuntimeError(f"transaction {infno} registered twice")
            TRANSACTIONS[infno] = fn
        return fn
    return register


@cache
def handlers() -> dict[str, Handler]:
    """The table, with every domain's endpoints imported."""
    import yibao.api.session  # noqa: F401 - 9001/9002, 9101/9102
    import yibao.api.review  # noqa: F401 - 3101/3102
    import yibao.ledger.endpoints  # noqa: F401 - 22xx, 23xx, 24xx, 2601, 3201/3202, 4101
    import yibao.registry.endpoints  # noqa: F401 - 1101

    return dict(TRANSACTIONS)


@cache
def _labels(infno: str) -> dict[str, str]:
    from yibao.api.fields import transaction_spec

    spec = transaction_spec(infno)
    out: dict[str, str] = {}
    for section in spec["input"] + spec["output"]:
        for f in section["fields"]:
            out.setdefault(f["code"], f"{f['code']}({f['name']})")
    return out


def label(infno: str, code: str) -> str:
    """``code(名称)`` of a field of the transaction, or the code alone."""
    from yibao.api.errors import InterfaceError

    try:
        return _labels(infno).get(code, code)
    except InterfaceError:  # an unknown infno has no labels
        return code


__all__ = ["Call", "Handler", "TRANSACTIONS", "handlers", "label", "transaction"]
