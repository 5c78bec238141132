"""DRG payment on small tables computed by hand, on DuckDB and on Spark."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from yibao.errors import ValidationError
from yibao.payment.drg.payment import DrgRules, base_rate, drg_institutions, drg_pay, drg_weights


@pytest.fixture(scope="module")
def rules(params):
    return DrgRules.from_params(params)


def test_rules_come_from_the_pack(rules):
    assert rules.trim_rule == "sd" and rules.sd_multiple == 3
    assert rules.high_multiple == 3 and rules.low_multiple == Decimal("0.4")
    assert rules.review_cost_multiple == 5 and rules.review_los_days == 60


def test_weights_without_trimming(lab, rules):
    # A: 10000, 20000, 30000 → mean 20000; B: 60000 × 2 → mean 60000
    # overall: 180000 / 5 = 36000; RW_A = 20000/36000 = 0.55556 → 5556; RW_B = 1.66667 → 16667
    hist = lab.table(case_id=list("abcde"), drg=["A", "A", "A", "B", "B"], cost_fen=[10000, 20000, 30000, 60000, 60000])
    w = lab.rows(drg_weights(hist, dataclasses.replace(rules, trim_rule="none")), "drg")
    assert w["A"]["weight_e4"] == 5556 and w["A"]["mean_cost_fen"] == 20000 and w["A"]["cases"] == 3
    assert w["B"]["weight_e4"] == 16667 and w["B"]["mean_cost_fen"] == 60000


def test_weights_trim_beyond_three_sd(lab, rules):
    # A: 19 × 1000 and one 100000: mean 5950, sample var = (19·4950² + 94050²)/19 = 490 050 000,
    # sd ≈ 22137, mean + 3 sd ≈ 72361 < 100000 → trimmed; kept mean 1000.
    # B: 5 × 3000 (sd 0, kept). Kept total 34000 over 24 cases:
    # RW_A = 10000·19000·24 / (19·34000) = 7058.8 → 7059; RW_B = 10000·15000·24 / (5·34000) = 21176.5 → 21176
    costs = [1000] * 19 + [100000] + [3000] * 5
    hist = lab.table(case_id=[f"c{i}" for i in range(25)], drg=["A"] * 20 + ["B"] * 5, cost_fen=costs)
    w = lab.rows(drg_weights(hist, rules), "drg")
    assert (w["A"]["cases"], w["A"]["kept"], w["A"]["mean_cost_fen"], w["A"]["weight_e4"]) == (20, 19, 1000, 7059)
    assert (w["B"]["kept"], w["B"]["weight_e4"]) == (5, 21176)


def test_weights_trim_by_percentile(lab, rules):
    # 40 cases costing 100..4000: floor(0.025·40) = 1 dropped at each end → kept 200..3900, mean 2050
    hist = lab.table(case_id=[f"c{i}" for i in range(40)], drg=["A"] * 40, cost_fen=[100 * (i + 1) for i in range(40)])
    w = lab.rows(drg_weights(hist, dataclasses.replace(rules, trim_rule="percentile")), "drg")
    assert (w["A"]["kept"], w["A"]["mean_cost_fen"], w["A"]["weight_e4"]) == (38, 2050, 10000)


def test_small_groups_are_not_trimmed(lab, rules):
    # 4 cases < min_cases 5: the 1000000 case stays in the mean (1000+1000+1000+1000000)/4 = 250750
    hist = lab.table(case_id=list("abcd"), drg=["A"] * 4, cost_fen=[1000, 1000, 1000, 1000000])
    w = lab.rows(drg_weights(hist, rules), "drg")
    assert (w["A"]["kept"], w["A"]["mean_cost_fen"]) == (4, 250750)


@pytest.fixture(scope="module")
def year(lab, rules):
    hist = lab.table(case_id=list("abcde"), drg=["A", "A", "A", "B", "B"], cost_fen=[10000, 20000, 30000, 60000, 60000])
    weights = drg_weights(hist, dataclasses.replace(rules, trim_rule="none"))
    cases = lab.table(
        case_id=["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"],
        fixmedins_code=["H1", "H1", "H2", "H2", "H1", "H2", "H2", "H2"],
        drg=["A", "A", "A", "B", "B", "A", "ZZ99", None],
        cost_fen=[20000, 70000, 5000, 60000, 310000, 20000, 10000, 10000],
        los=[5, 6, 1, 7, 30, 61, 4, 3],
        status=["ok", "ok", "ok", "ok", "ok", "ok", "ok", "0000"],
    )
    return cases, weights


def test_base_rate_is_budget_over_total_weight(lab, rules, year):
    cases, weights = year
    # payable: c1..c4 with weights 5556·3 + 16667 = 33335; budget 120006 → 120006·10000/33335 = 36000
    assert base_rate(cases, weights, rules, 120006) == 36000


def test_case_payments(lab, rules, year):
    cases, weights = year
    paid = lab.rows(drg_pay(cases, weights, rules, 36000), "case_id")
    # standard A = 5556·36000/10000 = 20001.6 → 20002; B = 16667·3.6 = 60001.2 → 60001
    assert (paid["c1"]["kind"], paid["c1"]["payment_fen"]) == ("normal", 20002)
    # c2: 70000 > 3 × 20000 → high: 20002 + (70000 − 60000) × 0.9 = 29002
    assert (paid["c2"]["kind"], paid["c2"]["high_threshold_fen"], paid["c2"]["payment_fen"]) == ("high", 60000, 29002)
    # c3: 5000 < 0.4 × 20000 = 8000 → low: min(5000 × 1.0, 20002) = 5000
    assert (paid["c3"]["kind"], paid["c3"]["low_threshold_fen"], paid["c3"]["payment_fen"]) == ("low", 8000, 5000)
    assert (paid["c4"]["kind"], paid["c4"]["payment_fen"], paid["c4"]["weight_e4"]) == ("normal", 60001, 16667)
    # 特病单议: c5 310000 > 5 × 60000; c6 LOS 61 > 60; c7 no weight; c8 ungroupable
    assert {c: paid[c]["review_reason"] for c in ("c5", "c6", "c7", "c8")} == {
        "c5": "cost above the review multiple", "c6": "stay above the review LOS",
        "c7": "no weight for the group", "c8": "ungroupable"}
    assert all(paid[c]["kind"] == "review" and paid[c]["payment_fen"] is None for c in ("c5", "c6", "c7", "c8"))
    assert paid["c1"]["base_rate_fen"] == 36000


def test_review_flag_sets_a_case_aside(lab, rules, year):
    _, weights = year
    cases = lab.table(case_id=["x"], fixmedins_code=["H1"], drg=["A"], cost_fen=[20000], review=[True])
    paid = lab.rows(drg_pay(cases, weights, rules, 36000), "case_id")
    assert (paid["x"]["kind"], paid["x"]["review_reason"]) == ("review", "flagged for review")


def test_institution_results(lab, rules, year):
    cases, weights = year
    inst = lab.rows(drg_institutions(drg_pay(cases, weights, rules, 36000)), "fixmedins_code")
    # H1: c1 + c2 payable (weights 5556·2, CMI 5556), payment 20002 + 29002, cost 90000; c5 in review
    h1 = inst["H1"]
    assert (h1["cases"], h1["paid_cases"], h1["review_cases"], h1["high_cases"]) == (3, 2, 1, 1)
    assert (h1["total_weight_e4"], h1["cmi_e4"], h1["payment_fen"], h1["cost_fen"]) == (11112, 5556, 49004, 90000)
    assert (h1["balance_fen"], h1["review_cost_fen"]) == (-40996, 310000)
    # H2: c3 + c4 payable, weights 5556 + 16667 = 22223, CMI 11111.5 → 11112, payment 5000 + 60001
    h2 = inst["H2"]
    assert (h2["cases"], h2["paid_cases"], h2["review_cases"], h2["low_cases"]) == (5, 2, 3, 1)
    assert (h2["total_weight_e4"], h2["cmi_e4"], h2["payment_fen"], h2["cost_fen"], h2["balance_fen"]) == (
        22223, 11112, 65001, 65000, 1)


def test_bad_input_is_refused_with_the_record(lab, rules, year):
    _, weights = year
    missing = lab.table(case_id=["x"], fixmedins_code=["H1"], cost_fen=[1])
    with pytest.raises(ValidationError, match="drg: missing column"):
        drg_pay(missing, weights, rules, 36000)
    negative = lab.table(case_id=["x", "y"], fixmedins_code=["H1", "H1"], drg=["A", "A"], cost_fen=[5, -1])
    with pytest.raises(ValidationError, match="case y: cost_fen: negative"):
        drg_pay(negative, weights, rules, 36000)
    unknown = lab.table(case_id=["x"], fixmedins_code=["H9"], drg=["A"], cost_fen=[5])
    designated = lab.table(fixmedins_code=["H1", "H2"])
    with pytest.raises(ValidationError, match="case x: fixmedins_code: unknown institution 'H9'"):
        drg_pay(unknown, weights, rules, 36000, institutions=designated)
    with pytest.raises(ValidationError, match="cost_fen: expected a int column"):
        drg_weights(lab.table(case_id=["x"], drg=["A"], cost_fen=["12"]), rules)


def test_inconsistent_outlier_rules_are_refused(params):
    from yibao.errors import PolicyError

    bad = params.pack.reform({"payment.drg.outlier.high_multiple": {"2024-01-01": 6}})
    with pytest.raises(PolicyError, match="high_multiple ≤ review.cost_multiple"):
        DrgRules.from_params(bad.at(params.date))


def test_review_outcomes_pay_the_cases_set_aside(lab, rules, year):
    from yibao.payment.drg.payment import drg_review
    from yibao.payment.review import ReviewRules

    cases, weights = year
    outcomes = lab.table(case_id=["c5", "c6", "c7"], decision=["rejected", "approved", "approved"],
                         approved_fen=[None, None, 9000])
    review = ReviewRules(approved_pay_rate=Decimal("0.9"))
    paid = drg_review(drg_pay(cases, weights, rules, 36000), outcomes, review)
    got = lab.rows(paid, "case_id")
    # c5 rejected → its group pays: B standard 60001, cost 310000 > high threshold 3 × 60000 = 180000
    #   → 60001 + (310000 − 180000) × 0.9 = 177001
    assert (got["c5"]["review_decision"], got["c5"]["group_fen"], got["c5"]["payment_fen"]) == ("rejected", 177001, 177001)
    # c6 approved without an amount → by project: 20000 × 0.9 = 18000
    assert (got["c6"]["review_decision"], got["c6"]["payment_fen"]) == ("approved", 18000)
    # c7 approved at the panel's amount; c8 (ungroupable) has no outcome yet → pending, unpaid
    assert (got["c7"]["payment_fen"], got["c8"]["review_decision"], got["c8"]["payment_fen"]) == (9000, "pending", None)
    # cases not set aside are untouched
    assert (got["c1"]["review_decision"], got["c1"]["payment_fen"]) == (None, 20002)
    inst = lab.rows(drg_institutions(paid), "fixmedins_code")
    # H1: 20002 + 29002 + 177001 = 226005 for cost 20000 + 70000 + 310000 = 400000
    h1 = inst["H1"]
    assert (h1["payment_fen"], h1["review_paid_cases"], h1["review_payment_fen"], h1["cost_fen"]) == (226005, 1, 177001, 400000)
    assert (h1["review_cost_fen"], h1["balance_fen"], h1["cmi_e4"]) == (0, -173995, 5556)
    # H2: 5000 + 60001 + 18000 + 9000 = 92001 for cost 5000 + 60000 + 20000 + 10000; c8 (10000) still unpaid
    h2 = inst["H2"]
    assert (h2["payment_fen"], h2["review_paid_cases"], h2["cost_fen"], h2["review_cost_fen"]) == (92001, 2, 95000, 10000)


def test_rejected_case_without_a_weight_gets_nothing(lab, rules, year):
    from yibao.payment.drg.payment import drg_review
    from yibao.payment.review import ReviewRules

    cases, weights = year
    paid = drg_review(drg_pay(cases, weights, rules, 36000), lab.table(case_id=["c7"], decision=["rejected"]),
                      ReviewRules(Decimal(1)))
    assert lab.rows(paid, "case_id")["c7"]["payment_fen"] == 0


def test_bad_review_outcomes_are_refused(lab, rules, year):
    from yibao.payment.drg.payment import drg_review
    from yibao.payment.review import ReviewRules

    cases, weights = year
    paid = drg_pay(cases, weights, rules, 36000)
    review = ReviewRules(Decimal(1))
    with pytest.raises(ValidationError, match="case c1: review: the case was not set aside"):
        drg_review(paid, lab.table(case_id=["c1"], decision=["approved"]), review)
    with pytest.raises(ValidationError, match="case c5: review: decision maybe is not approved or rejected"):
        drg_review(paid, lab.table(case_id=["c5"], decision=["maybe"]), review)
    with pytest.raises(ValidationError, match="case c6: review: more than one outcome"):
        drg_review(paid, lab.table(case_id=["c6", "c6"], decision=["approved", "rejected"]), review)
    with pytest.raises(ValidationError, match="case c6: review: negative approved_fen -5"):
        drg_review(paid, lab.table(case_id=["c6"], decision=["approved"], approved_fen=[-5]), review)


def test_review_rules_come_from_the_pack(params):
    from yibao.payment.review import ReviewRules

    assert ReviewRules.from_params(params, "drg").approved_pay_rate == 1
    assert ReviewRules.from_params(params, "dip").approved_pay_rate == 1
