"""The ledger's queries (SQLAlchemy Core on a connection in a transaction): encounters, fee lines,
positions under a row lock, append-only settlements, messages by msgid.

Only this module writes the ledger tables; :mod:`yibao.ledger.service` decides what to write. The
statements every settlement runs are :class:`~yibao.store.sql.Prepared` (compiled once, run on the
driver's cursor); an ``IN`` list is padded to a power of two so a few compiled shapes serve any count.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from yibao.errors import NotFoundError
from yibao.ledger.position import Change, Position
from yibao.store.sql import Prepared, Result, defer, run, run_all
from yibao.store.models import (
    Account,
    AccountBalance,
    Encounter,
    FeeLine,
    Institution,
    Message,
    Settlement,
    SettleList,
    YearPosition,
)

ENC, LINES, POS, SETL, MSG, INST, LIST, ACC, BAL = (
    m.__table__ for m in (Encounter, FeeLine, YearPosition, Settlement, Message, Institution, SettleList, Account,
                          AccountBalance))


def dialect_insert(conn: sa.Connection, table: sa.Table):
    """The backend's INSERT, which can skip rows whose key exists (``on_conflict_do_nothing``)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def institution(conn: sa.Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(INST).where(INST.c.fixmedins_code == code)).mappings().first()
    return dict(row) if row else None


# -- encounters and lines ---------------------------------------------------------------------------


_INSERT_ENC = Prepared(sa.insert(ENC))


def add_encounter(conn: sa.Connection, row: dict[str, Any]) -> None:
    run(conn, _INSERT_ENC, row)


_ENCOUNTER = Prepared(sa.select(ENC).where(ENC.c.mdtrt_id == sa.bindparam("id")))


def encounter(conn: sa.Connection, mdtrt_id: str) -> dict[str, Any]:
    row = run(conn, _ENCOUNTER, {"id": mdtrt_id}).first()
    if row is None:
        raise NotFoundError(f"encounter {mdtrt_id!r} not found")
    return row


def update_encounter(conn: sa.Connection, mdtrt_id: str, **values: Any) -> None:
    conn.execute(sa.update(ENC).where(ENC.c.mdtrt_id == mdtrt_id).values(**values))


_LINES = Prepared(sa.select(LINES).where(LINES.c.mdtrt_id == sa.bindparam("id"),
                                         LINES.c.status == sa.bindparam("status")
                                         ).order_by(LINES.c.fee_ocur_time, LINES.c.feedetl_sn))


def lines(conn: sa.Connection, mdtrt_id: str, status: str = "active") -> list[dict[str, Any]]:
    return run(conn, _LINES, {"id": mdtrt_id, "status": status}).rows


def encounter_with_lines(conn: sa.Connection, mdtrt_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The encounter and its active lines, read in one round trip."""
    enc, found = run_all(conn, [(_ENCOUNTER, {"id": mdtrt_id}), (_LINES, {"id": mdtrt_id, "status": "active"})])
    if not enc.rows:
        raise NotFoundError(f"encounter {mdtrt_id!r} not found")
    return enc.rows[0], found.rows


_WIDEST = 1024  # the longest IN list compiled; longer lists go in parts


def _shapes(make: Callable[[list[sa.BindParameter]], sa.Executable]) -> Callable[[int], Prepared]:
    """A statement with an ``IN`` list of ``n`` parameters ``sn0 …``, compiled once per power of two."""
    made: dict[int, Prepared] = {}

    def of(width: int) -> Prepared:
        if width not in made:
            made[width] = Prepared(make([sa.bindparam(f"sn{i}") for i in range(width)]))
        return made[width]
    return of


def _in_parts(sns: list[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """``sns`` in parts of at most ``_WIDEST``, each padded (with its last number) to a power of two."""
    for start in range(0, len(sns), _WIDEST):
        part = sns[start:start + _WIDEST]
        width = 1 << (len(part) - 1).bit_length()
        yield width, {f"sn{i}": part[min(i, len(part) - 1)] for i in range(width)}


_TAKEN = _shapes(lambda sns: sa.select(LINES.c.feedetl_sn).where(LINES.c.mdtrt_id == sa.bindparam("id"),
                                                                 LINES.c.feedetl_sn.in_(sns)))


def existing_line_numbers(conn: sa.Connection, mdtrt_id: str, sns: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for width, params in _in_parts(list(sns)):
        found.update(r["feedetl_sn"] for r in run(conn, _TAKEN(width), {"id": mdtrt_id, **params}).rows)
    return found


_INSERT_LINES = Prepared(sa.insert(LINES))


def add_lines(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    defer(conn, _INSERT_LINES, rows)


def withdraw_lines(conn: sa.Connection, mdtrt_id: str, sns: list[str] | None = None, batch: str | None = None) -> int:
    """Withdraw unsettled active lines: those numbered ``sns``, of charge batch ``batch``, or all."""
    q = sa.update(LINES).where(LINES.c.mdtrt_id == mdtrt_id, LINES.c.status == "active", LINES.c.setl_id.is_(None))
    if sns is not None:
        q = q.where(LINES.c.feedetl_sn.in_(sns))
    if batch is not None:
        q = q.where(LINES.c.chrg_bchno == batch)
    return conn.execute(q.values(status="withdrawn")).rowcount


def lines_of_message(conn: sa.Connection, msgid: str) -> list[tuple[str, str]]:
    """(mdtrt_id, feedetl_sn) of the lines a message uploaded."""
    q = sa.select(LINES.c.mdtrt_id, LINES.c.feedetl_sn).where(LINES.c.msgid == msgid)
    return [tuple(r) for r in conn.execute(q)]


def _free(sns: list[sa.BindParameter]) -> sa.Update:
    return sa.update(LINES).where(LINES.c.mdtrt_id == sa.bindparam("id"), LINES.c.feedetl_sn.in_(sns))


_FREE = _shapes(_free)
_TIE = _shapes(lambda sns: _free(sns).where(LINES.c.setl_id.is_(None)))


def mark_settled(conn: sa.Connection, mdtrt_id: str, sns: list[str], setl_id: str | None) -> int:
    """Tie lines to a settlement (or free them again with None); only lines still free are tied."""
    shape = _TIE if setl_id else _FREE
    return sum(run(conn, shape(width), {"id": mdtrt_id, "setl_id": setl_id, **params}).rowcount
               for width, params in _in_parts(sns))


def tie_lines(conn: sa.Connection, mdtrt_id: str, sns: list[str], setl_id: str, taken: Exception) -> None:
    """Tie the lines ``sns`` to a settlement with the transaction's next statement; ``taken`` is
    raised (before the commit) if any of them is no longer free."""
    for width, params in _in_parts(sns):
        defer(conn, _TIE(width), {"id": mdtrt_id, "setl_id": setl_id, **params},
              expect=len(set(params.values())), error=taken)


# -- positions ----------------------------------------------------------------------------------------


_LOCKED = Prepared(sa.select(POS).where(POS.c.psn_no == sa.bindparam("psn"), POS.c.year == sa.bindparam("year"))
                   .with_for_update())


def lock_position(conn: sa.Connection, psn_no: str, year: int, seed: Callable[[], Position]) -> tuple[Position, int]:
    """The person's position for ``year`` locked for this transaction (``FOR UPDATE``), created from
    ``seed()`` when the year has none yet; returns it with its version."""
    key = {"psn": psn_no, "year": year}
    row = run(conn, _LOCKED, key).first()
    if row is None:
        first = seed()
        conn.execute(dialect_insert(conn, POS).values(
            psn_no=psn_no, year=year, accumulators=json.dumps(dict(first.accumulators)), account_fen=first.account,
            family_fen=first.family, version=0).on_conflict_do_nothing(index_elements=["psn_no", "year"]))
        row = run(conn, _LOCKED, key).rows[0]
    return _position(row), int(row["version"])


_POSITION = Prepared(sa.select(POS).where(POS.c.psn_no == sa.bindparam("psn"), POS.c.year == sa.bindparam("year")))
_ACCOUNT = Prepared(sa.select(ACC.c.balance_fen).where(ACC.c.psn_no == sa.bindparam("psn")))
_OPENING = Prepared(sa.select(BAL.c.balance_fen).where(BAL.c.psn_no == sa.bindparam("psn"),
                                                       BAL.c.year == sa.bindparam("year")))


def position(conn: sa.Connection, psn_no: str, year: int) -> Position | None:
    row = run(conn, _POSITION, {"psn": psn_no, "year": year}).first()
    return _position(row) if row else None


def _balances(psn_no: str, year: int) -> list:
    return [(_ACCOUNT, {"psn": psn_no}), (_OPENING, {"psn": psn_no, "year": year})]


def _seed(account: Result, opening: Result) -> Position:
    bal = account.first() or opening.first()
    return Position({}, int(bal["balance_fen"] or 0) if bal else 0, 0)


def opening_seed(conn: sa.Connection, psn_no: str, year: int) -> Position:
    """A year opened on first use: the 个人账户 at its registry balance (the year's opening balance
    when the registry keeps no running account), no 家庭共济 and nothing accumulated."""
    return _seed(*run_all(conn, _balances(psn_no, year)))


def position_or_opening(conn: sa.Connection, psn_no: str, year: int) -> Position:
    """The person's position for ``year``, or the one the year would open with (one round trip)."""
    pos, account, opening = run_all(conn, [(_POSITION, {"psn": psn_no, "year": year}), *_balances(psn_no, year)])
    return _position(pos.rows[0]) if pos.rows else _seed(account, opening)


def _position(row) -> Position:
    return Position(json.loads(row["accumulators"]), int(row["account_fen"]), int(row["family_fen"]))


_PUT = Prepared(sa.update(POS).where(POS.c.psn_no == sa.bindparam("psn"), POS.c.year == sa.bindparam("yr"),
                                     POS.c.version == sa.bindparam("was")))


def put_position(conn: sa.Connection, psn_no: str, year: int, pos: Position, version: int) -> None:
    """Write the locked position back (with the transaction's next statement); the version check
    catches a writer that skipped the lock."""
    defer(conn, _PUT, {"psn": psn_no, "yr": year, "was": version, "version": version + 1,
                       "accumulators": json.dumps(dict(sorted(pos.accumulators.items()))),
                       "account_fen": pos.account, "family_fen": pos.family},
          expect=1, error=RuntimeError(f"position {psn_no}/{year} changed under its lock"))


def set_opening(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Open positions (psn_no, year, account, family) for a year not yet begun; existing ones are kept."""
    if rows:
        ins = dialect_insert(conn, POS).on_conflict_do_nothing(index_elements=["psn_no", "year"])
        conn.execute(ins, [{"psn_no": r["psn_no"], "year": r["year"], "accumulators": "{}", "version": 0,
                            "account_fen": r["account"], "family_fen": r["family"]} for r in rows])


# -- settlements --------------------------------------------------------------------------------------


_INSERT_SETL = Prepared(sa.insert(SETL))


def add_settlement(conn: sa.Connection, row: dict[str, Any]) -> None:
    defer(conn, _INSERT_SETL, row)


def settlement(conn: sa.Connection, setl_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(SETL).where(SETL.c.setl_id == setl_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"settlement {setl_id!r} not found")
    return dict(row)


def reversal_of(conn: sa.Connection, setl_id: str) -> str | None:
    return conn.execute(sa.select(SETL.c.setl_id).where(SETL.c.reverses == setl_id)).scalar()


def settlements_of(conn: sa.Connection, mdtrt_id: str) -> list[dict[str, Any]]:
    q = sa.select(SETL).where(SETL.c.mdtrt_id == mdtrt_id).order_by(SETL.c.setl_time, SETL.c.setl_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def settlements_of_person(conn: sa.Connection, psn_no: str) -> list[dict[str, Any]]:
    q = sa.select(SETL).where(SETL.c.psn_no == psn_no).order_by(SETL.c.setl_time, SETL.c.setl_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def change_of_row(row: dict[str, Any]) -> Change:
    return Change.from_dict(json.loads(row["change"]))


def totals(conn: sa.Connection, code: str, begin: datetime, end: datetime, insutype: str | None,
           clr_type: str | None) -> dict[str, int]:
    """Sums of an institution's settlements and reversals over [begin, end): amounts in fen, and the
    count of settlements net of reversals."""
    q = sa.select(sa.func.coalesce(sa.func.sum(SETL.c.medfee_sumamt_fen), 0),
                  sa.func.coalesce(sa.func.sum(SETL.c.fund_pay_sumamt_fen), 0),
                  sa.func.coalesce(sa.func.sum(SETL.c.acct_pay_fen), 0),
                  sa.func.coalesce(sa.func.sum(SETL.c.psn_cash_pay_fen), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((SETL.c.kind == "settlement", 1), else_=-1)), 0)
                  ).where(SETL.c.fixmedins_code == code, SETL.c.setl_time >= begin, SETL.c.setl_time < end)
    if insutype:
        q = q.where(SETL.c.insutype == insutype)
    if clr_type:
        q = q.where(SETL.c.clr_type == clr_type)
    m, f, a, c, n = conn.execute(q).one()
    return {"medfee_sumamt": int(m), "fund_pay_sumamt": int(f), "acct_pay": int(a), "psn_cash_pay": int(c),
            "count": int(n)}


def settlement_rows(conn: sa.Connection, code: str, begin: datetime, end: datetime) -> list[dict[str, Any]]:
    q = sa.select(SETL).where(SETL.c.fixmedins_code == code, SETL.c.setl_time >= begin, SETL.c.setl_time < end)
    return [dict(r) for r in conn.execute(q.order_by(SETL.c.setl_time, SETL.c.setl_id)).mappings()]


def add_settle_list(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Keep a 结算清单; a second one for the same settlement replaces the first (4102 修改)."""
    conn.execute(sa.delete(LIST).where(LIST.c.setl_id == row["setl_id"]))
    conn.execute(sa.insert(LIST).values(**row))


def settle_lists(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(LIST).order_by(LIST.c.setl_id)).mappings()]


# -- messages -----------------------------------------------------------------------------------------


_MESSAGE = Prepared(sa.select(MSG).where(MSG.c.msgid == sa.bindparam("id")))
_INSERT_MSG = Prepared(sa.insert(MSG))


def message(conn: sa.Connection, msgid: str) -> dict[str, Any] | None:
    return run(conn, _MESSAGE, {"id": msgid}).first()


def add_message(conn: sa.Connection, row: dict[str, Any]) -> None:
    defer(conn, _INSERT_MSG, row)


def mark_message_reversed(conn: sa.Connection, msgid: str, by: str) -> None:
    conn.execute(sa.update(MSG).where(MSG.c.msgid == msgid).values(reversed_by=by))


__all__ = [
    "dialect_insert",
    "institution",
    "add_encounter",
    "encounter",
    "update_encounter",
    "lines",
    "encounter_with_lines",
    "existing_line_numbers",
    "add_lines",
    "withdraw_lines",
    "lines_of_message",
    "mark_settled",
    "tie_lines",
    "lock_position",
    "opening_seed",
    "position",
    "position_or_opening",
    "put_position",
    "set_opening",
    "add_settlement",
    "settlement",
    "reversal_of",
    "settlements_of",
    "settlements_of_person",
    "change_of_row",
    "totals",
    "settlement_rows",
    "add_settle_list",
    "settle_lists",
    "message",
    "add_message",
    "mark_message_reversed",
]
