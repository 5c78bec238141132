"""Money in payment is rounded by the pack (``pack.rounding``): 淄博's pack truncates where the demo
rounds half up, and each engine's figure differs by that fen."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from yibao.money import Rounding
from yibao.payment.budget import BudgetRules, monthly_advances, regional_budget
from yibao.payment.capitation import CapitationRules, capitation_persons
from yibao.payment.clearing import ClearingRules, clear
from yibao.payment.dip import DipRules, dip_settle
from yibao.payment.drg.payment import DrgRules, base_rate, drg_pay
from yibao.payment.per_diem import fee_for_service
from yibao.payment.review import ReviewRules, apply_outcomes
from yibao.payment.year import YearRules


def test_every_payment_rule_takes_the_pack_rounding(params, zibo):
    for pack, rounding in ((params, Rounding.HALF_UP), (zibo, Rounding.TRUNCATE)):
        rules = YearRules.from_params(pack)
        assert {r.rounding for r in (rules.drg, rules.dip, rules.capitation, rules.budget, rules.clearing,
                                     rules.drg_review, rules.dip_review)} == {rounding}


def _both(make, params, zibo):
    """The figure of ``make(params)`` under the demo's half-up and 淄博's truncation."""
    return make(params), make(zibo)


def test_drg_payment_and_base_rate(lab, params, zibo):
    weights = lab.table(drg="A", mean_cost_fen=[100_000], weight_e4=[12_345])
    cases = lab.table(case_id=["c1"], fixmedins_code=["H1"], drg=["A"], cost_fen=[100_000])

    def pay(p):
        rules = DrgRules.from_params(p)
        rate = base_rate(cases, weights, rules, 10_007)  # 10 007 × 10 000 ÷ 12 345 = 8106.15…
        paid = lab.rows(drg_pay(cases, weights, rules, 1001, None), "case_id")["c1"]
        return rate, paid["payment_fen"]  # 12 345 × 1001 ÷ 10 000 = 1235.73…

    assert _both(pay, params, zibo) == ((8106, 1236), (8106, 1235))


def test_dip_value_and_fund_share(lab, params, zibo):
    points = lab.table(case_id=["c1"], points_e2=[12_345])

    def settle(p):
        row = lab.rows(dip_settle(points, 500_000, DipRules.from_params(p)), "case_id")["c1"]
        return row["value_fen"], row["fund_due_fen"]

    # 123.45 points × 50 fen = 6172.5 → 6173 / 6172; × 0.7 = 4321.1 → 4321 / 4320.4 → 4320
    assert _both(settle, params, zibo) == ((6173, 4321), (6172, 4320))


def test_review_by_project(lab, params, zibo):
    cases = lab.table(case_id=["c1"], review_reason=["flagged"], cost_fen=[1001], payment_fen=[None], group_fen=[5])
    outcomes = lab.table(case_id=["c1"], decision=["approved"])

    def approve(p):
        rules = dataclasses.replace(ReviewRules.from_params(p, "drg"), approved_pay_rate=Decimal("0.7"))
        return lab.rows(apply_outcomes(cases, outcomes, "DRG", "payment_fen", "group_fen", rules), "case_id")["c1"]["payment_fen"]

    assert _both(approve, params, zibo) == (701, 700)  # 1001 × 0.7 = 700.7


def test_fee_for_service_share(lab, params, zibo):
    claims = lab.table(case_id=["c1"], fixmedins_code=["H1"], cost_fen=[1001])
    none = lab.table(case_id=["paid elsewhere"])

    def ffs(p):
        r = YearRules.from_params(p).budget.rounding
        return lab.rows(fee_for_service(claims, none, "0.7", r), "fixmedins_code")["H1"]["payment_fen"]

    assert _both(ffs, params, zibo) == (701, 700)


def test_capitation(lab, params, zibo):
    contracts = lab.table(psn_no=["f50"], fixmedins_code=["H1"], sex=["2"], age=[50])

    def head(p):
        rules = dataclasses.replace(CapitationRules.from_params(p), annual_fen=12_010)
        return lab.rows(capitation_persons(contracts, rules), "psn_no")["f50"]["amount_fen"]

    assert _both(head, params, zibo) == (12_611, 12_610)  # 120.10 yuan × 1.05 = 126.105


def test_budget_and_advances(lab, params, zibo):
    alloc = lab.table(fixmedins_code=["H1"], budget_fen=[1_000_001])

    def budget(p):
        rules = BudgetRules.from_params(p)
        advances = lab.backend.to_arrow(monthly_advances(alloc, rules)).to_pylist()
        return regional_budget(1_000_010, rules), sum(a["advance_fen"] for a in advances)

    # 1 000 010 × 1.05 = 1 050 010.5; 90% of 1 000 001 = 900 000.9
    assert _both(budget, params, zibo) == ((1_050_011, 900_001), (1_050_010, 900_000))


def test_clearing_shares(lab, params, zibo):
    acc = lab.table(fixmedins_code=["A"], budget_fen=[1_000_005], due_fen=[1_000_000], advances_fen=[0])

    def cleared(p):
        row = lab.rows(clear(acc, ClearingRules.from_params(p)), "fixmedins_code")["A"]
        return row["savings_band_fen"], row["retained_fen"]

    # band 10% of 1 000 005 = 100 000.5; savings 5 kept at 50% = 2.5
    assert _both(cleared, params, zibo) == ((100_001, 3), (100_000, 2))


def test_a_truncating_pack_pays_the_year_to_the_fen_below(lake):
    """淄博's pack has the demo's payment parameters: every pool and payment it works out is the
    demo's figure or a fen or so below it, and some differ."""
    from yibao.payment.year import pay_year

    half_up, truncated = pay_year(lake, "demo"), pay_year(lake, "zibo")
    h, t = half_up["summary"].iloc[0], truncated["summary"].iloc[0]
    pools = [c for c in h.index if c.startswith("pool_")]
    assert all(0 <= h[c] - t[c] <= 2 for c in pools) and any(h[c] != t[c] for c in pools)
    assert half_up["fee_for_service"]["payment_fen"].sum() > truncated["fee_for_service"]["payment_fen"].sum()
