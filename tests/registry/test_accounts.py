"""Personal-account accrual and 家庭共济 (demo pack: 在职 2 % of the base; 退休 100 元 under 70, 110 元 from 70)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.policy import load_pack
from yibao.registry.accounts import account_accruals_for_year, family_mutual_aid, spell_accruals

D = dt.date
PACK = load_pack("demo")


def spell(spell_id, psn_no, psn_type="11", base=500_000, start=D(2024, 1, 1), end=None, emp_kind="employer",
          insutype="310"):
    return dict(spell_id=spell_id, psn_no=psn_no, insutype=insutype, psn_type=psn_type, emp_kind=emp_kind,
                start_date=start, end_date=end, contribution_base_fen=base)


PERSONS = pd.DataFrame([
    dict(psn_no="a", birth_date=D(1980, 3, 3)),
    dict(psn_no="r", birth_date=D(1954, 6, 15)),  # turns 70 in June 2024
    dict(psn_no="c", birth_date=D(1964, 9, 1)),
    dict(psn_no="f", birth_date=D(1990, 1, 1)),
    dict(psn_no="z", birth_date=D(2000, 1, 1)),
])


def by_month(out, psn):
    rows = out[out.psn_no == psn]
    return dict(zip(rows.month.tolist(), rows.amount_fen.tolist()))


def check_scalar(spells, out, pack=PACK):
    """The vectorised table equals the scalar accruals summed per person and month."""
    births = PERSONS.set_index("psn_no").birth_date
    expect: dict = {}
    for s in spells:
        for m, amount in enumerate(spell_accruals(s, births.get(s["psn_no"]), pack, 2024), start=1):
            if amount:
                expect[(s["psn_no"], m)] = expect.get((s["psn_no"], m), 0) + amount
    assert {(p, m): a for p, m, a in out.itertuples(index=False)} == expect


def test_active_share_of_base_and_floor():
    spells = [spell("s1", "a", base=500_000), spell("s2", "f", base=300_000)]
    out = account_accruals_for_year(pd.DataFrame(spells), PERSONS, PACK, 2024)
    assert by_month(out, "a") == {m: 10_000 for m in range(1, 13)}  # 5,000 × 2 %
    assert by_month(out, "f") == {m: 8_520 for m in range(1, 13)}  # floor 4,260 × 2 %
    assert list(out.columns) == ["psn_no", "month", "amount_fen"]
    check_scalar(spells, out)


def test_retiree_crosses_the_70_band_in_the_month_of_the_birthday():
    spells = [spell("s1", "r", psn_type="12", base=None)]
    out = account_accruals_for_year(pd.DataFrame(spells), PERSONS, PACK, 2024)
    assert by_month(out, "r") == {**{m: 10_000 for m in range(1, 6)}, **{m: 11_000 for m in range(6, 13)}}
    check_scalar(spells, out)


def test_retirement_mid_year_switches_from_share_to_fixed_amount():
    spells = [spell("s1", "c", base=600_000, end=D(2024, 8, 31)),
              spell("s2", "c", psn_type="12", base=None, start=D(2024, 9, 1))]
    out = account_accruals_for_year(pd.DataFrame(spells), PERSONS, PACK, 2024)
    assert by_month(out, "c") == {**{m: 12_000 for m in range(1, 9)}, **{m: 10_000 for m in range(9, 13)}}
    check_scalar(spells, out)


def test_flexible_workers_and_residents():
    spells = [spell("s1", "f", emp_kind="flexible"), spell("s2", "z", psn_type="15", base=None, insutype="390")]
    out = account_accruals_for_year(pd.DataFrame(spells), PERSONS, PACK, 2024)
    assert set(out.psn_no) == {"f"}  # residents have no account
    off = PACK.reform({"account.flexible_workers_accrue": {"2024-07-01": False}})
    out = account_accruals_for_year(pd.DataFrame(spells), PERSONS, off, 2024)
    assert sorted(by_month(out, "f")) == [1, 2, 3, 4, 5, 6]
    check_scalar(spells, out, off)


def test_share_change_in_the_pack_applies_from_its_month():
    reform = PACK.reform({"account.active_share_of_base": {"2024-04-01": 0.01}})
    spells = [spell("s1", "a")]
    out = account_accruals_for_year(pd.DataFrame(spells), PERSONS, reform, 2024)
    assert by_month(out, "a") == {**{m: 10_000 for m in range(1, 4)}, **{m: 5_000 for m in range(4, 13)}}
    check_scalar(spells, out, reform)


def test_bad_input_names_spell_and_field():
    with pytest.raises(ValidationError) as e:
        account_accruals_for_year(pd.DataFrame([spell("s9", "nobody", psn_type="12")]), PERSONS, PACK, 2024)
    assert e.value.field == "birth_date" and "s9" in str(e.value)
    with pytest.raises(ValidationError) as e:
        account_accruals_for_year(pd.DataFrame([spell("s8", "a", psn_type="15")]), PERSONS, PACK, 2024)
    assert e.value.field == "psn_type" and "s8" in str(e.value)


def test_family_mutual_aid_by_pack_and_household():
    on = D(2024, 5, 1)
    mum = {"psn_no": "m", "household_id": "h1"}
    son = {"psn_no": "s", "household_id": "h1"}
    stranger = {"psn_no": "x", "household_id": "h2"}
    ok = family_mutual_aid(PACK, on, mum, son)
    assert ok.allowed and ok.citation.ref.startswith("国办发〔2021〕14号")
    refused = family_mutual_aid(PACK, on, mum, stranger)
    assert not refused.allowed and "do not share a household" in refused.reason
    assert not family_mutual_aid(PACK, on, mum, {"psn_no": "y", "household_id": None}).allowed
    off = PACK.reform({"account.family_mutual_aid": {"2024-01-01": False}})
    no = family_mutual_aid(off, on, mum, son)
    assert not no.allowed and "does not allow" in no.reason
    assert family_mutual_aid(off, D(2023, 6, 1), mum, son).allowed  # before the reform's date


def test_no_employee_spells_gives_an_empty_table():
    out = account_accruals_for_year(pd.DataFrame([spell("s1", "z", psn_type="15", base=None, insutype="390")]),
                                    PERSONS, PACK, 2024)
    assert out.empty and list(out.columns) == ["psn_no", "month", "amount_fen"]
