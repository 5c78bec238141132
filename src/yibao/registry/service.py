"""Enrollment service (参保登记) over the store's unit of work: enroll, change, terminate, 资助参保
identities, and personal-account postings (accrual, payment, 家庭共济).

Every function takes the unit of work (``with Store(url).unit() as uow``) first and works only
through its repositories; the unit commits or rolls back as a whole, so a refused operation writes
nothing. Dates are ``datetime.date``; ``on`` is always the first day the new state holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from yibao import vocab
from yibao.errors import NotFoundError, ValidationError
from yibao.ids import parse_id_number, validate_admdvs
from yibao.policy import Pack
from yibao.registry.accounts import account_accruals_for_year, family_mutual_aid

ONE_DAY = dt.timedelta(days=1)

# 变更: the terms a spell change may alter (a change of scheme is a termination and a new enrollment)
CHANGEABLE = ("psn_type", "emp_kind", "emp_no", "admdvs", "contribution_base_fen", "civil_servant")

# 停保 / 终止参保 reasons
TERMINATION_REASONS = {
    "death": "死亡",
    "moved_out": "转出 (迁出统筹区)",
    "scheme_change": "转换险种",
    "stopped_paying": "停止缴费 / 断保",
    "duplicate": "重复参保清理",
    "emigrated": "出国 (境) 定居",
    "other": "其他",
}


# --- persons and spells --------------------------------------------------------------------------

def check_person(person: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a person: the ID check digit (GB 11643), and birth date and sex against the ID
    (derived from it when absent). Returns the person with birth date and sex filled in."""
    rec = f"person {person.get('psn_no') or person.get('certno')}"
    try:
        info = parse_id_number(person.get("certno"))
    except ValidationError as e:
        raise ValidationError(e.field, e.problem, record=rec) from None
    out = {**person, "certno": info.number}
    birth = out.get("birth_date")
    if birth is None:
        out["birth_date"] = info.birth_date
    elif birth != info.birth_date:
        raise ValidationError("birth_date", f"{birth} does not match the ID number's {info.birth_date}", record=rec)
    sex = out.get("sex")
    if sex is None:
        out["sex"] = info.sex
    elif str(sex) != info.sex:
        raise ValidationError("sex", f"{sex!r} does not match the ID number's {info.sex!r}", record=rec)
    return out


def spell_id_for(psn_no: str, insutype: str, start: dt.date) -> str:
    """A stable spell id from person, scheme and start (at most one such spell can exist)."""
    return "SP" + hashlib.sha1(f"{psn_no}|{insutype}|{start.isoformat()}".encode()).hexdigest()[:20].upper()


def check_spell(spell: Mapping[str, Any]) -> None:
    """Validate one spell's fields against the code sets (insutype, psn_type, emp_kind, base, dates)."""
    rec = f"spell {spell.get('spell_id')}"
    insutype = str(spell.get("insutype"))
    psn_type = str(spell.get("psn_type"))
    if insutype not in (vocab.EMPLOYEE, vocab.RESIDENT):
        raise ValidationError("insutype", f"{insutype!r} is not 310 (职工) or 390 (居民)", record=rec)
    allowed = vocab.EMPLOYEE_PSN_TYPES if insutype == vocab.EMPLOYEE else vocab.RESIDENT_PSN_TYPES
    if psn_type not in allowed:
        raise ValidationError("psn_type", f"{psn_type!r} is not a psn_type of insutype {insutype} "
                                          f"({', '.join(sorted(allowed))})", record=rec)
    if insutype == vocab.EMPLOYEE:
        if spell.get("emp_kind") not in vocab.EMP_KINDS:
            raise ValidationError("emp_kind", f"{spell.get('emp_kind')!r} is not one of {sorted(vocab.EMP_KINDS)}",
                                  record=rec)
        if spell.get("emp_kind") == "employer" and not spell.get("emp_no"):
            raise ValidationError("emp_no", "an employer's employee needs the employer", record=rec)
        base = spell.get("contribution_base_fen")
        if isinstance(base, bool) or not isinstance(base, int) or base < 0:
            raise ValidationError("contribution_base_fen", f"an employee spell needs a base ≥ 0 fen, got {base!r}",
                                  record=rec)
    try:
        validate_admdvs(spell.get("admdvs"))
    except ValidationError as e:
        raise ValidationError(e.field, e.problem, record=rec) from None
    start, end = spell.get("start_date"), spell.get("end_date")
    if not isinstance(start, dt.date):
        raise ValidationError("start_date", f"{start!r} is not a date", record=rec)
    if end is not None and end < start:
        raise ValidationError("end_date", f"{end} is before start_date {start}", record=rec)


def _overlap(uow, spell: Mapping[str, Any], ignore: str | None = None) -> None:
    """Refuse a spell overlapping another of the same person and insutype, naming both spells."""
    far = dt.date.max
    for other in uow.enrollments.spells_for(spell["psn_no"]):
        if other["spell_id"] in (spell["spell_id"], ignore) or other["insutype"] != spell["insutype"]:
            continue
        if spell["start_date"] <= (other["end_date"] or far) and other["start_date"] <= (spell["end_date"] or far):
            raise ValidationError(
                "start_date",
                f"spell {spell['spell_id']} ({spell['start_date']}–{spell['end_date'] or 'open'}) overlaps spell "
                f"{other['spell_id']} ({other['start_date']}–{other['end_date'] or 'open'}) of person "
                f"{spell['psn_no']} in insutype {spell['insutype']}",
                record=f"spell {spell['spell_id']}")


def enroll(uow, person: Mapping[str, Any], spell: Mapping[str, Any]) -> dict[str, Any]:
    """参保登记: register the person when new (matched by certno) and open a spell for them.

    ``person`` has certno, name, admdvs (psn_no, birth date, sex, household id optional); ``spell``
    the lake ``enrollments`` fields except psn_no (spell_id optional). Refuses an invalid person or
    spell, a person whose given psn_no or birth data contradict the registered record, a spell
    before birth or after death, and a spell overlapping another of the same insutype. Returns the
    stored spell.
    """
    checked = check_person(person)
    known = uow.persons.find_by_certno(checked["certno"])
    if known is None:
        known = uow.persons.add(checked)
    else:
        for key in ("psn_no", "birth_date", "sex"):
            if person.get(key) is not None and person[key] != known[key]:
                raise ValidationError(key, f"{person[key]!r} differs from the registered {known[key]!r} of "
                                           f"certno {checked['certno']}", record=f"person {known['psn_no']}")
    if spell.get("psn_no") not in (None, known["psn_no"]):
        raise ValidationError("psn_no", f"spell names {spell['psn_no']!r} but certno {checked['certno']} is "
                                        f"person {known['psn_no']!r}", record=f"spell {spell.get('spell_id')}")
    new = {"emp_no": None, "emp_kind": None, "end_date": None, "contribution_base_fen": None,
           "civil_servant": False, **spell, "psn_no": known["psn_no"]}
    new["spell_id"] = new.get("spell_id") or spell_id_for(new["psn_no"], str(new["insutype"]), new["start_date"])
    check_spell(new)
    if new["start_date"] < known["birth_date"]:
        raise ValidationError("start_date", f"{new['start_date']} is before the birth date {known['birth_date']}",
                              record=f"spell {new['spell_id']}")
    if known.get("death_date") and new["start_date"] > known["death_date"]:
        raise ValidationError("start_date", f"{new['start_date']} is after the death date {known['death_date']}",
                              record=f"spell {new['spell_id']}")
    _overlap(uow, new)
    return uow.enrollments.add(new)


def _spell(uow, spell_id: str) -> dict[str, Any]:
    try:
        return uow.enrollments.get(spell_id)
    except NotFoundError:
        raise ValidationError("spell_id", f"no spell {spell_id!r}", record=f"spell {spell_id}") from None


def _cut(spell: Mapping[str, Any], on: dt.date, what: str) -> None:
    """``on`` must fall after the spell's start and no later than the day after its end."""
    rec = f"spell {spell['spell_id']}"
    if on <= spell["start_date"]:
        raise ValidationError("on", f"{what} on {on} must be after the spell's start {spell['start_date']}", record=rec)
    if spell["end_date"] is not None and on > spell["end_date"] + ONE_DAY:
        raise ValidationError("on", f"{what} on {on} is after the spell's end {spell['end_date']}", record=rec)


def change(uow, spell_id: str, on: dt.date, **changes: Any) -> dict[str, Any]:
    """参保变更: end the spell the day before ``on`` and open a new one from ``on`` with ``changes``
    (psn_type 在职 → 退休, contribution base, employer …). Returns the new spell."""
    old = _spell(uow, spell_id)
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ValidationError(", ".join(unknown), f"cannot be changed (changeable: {', '.join(CHANGEABLE)}); a "
                                                  "change of scheme is terminate + enroll", record=f"spell {spell_id}")
    if not changes:
        raise ValidationError("changes", "nothing to change", record=f"spell {spell_id}")
    _cut(old, on, "a change")
    new = {**old, **changes, "start_date": on, "end_date": old["end_date"],
           "spell_id": spell_id_for(old["psn_no"], old["insutype"], on)}
    try:
        check_spell(new)
    except ValidationError as e:
        raise ValidationError(e.field, e.problem, record=f"change of spell {spell_id} on {on}") from None
    uow.enrollments.end(spell_id, on - ONE_DAY)
    _overlap(uow, new, ignore=spell_id)
    return uow.enrollments.add(new)


@dataclass(frozen=True)
class Termination:
    """A closed spell and why (停保)."""

    spell: dict
    reason: str
    reason_name: str


def terminate(uow, spell_id: str, on: dt.date, reason: str) -> Termination:
    """停保: end the spell so that ``on`` is its first day without cover. ``reason`` is a key of
    ``TERMINATION_REASONS``; for ``death`` the person's death date is recorded as the day before ``on``."""
    if reason not in TERMINATION_REASONS:
        raise ValidationError("reason", f"{reason!r} is not one of {', '.join(TERMINATION_REASONS)}",
                              record=f"spell {spell_id}")
    spell = _spell(uow, spell_id)
    _cut(spell, on, "a termination")
    if reason == "death":
        person = uow.persons.get(spell["psn_no"])
        if person.get("death_date") is None:
            uow.persons.set_death(spell["psn_no"], on - ONE_DAY)
    ended = uow.enrollments.end(spell_id, on - ONE_DAY)
    return Termination(ended, reason, TERMINATION_REASONS[reason])


def sponsor(uow, psn_no: str, identity: str, start: dt.date, end: dt.date | None = None) -> dict[str, Any]:
    """Record an assistance identity (特困, 低保 …) from ``start`` to ``end`` (资助参保 and 医疗救助 follow
    from it); refuses an unknown category, an unknown person or an overlapping spell of the same one."""
    rec = f"person {psn_no}"
    if identity not in vocab.IDENTITIES:
        raise ValidationError("identity", f"{identity!r} is not one of {', '.join(vocab.IDENTITIES)}", record=rec)
    if end is not None and end < start:
        raise ValidationError("end_date", f"{end} is before start_date {start}", record=rec)
    try:
        uow.persons.get(psn_no)
    except NotFoundError:
        raise ValidationError("psn_no", f"no person {psn_no!r}", record=rec) from None
    far = dt.date.max
    for other in uow.identities.for_person(psn_no):
        if other["identity"] == identity and start <= (other["end_date"] or far) and other["start_date"] <= (end or far):
            raise ValidationError("start_date", f"{identity} {start}–{end or 'open'} overlaps the recorded "
                                                f"{identity} {other['start_date']}–{other['end_date'] or 'open'}",
                                  record=rec)
    return uow.identities.add({"psn_no": psn_no, "identity": identity, "start_date": start, "end_date": end})


# --- personal accounts ---------------------------------------------------------------------------

def accrual_ref(year: int, month: int) -> str:
    return f"accrual {year}-{month:02d}"


@dataclass(frozen=True)
class AccrualRun:
    """The result of posting one month's accruals."""

    year: int
    month: int
    accounts: int
    total_fen: int
    skipped: int  # already posted for this month (a rerun posts nothing twice)


def accrue_month(uow, pack: Pack, year: int, month: int, psn_nos: list[str] | None = None) -> AccrualRun:
    """划入: post the month's accrual to every 职工医保 member's account (or those of ``psn_nos``),
    opening accounts as needed. Idempotent: an account already holding the month's accrual is skipped."""
    if not 1 <= month <= 12:
        raise ValidationError("month", f"{month} is not 1–12")
    if psn_nos is None:
        spells = uow.enrollments.all_spells()
    else:
        rows = [s for p in psn_nos for s in uow.enrollments.spells_for(p)]
        spells = pd.DataFrame(rows, columns=["spell_id", "psn_no", "insutype", "psn_type", "emp_kind", "emp_no",
                                             "admdvs", "start_date", "end_date", "contribution_base_fen",
                                             "civil_servant"])
    spells = spells[spells["insutype"] == vocab.EMPLOYEE]
    retirees = spells.loc[spells["psn_type"].isin(list(vocab.RETIRED_PSN_TYPES)), "psn_no"].unique()
    births = {p: uow.persons.get(p)["birth_date"] for p in retirees}
    persons = pd.DataFrame({"psn_no": spells["psn_no"].unique()})
    persons["birth_date"] = persons["psn_no"].map(births)
    due = account_accruals_for_year(spells, persons, pack, year)
    due = due[due["month"] == month]
    ref, posted_on = accrual_ref(year, month), dt.date(year, month, 1)
    accounts = total = skipped = 0
    for psn_no, amount in zip(due["psn_no"], due["amount_fen"]):
        uow.accounts.open(psn_no, posted_on)
        if any(e["ref"] == ref and e["kind"] == "accrual" for e in uow.accounts.entries(psn_no)):
            skipped += 1
            continue
        uow.accounts.post(psn_no, "accrual", int(amount), posted_on, ref)
        accounts, total = accounts + 1, total + int(amount)
    return AccrualRun(year, month, accounts, total, skipped)


@dataclass(frozen=True)
class AccountPayment:
    """How a personal burden was paid from accounts: the patient's own and a family member's (家庭共济)."""

    psn_no: str
    own_fen: int
    family_fen: int = 0
    family_psn_no: str | None = None
    reason: str = ""


def _balance(uow, psn_no: str) -> int:
    try:
        return uow.accounts.balance(psn_no)
    except NotFoundError:
        return 0  # no account (e.g. a resident): nothing to draw


def pay_from_account(uow, pack: Pack, psn_no: str, amount_fen: int, on: dt.date, ref: str,
                     family_member: str | None = None) -> AccountPayment:
    """Pay ``amount_fen`` of ``psn_no``'s personal burden from accounts: the patient's own first, then —
    when ``family_member`` is given, the pack allows 家庭共济 on ``on`` and they share a household —
    the family member's account for the rest. An amount beyond what the allowed accounts hold is
    refused as a whole (个人账户不得透支): nothing is posted."""
    rec = f"payment {ref} of person {psn_no}"
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError("amount_fen", f"{amount_fen!r} is not a positive number of fen", record=rec)
    own = _balance(uow, psn_no)
    if family_member is None or family_member == psn_no or amount_fen <= own:
        if amount_fen > own:
            raise ValidationError("amount_fen", f"{amount_fen} fen exceeds the account balance of {own} fen",
                                  record=rec)
        uow.accounts.post(psn_no, "payment", -amount_fen, on, ref)
        return AccountPayment(psn_no, amount_fen)
    patient, member = uow.persons.get(psn_no), uow.persons.get(family_member)
    decision = family_mutual_aid(pack, on, member, patient)
    if not decision.allowed:
        raise ValidationError("family_member", f"家庭共济 refused: {decision.reason}", record=rec)
    rest = amount_fen - own
    available = _balance(uow, family_member)
    if rest > available:
        raise ValidationError("amount_fen", f"{amount_fen} fen exceeds the balances of {own} fen (own) and "
                                            f"{available} fen ({family_member}, 家庭共济)", record=rec)
    if own:
        uow.accounts.post(psn_no, "payment", -own, on, ref)
    uow.accounts.post(family_member, "mutual_aid", -rest, on, ref, counterparty=psn_no)
    return AccountPayment(psn_no, own, rest, family_member, decision.reason)


__all__ = [
    "AccountPayment", "AccrualRun", "CHANGEABLE", "TERMINATION_REASONS", "Termination", "accrual_ref",
    "accrue_month", "change", "check_person", "check_spell", "enroll", "pay_from_account", "spell_id_for",
    "sponsor", "terminate",
]
