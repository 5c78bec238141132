"""The insured person at a date (参保状态): the registry rows a settlement needs, read in one place.

``insured_at(conn, psn_no, insutype, on)`` gives a plain, JSON-ready snapshot — person, the spell of
that 险种 open on the day, the 医疗救助 identities then, the year's 缴费档次 and supplementary tiers,
whether the employer runs 企业补充医疗保险 — which the real-time service keeps with an encounter at
registration (就诊登记时的参保信息) and turns into the engine's
:class:`~yibao.settlement.model.Person` with :func:`person_of`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from yibao.errors import NotFoundError, ValidationError
from yibao.settlement.model import Person
from yibao.ids import pooling_region
from yibao.store.sql import Prepared, Result, run, run_all
from yibao.store.models import CoverageChoice, Employer, Enrollment, Filing, Identity, Person as PersonRow

P, E, I, C, EMP, F = (m.__table__ for m in (PersonRow, Enrollment, Identity, CoverageChoice, Employer, Filing))
ON, PSN = sa.bindparam("on", type_=sa.Date), sa.bindparam("psn")


def _open_on(t: sa.Table):
    """The table's spells open on ``:on`` (no end date: still open)."""
    return sa.and_(t.c.start_date <= ON, sa.or_(t.c.end_date.is_(None), t.c.end_date >= ON))


# Each statement is compiled once (the service reads the registry on every 1101, 2201 and 2401).
_BY_PSN_NO = Prepared(sa.select(P).where(P.c.psn_no == PSN))
_BY_CERTNO = Prepared(sa.select(P).where(P.c.certno == sa.bindparam("certno")))
_SPELLS = Prepared(sa.select(E, EMP.c.has_supplementary).select_from(E.outerjoin(EMP, EMP.c.emp_no == E.c.emp_no))
                   .where(E.c.psn_no == PSN, _open_on(E)).order_by(E.c.insutype))
_IDENTITIES = Prepared(sa.select(I.c.identity).where(I.c.psn_no == PSN, _open_on(I)).order_by(I.c.identity))
_CHOICE = Prepared(sa.select(C.c.tier, C.c.supplementary).where(C.c.psn_no == PSN, C.c.year == sa.bindparam("year")))
_FILINGS = Prepared(sa.select(F.c.kind, F.c.place).where(F.c.psn_no == PSN, _open_on(F)).order_by(F.c.start_date))


def _person(found: Result, who: str) -> dict[str, Any]:
    if not found.rows:
        raise NotFoundError(f"person {who!r} not found")
    return found.rows[0]


def person_row(conn: sa.Connection, *, psn_no: str | None = None, certno: str | None = None) -> dict[str, Any]:
    """The person by 人员编号 or by 证件号码; NotFoundError when there is none."""
    if psn_no is not None:
        return _person(run(conn, _BY_PSN_NO, {"psn": psn_no}), psn_no)
    return _person(run(conn, _BY_CERTNO, {"certno": certno}), certno)


def cover_on(conn: sa.Connection, psn_no: str, on: dt.date) -> tuple[list[dict[str, Any]], list[str]]:
    """The person's enrolment spells open on ``on`` (one per 险种, each with its employer's
    ``has_supplementary``: 企业补充医疗保险, None without an employer) and the 医疗救助 identities then,
    in one round trip."""
    spells, identities = run_all(conn, [(_SPELLS, {"psn": psn_no, "on": on}), (_IDENTITIES, {"psn": psn_no, "on": on})])
    return spells.rows, _identity_codes(identities)


def _identity_codes(found: Result) -> list[str]:
    return [r["identity"] for r in found.rows]


def filing_on(conn: sa.Connection, psn_no: str, place: str, on: dt.date) -> str | None:
    """The person's 异地就医备案 (``filed`` / ``referred``) in force on ``on`` for the pooling region of
    ``place``, or None."""
    region = pooling_region(place)
    rows = run(conn, _FILINGS, {"psn": psn_no, "on": on}).rows
    return next((r["kind"] for r in rows if pooling_region(r["place"]) == region), None)


def insured_at(conn: sa.Connection, psn_no: str, insutype: str | None, on: dt.date) -> dict[str, Any]:
    """The person's cover in ``insutype`` (None: the one open spell) on ``on``; a person not insured
    then is a ValidationError naming ``insutype``."""
    key = {"psn": psn_no, "on": on}
    found, spells, identities, choice = run_all(conn, [
        (_BY_PSN_NO, {"psn": psn_no}), (_SPELLS, key), (_IDENTITIES, key), (_CHOICE, {"psn": psn_no, "year": on.year})])
    person = _person(found, psn_no)
    if person["death_date"] is not None and person["death_date"] < on:
        raise ValidationError("psn_no", f"人员 {psn_no} 已于 {person['death_date']} 死亡")
    spells = [s for s in spells.rows if insutype in (None, s["insutype"])]
    if not spells:
        what = f"险种 {insutype}" if insutype else "任何险种"
        raise ValidationError("insutype", f"人员 {psn_no} 于 {on} 未参加{what}")
    spell, choice = spells[0], choice.first()
    return {
        "psn_no": psn_no, "certno": person["certno"], "name": person["name"], "sex": person["sex"],
        "birth_date": person["birth_date"].isoformat(), "admdvs": spell["admdvs"],
        "household_id": person["household_id"], "insutype": spell["insutype"], "psn_type": spell["psn_type"],
        "emp_no": spell["emp_no"], "civil_servant": bool(spell["civil_servant"]),
        "identities": _identity_codes(identities),
        "tier": int(choice["tier"]) if choice else 0,
        "supplementary": [t for t in (choice["supplementary"] or "").split("|") if t] if choice else [],
        "enterprise_supplementary": bool(spell["emp_no"] and spell["has_supplementary"]),
        "begin": spell["start_date"].isoformat(),
    }


def person_of(insured: dict[str, Any], accumulators: dict[str, int], account: int, family: int,
              filing: str | None = None) -> Person:
    """The engine's person from a snapshot, the year's accumulators and the available balances."""
    return Person(
        psn_no=insured["psn_no"], insutype=insured["insutype"], psn_type=insured["psn_type"],
        birth_date=dt.date.fromisoformat(insured["birth_date"]), identities=tuple(insured["identities"]),
        admdvs=insured["admdvs"], filing=filing, civil_servant=insured["civil_servant"],
        resident_tier=insured["tier"] or None, household_id=insured["household_id"], account_balance=account,
        family_account_balance=family, sex=insured["sex"], supplementary=tuple(insured["supplementary"]),
        enterprise_supplementary=insured["enterprise_supplementary"], accumulators=dict(accumulators))


__all__ = ["cover_on", "filing_on", "insured_at", "person_of", "person_row"]
