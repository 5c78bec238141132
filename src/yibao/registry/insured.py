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
from yibao.store.models import CoverageChoice, Employer, Enrollment, Filing, Identity, Person as PersonRow

P, E, I, C, EMP, F = (m.__table__ for m in (PersonRow, Enrollment, Identity, CoverageChoice, Employer, Filing))


def person_row(conn: sa.Connection, *, psn_no: str | None = None, certno: str | None = None) -> dict[str, Any]:
    """The person by 人员编号 or by 证件号码; NotFoundError when there is none."""
    where = P.c.psn_no == psn_no if psn_no is not None else P.c.certno == certno
    row = conn.execute(sa.select(P).where(where)).mappings().first()
    if row is None:
        raise NotFoundError(f"person {psn_no or certno!r} not found")
    return dict(row)


def spells_on(conn: sa.Connection, psn_no: str, on: dt.date) -> list[dict[str, Any]]:
    """The person's enrolment spells open on ``on`` (one per 险种)."""
    q = sa.select(E).where(E.c.psn_no == psn_no, E.c.start_date <= on,
                           sa.or_(E.c.end_date.is_(None), E.c.end_date >= on)).order_by(E.c.insutype)
    return [dict(r) for r in conn.execute(q).mappings()]


def identities_on(conn: sa.Connection, psn_no: str, on: dt.date) -> list[str]:
    q = sa.select(I.c.identity).where(I.c.psn_no == psn_no, I.c.start_date <= on,
                                      sa.or_(I.c.end_date.is_(None), I.c.end_date >= on)).order_by(I.c.identity)
    return list(conn.execute(q).scalars())


def filing_on(conn: sa.Connection, psn_no: str, place: str, on: dt.date) -> str | None:
    """The person's 异地就医备案 (``filed`` / ``referred``) in force on ``on`` for the pooling region of
    ``place``, or None."""
    q = sa.select(F.c.kind, F.c.place).where(F.c.psn_no == psn_no, F.c.start_date <= on,
                                            sa.or_(F.c.end_date.is_(None), F.c.end_date >= on)).order_by(F.c.start_date)
    region = pooling_region(place)
    return next((kind for kind, at in conn.execute(q) if pooling_region(at) == region), None)


def insured_at(conn: sa.Connection, psn_no: str, insutype: str | None, on: dt.date) -> dict[str, Any]:
    """The person's cover in ``insutype`` (None: the one open spell) on ``on``; a person not insured
    then is a ValidationError naming ``insutype``."""
    person = person_row(conn, psn_no=psn_no)
    if person["death_date"] is not None and person["death_date"] < on:
        raise ValidationError("psn_no", f"人员 {psn_no} 已于 {person['death_date']} 死亡")
    spells = [s for s in spells_on(conn, psn_no, on) if insutype in (None, s["insutype"])]
    if not spells:
        what = f"险种 {insutype}" if insutype else "任何险种"
        raise ValidationError("insutype", f"人员 {psn_no} 于 {on} 未参加{what}")
    spell = spells[0]
    choice = conn.execute(sa.select(C.c.tier, C.c.supplementary).where(C.c.psn_no == psn_no, C.c.year == on.year)
                          ).mappings().first()
    enterprise = False
    if spell["emp_no"]:
        enterprise = bool(conn.execute(sa.select(EMP.c.has_supplementary).where(EMP.c.emp_no == spell["emp_no"])
                                       ).scalar())
    return {
        "psn_no": psn_no, "certno": person["certno"], "name": person["name"], "sex": person["sex"],
        "birth_date": person["birth_date"].isoformat(), "admdvs": spell["admdvs"],
        "household_id": person["household_id"], "insutype": spell["insutype"], "psn_type": spell["psn_type"],
        "emp_no": spell["emp_no"], "civil_servant": bool(spell["civil_servant"]),
        "identities": identities_on(conn, psn_no, on),
        "tier": int(choice["tier"]) if choice else 0,
        "supplementary": [t for t in (choice["supplementary"] or "").split("|") if t] if choice else [],
        "enterprise_supplementary": enterprise, "begin": spell["start_date"].isoformat(),
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


__all__ = ["filing_on", "identities_on", "insured_at", "person_of", "person_row", "spells_on"]
