"""Global budget, advances and annual clearing: edge cases around the bands, on both backends."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.errors import PolicyError, ValidationError
from yibao.payment.budget import BudgetRules, allocate, monthly_advances, regional_budget, split_exact, split_pools
from yibao.payment.clearing import ClearingRules, clear, render_statement


@pytest.fixture(scope="module")
def budget_rules(params):
    return BudgetRules.from_params(params)


@pytest.fixture(scope="module")
def clearing_rules(params):
    return ClearingRules.from_params(params)


def test_pools_split_exactly(budget_rules):
    # 2024 shares 0.75 / 0.06 / 0.08 / 0.11 of 1 000 000 001 fen: 750000000.75, 60000000.06, 80000000.08,
    # 110000000.11 → floors leave 1 fen, which goes to the largest remainder (drg_dip, .75)
    pools = split_pools(1_000_000_001, budget_rules)
    assert pools == {"drg_dip": 750_000_001, "per_diem": 60_000_000, "capitation": 80_000_000, "other": 110_000_000}
    assert regional_budget(1_000_000, budget_rules) == 1_050_000  # +5%


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 10**12), weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=8))
def test_split_always_adds_up(total, weights):
    if sum(weights) == 0:
        with pytest.raises(ValidationError):
            split_exact(total, dict(enumerate(map(str, weights))))
        return
    parts = split_exact(total, {str(i): w for i, w in enumerate(weights)})
    assert sum(parts.values()) == total
    for i, w in enumerate(weights):  # each part within one fen of its exact share
        assert abs(parts[str(i)] * sum(weights) - total * w) < sum(weights)


def test_pool_shares_must_add_up(params, budget_rules):
    bad = params.pack.reform({"payment.budget.pools": {"2024-01-01": {"drg_dip": 0.7, "per_diem": 0.1,
                                                                      "capitation": 0.1, "other": 0.2}}})
    with pytest.raises(PolicyError, match="add up to 1.1"):
        BudgetRules.from_params(bad.at(params.date))


def test_allocation_by_history_share_and_advances(lab, budget_rules):
    # history 300 : 100 : 600 (H1 twice) of a 1 000 001 fen pool → 300000.3, 100000.1, 600000.6 → +1 to H3
    hist = lab.table(fixmedins_code=["H1", "H1", "H2", "H3"], cost_fen=[100, 200, 100, 600])
    alloc = allocate(1_000_001, hist)
    got = lab.rows(alloc, "fixmedins_code")
    assert {k: v["budget_fen"] for k, v in got.items()} == {"H1": 300_000, "H2": 100_000, "H3": 600_001}
    adv = lab.backend.to_arrow(monthly_advances(alloc, budget_rules)).to_pylist()
    h3 = [r["advance_fen"] for r in adv if r["fixmedins_code"] == "H3"]
    # 90% of 600001 = 540000.9 → 540001; 540001 // 12 = 45000 for months 1–11, month 12 = 540001 − 495000 = 45001
    assert h3 == [45000] * 11 + [45001]
    assert sum(r["advance_fen"] for r in adv if r["fixmedins_code"] == "H1") == 270_000


def test_clearing_bands(lab, clearing_rules):
    # budget 1 000 000 fen each; bands 10% = 100 000; savings kept 50%, in-band overrun shared 50%
    acc = lab.table(
        fixmedins_code=["A", "B", "C", "D", "E", "F"],
        budget_fen=[1_000_000] * 6,
        due_fen=[800_000, 900_000, 1_000_000, 1_100_000, 1_300_000, 950_000],
        advances_fen=[900_000] * 6,
    )
    s = lab.rows(clear(acc, clearing_rules), "fixmedins_code")
    # A: savings 200 000 beyond the band → only 100 000 counts → retained 50 000; settled 850 000
    assert (s["A"]["outcome"], s["A"]["retained_fen"], s["A"]["settled_fen"], s["A"]["balance_fen"]) == (
        "savings", 50_000, 850_000, -50_000)
    # B: savings exactly on the band edge (100 000) → retained 50 000; settled 950 000
    assert (s["B"]["savings_fen"], s["B"]["retained_fen"], s["B"]["settled_fen"]) == (100_000, 50_000, 950_000)
    # C: on budget → nothing retained or shared
    assert (s["C"]["outcome"], s["C"]["retained_fen"], s["C"]["shared_fen"], s["C"]["settled_fen"]) == (
        "on budget", 0, 0, 1_000_000)
    # D: overrun exactly on the band edge (100 000) → fund shares 50 000; institution bears 50 000
    assert (s["D"]["outcome"], s["D"]["shared_fen"], s["D"]["borne_fen"], s["D"]["settled_fen"]) == (
        "overrun", 50_000, 50_000, 1_050_000)
    # E: overrun 300 000 beyond the band → fund shares 50% of 100 000 only; institution bears 250 000
    assert (s["E"]["shared_fen"], s["E"]["borne_fen"], s["E"]["settled_fen"], s["E"]["balance_fen"]) == (
        50_000, 250_000, 1_050_000, 150_000)
    # F: savings 50 000 inside the band → retained 25 000
    assert (s["F"]["retained_fen"], s["F"]["settled_fen"]) == (25_000, 975_000)
    text = render_statement(s["E"], "示范市", 2024)
    assert "合理超支区间 overrun band" in text and "2500.00" in text and "1500.00" in text  # yuan


def test_clearing_rounds_band_shares_once(lab, clearing_rules):
    # budget 1 000 005: band = 100 000.5 → 100 001; savings 100 001 → ×0.5 = 50 000.5 → 50 001
    acc = lab.table(fixmedins_code=["A"], budget_fen=[1_000_005], due_fen=[900_004], advances_fen=[0])
    s = lab.rows(clear(acc, clearing_rules), "fixmedins_code")["A"]
    assert (s["savings_band_fen"], s["retained_fen"], s["settled_fen"]) == (100_001, 50_001, 950_005)


def test_clearing_needs_its_columns(lab, clearing_rules):
    with pytest.raises(ValidationError, match="advances_fen: missing column"):
        clear(lab.table(fixmedins_code=["A"], budget_fen=[1], due_fen=[1]), clearing_rules)


def test_clearing_rules_from_pack(clearing_rules):
    assert clearing_rules.savings_band == Decimal("0.10") and clearing_rules.overrun_fund_share == Decimal("0.5")
