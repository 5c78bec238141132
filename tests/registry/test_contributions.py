"""Contributions by hand on small cases (demo pack, 2024: average wage 7,100 yuan → base floor 4,260,
ceiling 21,300; employer 8 %, employee 2 %, flexible 10 %; residents 400 + 670 subsidy)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibao.errors import PolicyError, ValidationError
from yibao.lake.schema import TABLES
from yibao.policy import Pack, available_packs, load_pack
from yibao.registry.contributions import (
    contributions_for_year,
    contributions_table,
    due_totals,
    person_contributions,
    persons_behind,
    spell_contribution,
    spell_contributions,
    subsidy_ratio_check,
)

D = dt.date
PACK = load_pack("demo")


def spell(spell_id="s1", psn_no="p1", insutype="310", psn_type="11", emp_kind="employer", start=D(2024, 1, 1),
          end=None, base=500_000):
    return dict(spell_id=spell_id, psn_no=psn_no, insutype=insutype, psn_type=psn_type,
                emp_kind=emp_kind if insutype == "310" else None, start_date=start, end_date=end,
                contribution_base_fen=base if insutype == "310" else None)


def ident(psn_no, identity, start=D(2020, 1, 1), end=None):
    return dict(psn_no=psn_no, identity=identity, start_date=start, end_date=end)


def one(spells, identities=(), pack=PACK, year=2024):
    """The vectorised row of the first spell, checked against the scalar function."""
    df = spell_contributions(pd.DataFrame(spells), pd.DataFrame(list(identities), columns=list(ident("x", "x"))),
                             pack, year)
    row = df.iloc[0]
    scalar = spell_contribution(spells[0], list(identities), pack, year)
    assert (row.employer_fen, row.individual_fen, row.subsidy_fen, row.sponsored_fen) == (
        scalar.employer_fen, scalar.individual_fen, scalar.subsidy_fen, scalar.sponsored_fen)
    return row


def test_base_inside_the_band():
    row = one([spell(base=500_000)])
    assert (row.employer_fen, row.individual_fen, row.months) == (12 * 40_000, 12 * 10_000, 12)


def test_base_below_floor_is_raised_to_60_percent_of_average_wage():
    row = one([spell(base=300_000)])
    assert row.employer_fen == 12 * 34_080  # 4,260.00 × 8 %
    assert row.individual_fen == 12 * 8_520  # 4,260.00 × 2 %


def test_base_above_ceiling_is_cut_to_300_percent():
    row = one([spell(base=3_000_000)])
    assert (row.employer_fen, row.individual_fen) == (12 * 170_400, 12 * 42_600)


def test_flexible_worker_pays_both_shares_alone():
    row = one([spell(emp_kind="flexible", base=500_000)])
    assert (row.employer_fen, row.individual_fen) == (0, 12 * 50_000)


def test_retiree_pays_nothing():
    row = one([spell(psn_type="12", base=500_000)])
    assert (row.employer_fen, row.individual_fen, row.months) == (0, 0, 12)


def test_mid_year_start_owes_from_its_month_and_mid_month_end_stops_before_it():
    row = one([spell(start=D(2024, 3, 15), base=500_000)])
    assert (row.months, row.employer_fen) == (10, 10 * 40_000)
    row = one([spell(start=D(2024, 1, 1), end=D(2024, 6, 20), base=500_000)])
    assert (row.months, row.individual_fen) == (5, 5 * 10_000)
    row = one([spell(start=D(2024, 1, 1), end=D(2024, 6, 30), base=500_000)])
    assert row.months == 6


def test_rate_change_inside_the_year_applies_from_its_month():
    reform = PACK.reform({"contribution.employee.employer_rate": {"2024-07-01": 0.07}})
    row = one([spell(base=500_000)], pack=reform)
    assert row.employer_fen == 6 * 40_000 + 6 * 35_000
    # a change dated inside a month applies from the next month (parameters on each month's 1st)
    reform = PACK.reform({"contribution.employee.employer_rate": {"2024-07-15": 0.07}})
    assert one([spell(base=500_000)], pack=reform).employer_fen == 7 * 40_000 + 5 * 35_000


def test_average_wage_of_each_year_sets_the_floor():
    row = one([spell(start=D(2023, 1, 1), base=100_000)], year=2023)
    assert row.individual_fen == 12 * 8_160  # 6,800 × 60 % = 4,080.00 × 2 %


def test_rounding_half_up_or_truncate_from_the_pack():
    # 4,260.25 yuan × 2 % = 85.205 yuan
    assert one([spell(base=426_025)]).individual_fen == 12 * 8_521
    truncating = Pack("trunc", {**PACK.meta, "rounding": "truncate"}, PACK.params)
    assert one([spell(base=426_025)], pack=truncating).individual_fen == 12 * 8_520


def test_resident_fee_and_subsidy():
    row = one([spell(insutype="390", psn_type="15")])
    assert (row.individual_fen, row.subsidy_fen, row.sponsored_fen, row.employer_fen) == (40_000, 67_000, 0, 0)


def test_sponsored_by_identity_takes_the_highest_share():
    s = [spell(psn_no="p9", insutype="390", psn_type="16")]
    row = one(s, [ident("p9", "dibao")])
    assert (row.sponsored_fen, row.individual_fen) == (28_000, 12_000)  # 70 % of 400
    row = one(s, [ident("p9", "dibao"), ident("p9", "tekun"), ident("p9", "fanpin")])
    assert (row.sponsored_fen, row.individual_fen) == (40_000, 0)  # 特困 100 %
    # an identity that ended before the year, one of another person, and one without a share do not count
    row = one(s, [ident("p9", "tekun", D(2020, 1, 1), D(2023, 12, 31)), ident("p8", "tekun"),
                  ident("p9", "illness_poor")])
    assert row.sponsored_fen == 0


def test_residents_ratio_check_passes_and_fails():
    ok = subsidy_ratio_check(PACK, 2024)
    assert ok.ok and ok.ratio == Decimal("1.675") and ok.fiscal_subsidy_fen == 67_000
    assert ok.citations[2].ref.startswith("淄博")
    over = subsidy_ratio_check(PACK.reform({"contribution.resident.fiscal_subsidy": {"2024-01-01": 900}}), 2024)
    assert not over.ok and over.ratio == Decimal("2.25")
    assert "exceeds" in over.message and "900.00" in over.message


def test_year_table_one_row_per_person_and_scheme():
    spells = [
        spell("a1", "p1", base=500_000, start=D(2024, 1, 1), end=D(2024, 4, 30)),
        spell("a2", "p1", base=600_000, start=D(2024, 5, 1)),  # a change of base in May
        spell("b1", "p2", insutype="390", psn_type="1403", start=D(2024, 1, 1), end=D(2024, 8, 31)),
        spell("b2", "p2", insutype="390", psn_type="15", start=D(2024, 9, 1)),  # same year: fee once
        spell("c1", "p3", insutype="390", psn_type="15", start=D(2022, 1, 1), end=D(2023, 12, 31)),  # not 2024
    ]
    out = contributions_for_year(pd.DataFrame(spells), None, PACK, 2024)
    assert list(out.columns) == TABLES["contributions"].names
    assert out.psn_no.tolist() == ["p1", "p2"]
    p1 = out.iloc[0]
    assert p1.employer_fen == 4 * 40_000 + 8 * 48_000
    assert out.iloc[1].individual_fen == 40_000
    table = contributions_table(out)
    assert table.schema == TABLES["contributions"]
    totals = due_totals(out).set_index("insutype")
    assert totals.loc["390", "total_fen"] == 107_000 and totals.loc["310", "persons"] == 1


def test_only_one_scheme_or_none_at_all():
    res = contributions_for_year(pd.DataFrame([spell(insutype="390", psn_type="15")]), None, PACK, 2024)
    assert res.insutype.tolist() == ["390"]
    emp = contributions_for_year(pd.DataFrame([spell()]), None, PACK, 2024)
    assert emp.insutype.tolist() == ["310"]
    none = contributions_for_year(pd.DataFrame([spell(start=D(2020, 1, 1), end=D(2020, 12, 31))]), None, PACK, 2024)
    assert none.empty and list(none.columns) == TABLES["contributions"].names
    empty = contributions_for_year(pd.DataFrame(columns=list(spell())), None, PACK, 2024)
    assert empty.empty


def test_accepts_an_arrow_table():
    t = pa.Table.from_pylist([spell()], schema=TABLES["enrollments"].remove(
        TABLES["enrollments"].get_field_index("civil_servant")).remove(TABLES["enrollments"].get_field_index("emp_no")))
    assert spell_contributions(t, None, PACK, 2024).employer_fen.tolist() == [12 * 40_000]


@pytest.mark.parametrize("change, field", [
    ({"insutype": "999"}, "insutype"),
    ({"contribution_base_fen": None}, "contribution_base_fen"),
    ({"contribution_base_fen": -5}, "contribution_base_fen"),
    ({"end_date": D(2023, 1, 1)}, "end_date"),
    ({"emp_kind": "freelance"}, "emp_kind"),
])
def test_bad_spells_are_refused_naming_spell_and_field(change, field):
    bad = {**spell("bad-7"), **change}
    with pytest.raises(ValidationError) as e:
        spell_contributions(pd.DataFrame([spell("ok-1"), bad]), None, PACK, 2024)
    assert e.value.field == field and "bad-7" in str(e.value)
    with pytest.raises(ValidationError) as e:
        spell_contribution(bad, [], PACK, 2024)
    assert e.value.field == field and "bad-7" in str(e.value)


def test_missing_column_is_named():
    with pytest.raises(ValidationError, match="contribution_base_fen"):
        spell_contributions(pd.DataFrame([spell()]).drop(columns="contribution_base_fen"), None, PACK, 2024)


# --- the vectorised engine equals the scalar function ---------------------------------------------

REFORM = PACK.reform({"contribution.employee.employer_rate": {"2024-07-01": 0.075},
                      "contribution.employee.average_wage": {"2024-10-01": 7500}})
DAYS = st.integers(0, 3 * 366).map(lambda n: D(2023, 1, 1) + dt.timedelta(days=n))


@st.composite
def spells_and_identities(draw):
    n = draw(st.integers(1, 12))
    spells, idents = [], []
    for i in range(n):
        start = draw(DAYS)
        end = draw(st.one_of(st.none(), st.integers(0, 500).map(lambda d: start + dt.timedelta(days=d))))
        insutype = draw(st.sampled_from(["310", "390"]))
        psn = f"p{draw(st.integers(0, 4))}"
        spells.append(spell(f"s{i}", psn, insutype,
                            draw(st.sampled_from(["11", "12", "13"] if insutype == "310" else ["15", "16", "1403"])),
                            draw(st.sampled_from(["employer", "flexible"])), start, end,
                            draw(st.integers(0, 4_000_000))))
    for _ in range(draw(st.integers(0, 5))):
        start = draw(DAYS)
        idents.append(ident(f"p{draw(st.integers(0, 4))}", draw(st.sampled_from(sorted(
            ["tekun", "dibao", "fanpin", "dibao_edge", "disabled", "monitored", "illness_poor"]))), start,
            draw(st.one_of(st.none(), st.just(start + dt.timedelta(days=200))))))
    return spells, idents


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spells_and_identities(), st.sampled_from([2023, 2024, 2025]))
def test_vectorised_equals_scalar(data, year):
    spells, idents = data
    pack = REFORM
    frame = spell_contributions(pd.DataFrame(spells), pd.DataFrame(idents, columns=list(ident("x", "x"))),
                                pack, year).set_index("spell_id")
    for s in spells:
        c = spell_contribution(s, idents, pack, year)
        owes = c.months > 0
        assert (s["spell_id"] in frame.index) == owes
        if owes:
            r = frame.loc[s["spell_id"]]
            assert (r.employer_fen, r.individual_fen, r.subsidy_fen, r.sponsored_fen, r.months) == (
                c.employer_fen, c.individual_fen, c.subsidy_fen, c.sponsored_fen, c.months)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spells_and_identities(), st.sampled_from([2023, 2024, 2025]))
def test_year_table_equals_the_scalar_per_person(data, year):
    spells, idents = data
    table = contributions_for_year(pd.DataFrame(spells), pd.DataFrame(idents, columns=list(ident("x", "x"))),
                                   REFORM, year)
    expect = []
    for psn in dict.fromkeys(s["psn_no"] for s in spells):  # persons in input order
        expect += person_contributions([s for s in spells if s["psn_no"] == psn], idents, REFORM, year)
    assert table.to_dict("records") == expect


@pytest.mark.parametrize("name", available_packs())
def test_every_shipped_pack_prices_contributions(name):
    pack = load_pack(name)
    out = contributions_for_year(pd.DataFrame([spell(), spell("r", "p2", "390", "15")]), None, pack, 2024)
    assert out.employer_fen.iloc[0] > 0 and out.subsidy_fen.iloc[1] > 0
    assert subsidy_ratio_check(pack, 2024).max_ratio > 0


def test_year_before_the_pack_names_the_parameter():
    with pytest.raises(PolicyError, match="contribution.employee.* on 2021-01-01"):
        contributions_for_year(pd.DataFrame([spell(start=D(2020, 1, 1))]), None, PACK, 2021)


def test_persons_behind_the_rows_explain_persons_owing_in_both_schemes():
    """Rows count persons once per scheme: a switch, concurrent enrolment and persons owing nothing, told apart."""
    spells = pd.DataFrame([
        spell("a1", "switch", end=D(2024, 6, 15)), spell("a2", "switch", "390", "15", start=D(2024, 6, 16)),
        spell("b1", "twice"), spell("b2", "twice", "390", "15", start=D(2023, 1, 1)),
        spell("c1", "resident", "390", "15", start=D(2020, 1, 1)),
        spell("d1", "left_in_january", start=D(2020, 1, 1), end=D(2024, 1, 10)),
        spell("e1", "gone_before", start=D(2020, 1, 1), end=D(2023, 12, 31)),
    ])
    due = contributions_for_year(spells, None, PACK, 2024)
    behind = persons_behind(due, spells, 2024)
    assert (behind.rows, behind.enrolled, behind.owing, behind.switched, behind.concurrent) == (5, 4, 3, 1, 1)
    assert due_totals(due)["persons"].sum() == 5  # what the per-scheme columns add up to
    assert behind.message == (
        "5 rows for 3 persons owing (of 4 enrolled during 2024): 2 owe in both 310 and 390 — 1 switched scheme "
        "during the year, 1 were enrolled in both at once (重复参保: see `yibao registry duplicates`); 1 owe "
        "nothing (in force on no month's last day, or retirees exempt)")
    only = spells[spells["psn_no"] == "resident"]
    assert persons_behind(contributions_for_year(only, None, PACK, 2024), only, 2024).message == (
        "1 rows for 1 persons owing (of 1 enrolled during 2024)")
