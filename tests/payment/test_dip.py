"""DIP catalog and settlement on small tables computed by hand, on DuckDB and on Spark."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from yibao.errors import ValidationError
from yibao.payment.dip import (
    DipRules,
    build_catalog,
    dip_institutions,
    dip_points,
    dip_settle,
    point_value,
    total_points,
)


@pytest.fixture(scope="module")
def rules(params):
    # core groups from 2 cases so the tables stay small; J18 is a 基层病种 here
    return dataclasses.replace(DipRules.from_params(params), core_min_cases=2, primary_diagnoses=("J18",))


def test_rules_come_from_the_pack(params):
    r = DipRules.from_params(params)
    assert r.history_weights == (1, 2, 7) and r.core_min_cases == 15 and r.score_scale == 1000
    assert (r.low_ratio, r.high_ratio) == (0.5, 2)


def _history(lab):
    def year(rows):
        return lab.table(case_id=[f"h{i}" for i in range(len(rows))], diagnoses=[r[0] for r in rows],
                         procedures=[r[1] for r in rows], cost_fen=[r[2] for r in rows])

    y1 = year([("K35.800", "47.0100", 8000), ("K35.800|K65.000", "47.0100|54.9100", 12000), ("J18.900", "", 4000)])
    y2 = year([("K35.800", "47.0100", 11000), ("J18.900", None, 5000)])
    y3 = year([("K35.800", "47.0100", 10000), ("J18.900", "", 6000), ("J18.000", "87.4400", 3000)])
    return [y1, y2, y3]


def test_catalog_scores(lab, rules):
    # Note: the second K35 case has combination 47.01+54.91, so "K35.8/47.01" has 1 + 1 + 1 = 3 cases.
    cat = lab.rows(build_catalog(_history(lab), rules), "group_id")
    assert set(cat) == {"K35.8/47.01", "J18.9/", "K35:surgical", "J18:diagnostic"}
    # K35.8/47.01 (core, 3 cases): yearly means 8000, 11000, 10000 → (1·8000 + 2·11000 + 7·10000)/10 = 10000
    # overall yearly means: 24000/3 = 8000, 16000/2 = 8000, 19000/3 → (8000 + 16000 + 7·19000/3)/10 = 20500/3
    # score = 10000 ÷ (20500/3) × 1000 = 1463.41… → 146341 (×100)
    k35 = cat["K35.8/47.01"]
    assert (k35["kind"], k35["cases"], k35["mean_cost_fen"], k35["score_e2"]) == ("core", 3, 10000, 146341)
    # J18.9/ (conservative core, 3 cases): (4000 + 2·5000 + 7·6000)/10 = 5600 → 5600·3/20500·1000 = 819.51 → 81951
    assert (cat["J18.9/"]["mean_cost_fen"], cat["J18.9/"]["score_e2"]) == (5600, 81951)
    # 47.01+54.91 has one case: comprehensive K35:surgical, only in year 1 → mean 12000 → 1756.10 → 175610
    assert (cat["K35:surgical"]["kind"], cat["K35:surgical"]["score_e2"]) == ("comprehensive", 175610)
    # J18.0 with 87.44 (chest x-ray, diagnostic): only year 3 → 3000 → 439.02 → 43902
    assert (cat["J18:diagnostic"]["procedures"], cat["J18:diagnostic"]["score_e2"]) == ("diagnostic", 43902)


def _trim_history(lab):
    def year(rows):
        return lab.table(case_id=[f"t{i}" for i in range(len(rows))], diagnoses=[r[0] for r in rows],
                         procedures=[r[1] for r in rows], cost_fen=[r[2] for r in rows])

    k35, j18, i10 = ("K35.800", "47.0100"), ("J18.900", ""), ("I10.x00", "")
    y1 = year([(*k35, 10000)] * 3 + [(*k35, 1000)] + [(*j18, 5000)] * 2)
    y2 = year([(*k35, 12000)] * 3 + [(*k35, 40000)] + [(*j18, 6000)])
    y3 = year([(*k35, 10000)] * 3 + [(*j18, 5000), (*j18, 7000)] + [(*i10, 100), (*i10, 100), (*i10, 9800)])
    return [y1, y2, y3]


def test_catalog_trims_outliers_before_scoring(lab, rules):
    from yibao.payment.trim import TrimRule

    band = TrimRule("mean_multiple", low_multiple=Decimal("0.5"), high_multiple=Decimal(2), min_cases=3)
    cat = lab.rows(build_catalog(_trim_history(lab), dataclasses.replace(rules, trim=band)), "group_id")
    # K35.8/47.01, each year against that year's group mean:
    #   y1 10000×3, 1000: mean 7750, keep [3875, 15500] → 1000 dropped, kept mean 10000
    #   y2 12000×3, 40000: mean 19000, keep [9500, 38000] → 40000 dropped, kept mean 12000
    #   y3 10000×3: nothing dropped, mean 10000 → (10000 + 2·12000 + 7·10000)/10 = 10400
    k35 = cat["K35.8/47.01"]
    assert (k35["cases"], k35["trimmed"], k35["mean_cost_fen"]) == (11, 2, 10400)
    # J18.9/: 2, 1 and 2 cases a year, below min_cases 3 → kept; (5000 + 2·6000 + 7·6000)/10 = 5900
    assert (cat["J18.9/"]["trimmed"], cat["J18.9/"]["mean_cost_fen"]) == (0, 5900)
    # I10.x/ (y3 100, 100, 9800: mean 3333.3, keep [1667, 6666]) would lose every case: it keeps them all
    assert (cat["I10.x/"]["cases"], cat["I10.x/"]["trimmed"], cat["I10.x/"]["mean_cost_fen"]) == (3, 0, 3333)
    # overall yearly means over kept cases: y1 40000/5 = 8000, y2 42000/4 = 10500, y3 52000/8 = 6500
    # → (8000 + 2·10500 + 7·6500)/10 = 7450; scores ×100: 10400/7450 → 139597.3, 5900/7450 → 79194.6,
    # (10000/3)/7450 → 44742.7
    assert (k35["score_e2"], cat["J18.9/"]["score_e2"], cat["I10.x/"]["score_e2"]) == (139597, 79195, 44743)
    # without trimming K35's yearly means are 7750, 19000, 10000 → 11575
    plain = lab.rows(build_catalog(_trim_history(lab), dataclasses.replace(rules, trim=TrimRule("none"))), "group_id")
    assert (plain["K35.8/47.01"]["trimmed"], plain["K35.8/47.01"]["mean_cost_fen"]) == (0, 11575)


def test_pack_trimming_rule(params):
    t = DipRules.from_params(params).trim
    assert (t.rule, t.low_multiple, t.high_multiple, t.min_cases) == ("mean_multiple", Decimal("0.2"), 5, 5)
    from yibao.errors import PolicyError
    from yibao.payment.trim import TrimRule

    with pytest.raises(PolicyError, match="'iqr' is not one of"):
        TrimRule("iqr")
    with pytest.raises(PolicyError, match="low_multiple < 1 < high_multiple"):
        TrimRule("mean_multiple", low_multiple=Decimal("0.5"), high_multiple=Decimal("0.9"))


def test_catalog_needs_one_table_per_history_weight(lab, rules):
    with pytest.raises(ValidationError, match="2 history years given, the pack weights 3"):
        build_catalog(_history(lab)[:2], rules)


def test_procedure_types(lab):
    from yibao.payment.dip import procedure_type

    t = lab.table(p=["", "47.0100", "45.1300", "87.4400|93.3900", "93.3900", "45.1300|47.0100", "00.6600", None])
    got = [r["t"] for r in lab.backend.to_arrow(t.select(t.p, t=procedure_type(t.p))).to_pylist()]
    assert got == ["conservative", "surgical", "diagnostic", "therapeutic", "therapeutic", "surgical",
                   "therapeutic", "conservative"]


@pytest.fixture(scope="module")
def year4(lab, rules):
    cat = build_catalog(_history(lab), dataclasses.replace(rules, core_min_cases=3))
    cases = lab.table(
        case_id=["d1", "d2", "d3", "d4", "d5", "d6"],
        fixmedins_code=["H1", "H1", "H2", "H2", "H2", "H1"],
        diagnoses=["K35.801", "K35.800|I10.x00", "J18.900", "J18.001", "E11.900", "J18.900"],
        procedures=["47.0100x001", "47.0100", "", "87.4400", "", None],
        cost_fen=[10000, 30000, 2000, 3000, 1500, 5600],
        age=[30, 85, 3, 50, 60, 40],
        los=[5, 10, 1, 4, 3, 6],
        dscg_way=["1", "5", "1", "1", "1", "1"],
        cc_level=[None, "MCC", "", None, None, None],
    )
    institutions = lab.table(fixmedins_code=["H1", "H2"], level=["3", "2"])
    return cat, cases, institutions


def test_case_points(lab, rules, year4):
    cat, cases, institutions = year4
    pts = lab.rows(dip_points(cases, cat, institutions, rules), "case_id")
    # d1: core K35.8/47.01 (score 146341, mean 10000), cost within 50%–200% → points = score; level 3 → 1.0
    assert (pts["d1"]["group_id"], pts["d1"]["deviation"], pts["d1"]["points_e2"]) == ("K35.8/47.01", "normal", 146341)
    # d2: 30000 > 2 × 10000 → high: 146341 × (30000 − 10000) / 10000 = 292682;
    # coefficients: age 85 → 1.05, MCC 1.15 → 1.2075, death 1.10 → 1.32825 → 1.3283 (4 decimals, half up)
    # points = 292682 × 1.3283 = 388769.5 → 388770
    d2 = pts["d2"]
    assert (d2["deviation"], d2["base_points_e2"], d2["age_coef_e4"], d2["severity_coef_e4"]) == ("high", 292682, 10500, 11500)
    assert (d2["death_coef_e4"], d2["case_coef_e4"], d2["points_e2"]) == (11000, 13283, 388770)
    # d3: J18.9/ (81951, mean 5600); 2000 < 2800 → low: 81951 × 2000 / 5600 = 29268.2 → 29268;
    # age 3 → 1.10, LOS 1 ≤ 2 → 0.80 → 0.88; 29268 × 0.88 = 25755.8 → 25756; 基层病种 J18 → 0.80 (not level 2's 0.85)
    d3 = pts["d3"]
    assert (d3["deviation"], d3["base_points_e2"], d3["case_coef_e4"], d3["inst_coef_e4"], d3["points_e2"]) == (
        "low", 29268, 8800, 8000, 20605)
    # d4: J18.0/87.44 is not core → comprehensive J18:diagnostic (43902); × 0.80 = 35121.6 → 35122
    assert (pts["d4"]["group_id"], pts["d4"]["group_kind"], pts["d4"]["points_e2"]) == ("J18:diagnostic", "comprehensive", 35122)
    # d5: E11.9 has no core and no comprehensive group → set aside without points
    assert (pts["d5"]["deviation"], pts["d5"]["points_e2"]) == ("ungrouped", None)
    # d6 at a level-3 hospital: 基层病种 coefficient 0.80 all the same → 81951 × 0.8 = 65560.8 → 65561
    assert (pts["d6"]["inst_coef_e4"], pts["d6"]["points_e2"]) == (8000, 65561)


def test_point_value_and_settlement(lab, rules, year4):
    cat, cases, institutions = year4
    pts = dip_points(cases, cat, institutions, rules)
    total = total_points(pts)
    assert total == 146341 + 388770 + 20605 + 35122 + 65561  # 656399
    # 点值 = (7 000 000 fen ÷ 0.70) ÷ 6563.99 points = 1523.46362… fen → 15234636 (×10 000)
    value = point_value(7_000_000, rules.reimbursement_ratio, total)
    assert value == 15234636
    settled = dip_settle(pts, value, rules)
    per_case = lab.rows(settled, "case_id")
    # d1: 1463.41 points × 1523.4636 fen = 2229452.3 → 2229452; fund due × 0.70 = 1560616.4 → 1560616
    assert (per_case["d1"]["value_fen"], per_case["d1"]["fund_due_fen"], per_case["d1"]["point_value_e4"]) == (
        2229452, 1560616, 15234636)
    inst = lab.rows(dip_institutions(settled), "fixmedins_code")
    # H2: d3 + d4 grouped, d5 set aside; H1 + H2 values add up to the 10 000 000 fen of the year (±1 per case)
    assert (inst["H2"]["cases"], inst["H2"]["grouped_cases"], inst["H2"]["low_cases"]) == (3, 2, 1)
    assert (inst["H2"]["cost_fen"], inst["H2"]["unpaid_cost_fen"]) == (5000, 1500)
    assert abs(inst["H1"]["value_fen"] + inst["H2"]["value_fen"] - 10_000_000) <= 5
    assert inst["H1"]["balance_fen"] == inst["H1"]["value_fen"] - (10000 + 30000 + 5600)


def test_point_value_refuses_nonsense():
    with pytest.raises(ValidationError, match="no points"):
        point_value(100, 0.7, 0)


def test_bad_cases(lab, rules, year4):
    cat, cases, institutions = year4
    with pytest.raises(ValidationError, match="unknown institution 'H3'"):
        dip_points(lab.table(case_id=["x"], fixmedins_code=["H3"], diagnoses=["K35.8"], cost_fen=[1]),
                   cat, institutions, rules)
    with pytest.raises(ValidationError, match="diagnoses: missing column"):
        dip_points(lab.table(case_id=["x"], fixmedins_code=["H1"], cost_fen=[1]), cat, institutions, rules)


def test_review_sets_cases_aside_and_pays_them_after_review(lab, rules, year4):
    from yibao.payment.dip import dip_review
    from yibao.payment.review import ReviewRules

    cat, _, institutions = year4
    cases = lab.table(
        case_id=["r1", "r2", "r3", "r4", "r5"],
        fixmedins_code=["H1", "H1", "H2", "H2", "H2"],
        diagnoses=["K35.800", "J18.900", "E11.900", "K35.800", "K35.800"],
        procedures=["47.0100", "", "", "47.0100", "47.0100"],
        cost_fen=[60000, 5600, 1500, 10000, 70000],
        review=[False, True, False, False, False],
    )
    pts = dip_points(cases, cat, institutions, rules)
    p = lab.rows(pts, "case_id")
    # K35.8/47.01 mean 10000: r1 60000 and r5 70000 > 5 × 10000; r2 flagged; r3 has no group; r4 normal
    assert {c: p[c]["review_reason"] for c in p} == {
        "r1": "cost above the review multiple", "r2": "flagged for review", "r3": "ungrouped", "r4": None,
        "r5": "cost above the review multiple"}
    # points as usual: r1 high 146341 × (60000 − 10000)/10000 = 731705; r2 81951 × 0.80 (基层病种) = 65561;
    # r4 146341 × 0.85 (level 2) = 124390
    assert (p["r1"]["points_e2"], p["r2"]["points_e2"], p["r4"]["points_e2"]) == (731705, 65561, 124390)
    # at 1 fen per point: r1 7317, r2 656, r4 1244
    settled = dip_settle(pts, 10_000, rules)
    outcomes = lab.table(case_id=["r1", "r2", "r3"], decision=["approved", "rejected", "approved"],
                         approved_fen=[None, None, 1200])
    final = dip_review(settled, outcomes, rules, ReviewRules(Decimal("0.9")))
    f = lab.rows(final, "case_id")
    # r1 approved by project: 60000 × 0.9 = 54000, fund 70% = 37800; r2 rejected → its points' 656, fund 459.2 → 459
    assert (f["r1"]["review_decision"], f["r1"]["value_fen"], f["r1"]["fund_due_fen"]) == ("approved", 54000, 37800)
    assert (f["r2"]["review_decision"], f["r2"]["value_fen"], f["r2"]["fund_due_fen"]) == ("rejected", 656, 459)
    # r3 approved at the panel's 1200 (fund 840); r4 untouched (1244, fund 870.8 → 871); r5 pending, unpaid
    assert (f["r3"]["value_fen"], f["r3"]["fund_due_fen"], f["r4"]["value_fen"], f["r4"]["fund_due_fen"]) == (1200, 840, 1244, 871)
    assert (f["r4"]["review_decision"], f["r5"]["review_decision"], f["r5"]["value_fen"]) == (None, "pending", None)
    inst = lab.rows(dip_institutions(final), "fixmedins_code")
    assert (inst["H1"]["value_fen"], inst["H1"]["fund_due_fen"], inst["H1"]["review_cases"]) == (54656, 38259, 2)
    assert (inst["H1"]["cost_fen"], inst["H1"]["unpaid_cost_fen"], inst["H1"]["balance_fen"]) == (65600, 0, 54656 - 65600)
    h2 = inst["H2"]
    assert (h2["value_fen"], h2["review_value_fen"], h2["fund_due_fen"], h2["review_cases"]) == (2444, 1200, 1711, 2)
    assert (h2["cost_fen"], h2["unpaid_cost_fen"]) == (11500, 70000)
    with pytest.raises(ValidationError, match="case r4: review: the case was not set aside"):
        dip_review(settled, lab.table(case_id=["r4"], decision=["approved"]), rules, ReviewRules(Decimal(1)))
