"""DIP settlement: case points (分值 × coefficients), point values and per-institution results.

Per case (:func:`dip_points`):

1. Group: the core group of its diagnosis × procedure combination if the catalog has it, else the
   comprehensive group of its diagnosis category × procedure type; neither → ``ungrouped`` (set
   aside, no points).
2. Deviation (偏差病例) against the group mean cost: below ``low_ratio`` → ``low`` with
   ``score × cost ÷ mean``; above ``high_ratio`` → ``high`` with ``score × (cost ÷ mean − (high_ratio
   − 1))`` (the technical scheme's ``[(cost ÷ mean) − 2 + 1]`` for a ratio of 2); else the score.
3. 辅助目录 coefficients, applied in turn and rounded to 4 decimals each time: age band, severity
   (``cc_level`` MCC / CC), death (离院方式 5), short stay (LOS ≤ N days).
4. Institution coefficient: the level's, or the single 基层病种 coefficient when the principal
   diagnosis category is a 基层病种 (同病同价).
5. 特病单议: ungrouped cases, cases flagged for review (``review`` true) and cases costing more than
   ``review.cost_multiple`` × their group mean are set aside (``review_reason``). Their points count
   in the year's total (a rejected case is paid by them); :func:`dip_review` pays them once
   reviewed (:mod:`yibao.payment.review`).

``points = base points × case coefficient × institution coefficient`` (2 decimals, ``points_e2``).

Point value (:func:`point_value`): ``(fund for DIP ÷ reimbursement ratio) ÷ total points`` — the 预算
点值 with the year's budget and expected points, the 结算点值 with the fund actually available and the
year's points. :func:`dip_settle` turns points into money (``value_fen``) and the fund's share
(``fund_due_fen = value × ratio``); every row carries its group, score, coefficients and point value.
"""

from __future__ import annotations

from decimal import Decimal

import ibis
import ibis.expr.types as ir

from yibao import vocab
from yibao.errors import ValidationError
from yibao.money import div_round
from yibao.payment.backends import round_div
from yibao.payment.common import C, P, PPM, V, check_cases, fetch, scaled
from yibao.payment.dip.catalog import DipRules, case_keys, check_catalog
from yibao.payment.review import COSTLY, FLAGGED, ReviewRules, apply_outcomes

__all__ = ["dip_points", "point_value", "format_point_value", "total_points", "dip_settle", "dip_review",
           "dip_institutions", "CASE_COLUMNS"]

CASE_COLUMNS = {"case_id": "str", "fixmedins_code": "str", "diagnoses": "str", "cost_fen": "int"}
NORMAL, LOW, HIGH, UNGROUPED = "normal", "low", "high", "ungrouped"
MAX_PRODUCT = 2**61  # points × value and their doubled rounding stay inside int64


def format_point_value(value_e4: int) -> str:
    """A point value (fen per point ×10 000) in yuan per point, exactly: ``123456`` → ``'0.123456'``."""
    return str(Decimal(int(value_e4)).scaleb(-6).quantize(Decimal("0.000001")))


def _band(value: ir.IntegerValue, bands: tuple[tuple[int, object], ...]) -> ir.IntegerValue:
    """Coefficient (×10 000) of the band whose lower bound is the largest ≤ value; 1.0 below all."""
    out = ibis.literal(C, "int64")
    for lower, coef in bands:  # ascending: later bands override
        out = ibis.ifelse(value >= lower, scaled(coef, C), out)
    return out


def _times(a: ir.IntegerValue, coef_e4: ir.IntegerValue) -> ir.IntegerValue:
    return round_div(a * coef_e4, C)


def _opt(t: ir.Table, col: str, default):
    return t[col] if col in t.columns else ibis.literal(default)


def dip_points(cases: ir.Table, catalog: ir.Table, institutions: ir.Table, rules: DipRules) -> ir.Table:
    """Points of each case. ``cases``: ``case_id, fixmedins_code, diagnoses, procedures, cost_fen``
    and optionally ``age, los, dscg_way, cc_level``; ``institutions``: ``fixmedins_code, level``."""
    check_cases(cases, CASE_COLUMNS, "DIP cases", institutions)
    check_catalog(catalog)
    t = case_keys(cases)
    cat = catalog.select("group_id", "kind", "score_e2", "mean_cost_fen")
    core = cat.filter(cat.kind == "core").rename(core_id="group_id", core_score="score_e2", core_mean="mean_cost_fen")
    comp = cat.filter(cat.kind == "comprehensive").rename(
        comp_id="group_id", comp_score="score_e2", comp_mean="mean_cost_fen")
    t = t.left_join(core.drop("kind"), t.core_key == core.core_id)
    t = t.left_join(comp.drop("kind"), t.comp_key == comp.comp_id)
    inst = institutions.select("fixmedins_code", inst_level=institutions.level)
    t = t.left_join(inst, "fixmedins_code")
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    in_core = t.core_id.notnull()
    t = t.mutate(
        group_id=ibis.ifelse(in_core, t.core_id, t.comp_id),
        group_kind=ibis.ifelse(in_core, "core", ibis.ifelse(t.comp_id.notnull(), "comprehensive", UNGROUPED)),
        score_e2=ibis.ifelse(in_core, t.core_score, t.comp_score),
        mean_cost_fen=ibis.ifelse(in_core, t.core_mean, t.comp_mean),
    )
    # Each step is its own projection so the compiled SQL refers to columns instead of repeating
    # sub-expressions (nested roundings would otherwise grow the query exponentially).
    mean = t.mean_cost_fen
    t = t.mutate(
        _low=round_div(mean * scaled(rules.low_ratio, PPM), PPM),
        _high=round_div(mean * scaled(rules.high_ratio, PPM), PPM),
        _offset=round_div(mean * scaled(rules.high_ratio - 1, PPM), PPM),
        _review=round_div(mean * scaled(rules.review_cost_multiple, PPM), PPM),
        _mean=ibis.greatest(mean, 1),
    )
    t = t.mutate(deviation=ibis.cases(
        (t.group_id.isnull(), UNGROUPED),
        (t.cost_fen < t._low, LOW),
        (t.cost_fen > t._high, HIGH),
        else_=NORMAL,
    ))
    flagged = t.review.fill_null(False) if "review" in t.columns else ibis.literal(False)
    t = t.mutate(review_reason=ibis.cases(
        (t.group_id.isnull(), UNGROUPED),
        (flagged, FLAGGED),
        (t.cost_fen > t._review, COSTLY),
        else_=ibis.null("string"),
    ))
    level = _opt(t, "cc_level", "").fill_null("").upper()
    primary = t.dx3.isin(list(rules.primary_diagnoses)) if rules.primary_diagnoses else ibis.literal(False)
    level_coef = ibis.literal(C, "int64")
    for lvl, coef in sorted(rules.level_coef.items()):
        level_coef = ibis.ifelse(t.inst_level == lvl, scaled(coef, C), level_coef)
    t = t.mutate(
        base_points_e2=ibis.cases(
            (t.deviation == UNGROUPED, ibis.null("int64")),
            (t.deviation == LOW, round_div(t.score_e2 * t.cost_fen, t._mean)),
            (t.deviation == HIGH, round_div(t.score_e2 * (t.cost_fen - t._offset), t._mean)),
            else_=t.score_e2,
        ).cast("int64"),
        age_coef_e4=(_band(t.age.fill_null(-1), rules.age_bands) if "age" in t.columns else ibis.literal(C)).cast("int64"),
        severity_coef_e4=ibis.cases(
            (level == "MCC", scaled(rules.mcc_coef, C)), (level == "CC", scaled(rules.cc_coef, C)), else_=C).cast("int64"),
        death_coef_e4=ibis.ifelse(_opt(t, "dscg_way", "").fill_null("") == vocab.DISCHARGE_DIED, scaled(rules.death_coef, C), C).cast("int64"),
        short_stay_coef_e4=ibis.ifelse(_opt(t, "los", 10**6).fill_null(10**6) <= rules.short_stay_days,
                                       scaled(rules.short_stay_coef, C), C).cast("int64"),
        inst_coef_e4=ibis.ifelse(primary, scaled(rules.primary_coef, C), level_coef).cast("int64"),
    )
    t = t.mutate(_c1=_times(t.age_coef_e4, t.severity_coef_e4))
    t = t.mutate(_c2=_times(t._c1, t.death_coef_e4))
    t = t.mutate(case_coef_e4=_times(t._c2, t.short_stay_coef_e4))
    t = t.mutate(_p1=_times(t.base_points_e2, t.case_coef_e4))
    t = t.mutate(points_e2=_times(t._p1, t.inst_coef_e4))
    return t.select(
        "case_id", "fixmedins_code", "cost_fen", "group_id", "group_kind", "score_e2", "mean_cost_fen",
        "deviation", "base_points_e2", "age_coef_e4", "severity_coef_e4", "death_coef_e4", "short_stay_coef_e4",
        "case_coef_e4", "inst_coef_e4", "points_e2", "review_reason",
    )


def total_points(points: ir.Table) -> int:
    """Σ points (×100) of the grouped cases."""
    return int(fetch(points.aggregate(p=points.points_e2.sum())).to_pylist()[0]["p"] or 0)


def point_value(fund_fen: int, reimbursement_ratio, points_e2: int) -> int:
    """点值 (fen per point, ×10 000) = (fund ÷ reimbursement ratio) ÷ total points, exact, half up."""
    ratio_ppm = scaled(reimbursement_ratio, PPM)
    if fund_fen <= 0 or ratio_ppm <= 0:
        raise ValidationError("fund_fen", f"fund {fund_fen} and ratio {reimbursement_ratio} must be positive")
    if points_e2 <= 0:
        raise ValidationError("points", "no points to spread the fund over; the point value is undefined")
    # (fund / (ratio_ppm / 1e6)) / (points_e2 / 100) × 1e4
    return div_round(fund_fen * PPM * P * V, ratio_ppm * points_e2)


def dip_settle(points: ir.Table, value_e4: int, rules: DipRules) -> ir.Table:
    """Money of each case: ``value_fen = points × point value`` and ``fund_due_fen = value × ratio``,
    each to the fen by the pack's rounding. A point value so large that a case's money leaves
    64-bit fen arithmetic is refused."""
    peak = int(fetch(points.aggregate(p=points.points_e2.max())).to_pylist()[0]["p"] or 0)
    if value_e4 * max(peak, 1) >= MAX_PRODUCT:
        raise ValidationError("point_value", f"{format_point_value(value_e4)} yuan per point × {peak / P:.2f} points "
                              "is beyond 64-bit fen arithmetic; check the fund")
    value = round_div(points.points_e2 * value_e4, P * V, rules.rounding)
    ratio_ppm = scaled(rules.reimbursement_ratio, PPM)
    return points.mutate(
        point_value_e4=ibis.literal(value_e4, "int64"),
        value_fen=value.cast("int64"),
        fund_due_fen=round_div(value * ratio_ppm, PPM, rules.rounding).cast("int64"),
    )


def dip_review(settled: ir.Table, outcomes: ir.Table, rules: DipRules, review: ReviewRules) -> ir.Table:
    """特病单议 after review: ``settled`` from :func:`dip_settle` with each set-aside case's
    ``value_fen`` — approved: by project; rejected: its points' value (0 when ungrouped); no
    outcome: null — and ``fund_due_fen`` (value × ratio) to match. Adds ``review_decision`` and
    ``approved_fen``."""
    t = apply_outcomes(settled, outcomes, "DIP", "value_fen", "value_fen", review)
    due = round_div(t.value_fen * scaled(rules.reimbursement_ratio, PPM), PPM, rules.rounding)
    return t.mutate(fund_due_fen=ibis.ifelse(t.review_reason.notnull(), due, t.fund_due_fen).cast("int64"))


def dip_institutions(settled: ir.Table) -> ir.Table:
    """Per institution: cases, grouped, deviation and review cases, points, value, cost of the cases
    paid, fund due, balance; ``unpaid_cost_fen`` is the cost of the cases without a value (ungrouped
    and not approved, or awaiting review)."""
    grouped = settled.deviation != UNGROUPED
    paid = settled.value_fen.notnull()
    aside = settled.review_reason.notnull()
    g = settled.group_by("fixmedins_code").aggregate(
        cases=settled.count(),
        grouped_cases=grouped.sum().cast("int64"),
        low_cases=(settled.deviation == LOW).sum().cast("int64"),
        high_cases=(settled.deviation == HIGH).sum().cast("int64"),
        review_cases=aside.sum().cast("int64"),
        points_e2=settled.points_e2.sum().cast("int64"),
        value_fen=settled.value_fen.sum().cast("int64"),
        review_value_fen=ibis.ifelse(aside, settled.value_fen.fill_null(0), 0).sum().cast("int64"),
        fund_due_fen=settled.fund_due_fen.sum().cast("int64"),
        cost_fen=ibis.ifelse(paid, settled.cost_fen, 0).sum().cast("int64"),
        unpaid_cost_fen=ibis.ifelse(paid, 0, settled.cost_fen).sum().cast("int64"),
    )
    g = g.mutate(points_e2=g.points_e2.fill_null(0), value_fen=g.value_fen.fill_null(0),
                 fund_due_fen=g.fund_due_fen.fill_null(0))
    return g.mutate(balance_fen=g.value_fen - g.cost_fen).order_by("fixmedins_code")
