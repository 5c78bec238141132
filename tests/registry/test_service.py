"""The enrollment service over the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from yibao.errors import ValidationError
from yibao.ids import make_credit_code, make_id_number
from yibao.policy import load_pack
from yibao.registry.contributions import contributions_for_year
from yibao.registry.service import (
    accrue_month,
    change,
    enroll,
    pay_from_account,
    sponsor,
    terminate,
)
from yibao.store import Store, upgrade

D = dt.date
PACK = load_pack("demo")
ADM = "419900"


@pytest.fixture
def store(db_url):
    upgrade(db_url)
    s = Store(db_url)
    with s.unit() as uow:
        uow.employers.add({"emp_no": "E1", "uscc": make_credit_code(ADM, 1), "name": "示范机械厂", "admdvs": ADM})
    yield s
    s.dispose()


def person(seq, born=D(1980, 5, 17), sex="1", household=None, **extra):
    return {"certno": make_id_number(ADM, born, seq, sex), "name": f"张{seq}", "admdvs": ADM,
            "household_id": household, **extra}


def employee(start=D(2024, 1, 1), end=None, base=500_000, psn_type="11", **extra):
    return {"insutype": "310", "psn_type": psn_type, "emp_kind": "employer", "emp_no": "E1", "admdvs": ADM,
            "start_date": start, "end_date": end, "contribution_base_fen": base, **extra}


def resident(start=D(2024, 1, 1), end=None, psn_type="15"):
    return {"insutype": "390", "psn_type": psn_type, "admdvs": ADM, "start_date": start, "end_date": end}


def test_enroll_derives_birth_and_sex_and_reuses_the_person(store):
    with store.unit() as uow:
        s1 = enroll(uow, person(1, psn_no="P1"), employee(end=D(2024, 6, 30)))
        s2 = enroll(uow, person(1), resident(start=D(2024, 7, 1)))  # matched by certno
        p = uow.persons.get("P1")
        assert (p["birth_date"], p["sex"]) == (D(1980, 5, 17), "1")
        assert s1["psn_no"] == s2["psn_no"] == "P1"
        assert [s["insutype"] for s in uow.enrollments.spells_for("P1")] == ["310", "390"]


BAD_PERSONS = [
    ({"certno": "41990019800517001X"}, "certno"),  # wrong check digit
    ({"birth_date": D(1980, 5, 18)}, "birth_date"),
    ({"sex": "2"}, "sex"),
]
BAD_SPELLS = [
    ({"psn_type": "15"}, "psn_type"),
    ({"insutype": "999"}, "insutype"),
    ({"contribution_base_fen": None}, "contribution_base_fen"),
    ({"start_date": D(1970, 1, 1)}, "start_date"),  # before birth
    ({"end_date": D(2023, 1, 1)}, "end_date"),
    ({"admdvs": "99"}, "admdvs"),
    ({"emp_no": None}, "emp_no"),
    ({"psn_no": "SOMEONE-ELSE"}, "psn_no"),
]


def test_enroll_refuses_a_bad_person_or_spell_writing_nothing(store):
    cases = [(bad, {}, field) for bad, field in BAD_PERSONS] + [({}, bad, field) for bad, field in BAD_SPELLS]
    for bad_person, bad_spell, field in cases:
        with pytest.raises(ValidationError) as e, store.unit() as uow:
            enroll(uow, {**person(3), **bad_person}, {**employee(), **bad_spell})
        assert e.value.field == field, (bad_person, bad_spell)
    with store.unit() as uow:
        assert uow.persons.count() == 0  # nothing half written


def test_overlapping_spell_refused_naming_both(store):
    with store.unit() as uow:
        first = enroll(uow, person(5, psn_no="P5"), employee(start=D(2024, 1, 1), end=D(2024, 12, 31)))
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        enroll(uow, person(5), employee(start=D(2024, 6, 1), spell_id="NEW-SPELL"))
    assert first["spell_id"] in str(e.value) and "NEW-SPELL" in str(e.value)
    with store.unit() as uow:  # the other scheme at the same time is a 重复参保 case, not refused here
        enroll(uow, person(5), resident(start=D(2024, 6, 1)))
        enroll(uow, person(5), employee(start=D(2025, 1, 1)))  # touching, not overlapping
        assert len(uow.enrollments.spells_for("P5")) == 3


def test_change_ends_the_day_before_and_opens_new_terms(store):
    with store.unit() as uow:
        s = enroll(uow, person(6, psn_no="P6", born=D(1964, 3, 2)), employee(base=600_000))
        new = change(uow, s["spell_id"], D(2024, 9, 1), psn_type="12", contribution_base_fen=0)
        spells = uow.enrollments.spells_for("P6")
    assert [(x["psn_type"], x["start_date"], x["end_date"]) for x in spells] == [
        ("11", D(2024, 1, 1), D(2024, 8, 31)), ("12", D(2024, 9, 1), None)]
    assert new["emp_no"] == "E1" and new["spell_id"] != s["spell_id"]
    due = contributions_for_year(spells_frame(spells), None, PACK, 2024).iloc[0]
    assert due.employer_fen == 8 * 48_000  # 6,000 × 8 % for January–August; retired from September


def spells_frame(spells):
    import pandas as pd
    return pd.DataFrame(spells)


def test_change_refuses_bad_changes(store):
    with store.unit() as uow:
        s = enroll(uow, person(7), employee(start=D(2024, 1, 1), end=D(2024, 6, 30)))
    for on, changes, field in [
        (D(2024, 1, 1), {"psn_type": "12"}, "on"),  # not after the start
        (D(2024, 8, 1), {"psn_type": "12"}, "on"),  # after the end
        (D(2024, 3, 1), {"insutype": "390"}, "insutype"),
        (D(2024, 3, 1), {"psn_type": "15"}, "psn_type"),
    ]:
        with pytest.raises(ValidationError) as e, store.unit() as uow:
            change(uow, s["spell_id"], on, **changes)
        assert e.value.field == field and s["spell_id"] in str(e.value)
    with store.unit() as uow:
        assert uow.enrollments.get(s["spell_id"])["end_date"] == D(2024, 6, 30)  # untouched


def test_terminate(store):
    with store.unit() as uow:
        s = enroll(uow, person(8, psn_no="P8"), resident())
        t = terminate(uow, s["spell_id"], D(2024, 5, 1), "moved_out")
        assert t.spell["end_date"] == D(2024, 4, 30) and t.reason_name.startswith("转出")
        s2 = enroll(uow, person(9, psn_no="P9"), employee())
        terminate(uow, s2["spell_id"], D(2024, 3, 11), "death")
        assert uow.persons.get("P9")["death_date"] == D(2024, 3, 10)
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        terminate(uow, s["spell_id"], D(2024, 6, 1), "bored")
    assert e.value.field == "reason"
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        terminate(uow, "NOPE", D(2024, 6, 1), "other")
    assert e.value.field == "spell_id"


def test_sponsor_identity_feeds_sponsored_contributions(store):
    with store.unit() as uow:
        s = enroll(uow, person(10, psn_no="P10"), resident())
        sponsor(uow, "P10", "dibao", D(2023, 1, 1))
        sponsor(uow, "P10", "tekun", D(2024, 3, 1), D(2024, 12, 31))
        spells, ids = uow.enrollments.all_spells(), uow.identities.all()
    due = contributions_for_year(spells, ids, PACK, 2024).iloc[0]
    assert (due.sponsored_fen, due.individual_fen) == (40_000, 0)
    assert s["psn_no"] == "P10"
    for args, field in [(("P10", "rich", D(2024, 1, 1)), "identity"), (("NOBODY", "dibao", D(2024, 1, 1)), "psn_no"),
                        (("P10", "dibao", D(2024, 6, 1)), "start_date")]:
        with pytest.raises(ValidationError) as e, store.unit() as uow:
            sponsor(uow, *args)
        assert e.value.field == field


def test_accrue_month_is_idempotent_and_follows_age_bands(store):
    with store.unit() as uow:
        enroll(uow, person(11, psn_no="A1"), employee(base=500_000))
        enroll(uow, person(12, psn_no="R1", born=D(1954, 6, 15)), employee(psn_type="12", base=0))
        enroll(uow, person(13, psn_no="Z1"), resident())
        may = accrue_month(uow, PACK, 2024, 5)
        june = accrue_month(uow, PACK, 2024, 6)
        again = accrue_month(uow, PACK, 2024, 6)
        assert (may.accounts, may.total_fen) == (2, 10_000 + 10_000)
        assert (june.accounts, june.total_fen) == (2, 10_000 + 11_000)  # R1 turns 70 in June
        assert (again.accounts, again.skipped) == (0, 2)
        assert uow.accounts.balance("R1") == 21_000 and uow.accounts.balance("A1") == 20_000
        assert [e["ref"] for e in uow.accounts.entries("A1")] == ["accrual 2024-05", "accrual 2024-06"]


def test_pay_refuses_overdraft_and_uses_family_account(store):
    with store.unit() as uow:
        enroll(uow, person(14, psn_no="MUM", household="H1"), employee())
        enroll(uow, person(15, psn_no="KID", born=D(2015, 1, 1), household="H1"), resident(psn_type="1403"))
        enroll(uow, person(16, psn_no="OUT", household="H2"), employee())
        for m in (1, 2):
            accrue_month(uow, PACK, 2024, m)  # MUM and OUT hold 200 yuan each
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        pay_from_account(uow, PACK, "MUM", 20_001, D(2024, 3, 5), "S-1")
    assert e.value.field == "amount_fen" and "20000" in str(e.value)
    with store.unit() as uow:
        paid = pay_from_account(uow, PACK, "MUM", 5_000, D(2024, 3, 5), "S-2")
        assert (paid.own_fen, paid.family_fen) == (5_000, 0) and uow.accounts.balance("MUM") == 15_000
        aid = pay_from_account(uow, PACK, "KID", 3_000, D(2024, 3, 6), "S-3", family_member="MUM")
        assert (aid.own_fen, aid.family_fen, aid.family_psn_no) == (0, 3_000, "MUM")
        assert uow.accounts.entries("MUM")[-1]["kind"] == "mutual_aid"
        assert uow.accounts.entries("MUM")[-1]["counterparty"] == "KID"
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        pay_from_account(uow, PACK, "KID", 3_000, D(2024, 3, 6), "S-4", family_member="OUT")
    assert e.value.field == "family_member" and "household" in str(e.value)
    off = PACK.reform({"account.family_mutual_aid": {"2024-03-01": False}})
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        pay_from_account(uow, off, "KID", 3_000, D(2024, 3, 6), "S-5", family_member="MUM")
    assert "does not allow" in str(e.value)
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        pay_from_account(uow, PACK, "KID", 12_001, D(2024, 3, 6), "S-6", family_member="MUM")
    assert e.value.field == "amount_fen"
    with store.unit() as uow:
        assert uow.accounts.balance("MUM") == 12_000  # refused payments posted nothing
