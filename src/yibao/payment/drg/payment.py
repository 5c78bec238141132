"""DRG payment (DRG 付费): relative weights from local history, a base rate from the DRG budget,
high and low outlier cases, 特病单议 and per-institution results.

Pipeline (each step an Ibis expression on the injected backend; fitted tables are small):

1. :func:`drg_weights` — trim each group's history by the pack's rule (:mod:`yibao.payment.trim`:
   ``sd`` keeps ``|cost − mean| ≤ k·sd``, ``percentile`` drops the tails; groups with fewer than
   ``min_cases`` cases are not trimmed), then ``RW = group mean cost ÷ overall mean cost`` (both over
   kept cases), to 4 decimals (``weight_e4``).
2. :func:`base_rate` — ``budget ÷ Σ weights`` of the year's payable cases (费率, fen per unit weight).
3. :func:`drg_pay` — per case: ``standard = RW × base rate``; a high outlier (cost > high_multiple ×
   group mean) gets ``standard + (cost − threshold) × high_pay_rate``; a low outlier (cost <
   low_multiple × mean) gets ``min(cost × low_pay_rate, standard)``; cases flagged for review, above
   the review cost multiple or LOS, ungroupable or without a weight are set aside (特病单议,
   ``payment_fen`` null; ``group_fen`` is what the group would pay).
4. :func:`drg_review` — after the agency's review, approved cases are paid by project and rejected
   ones at ``group_fen`` (:mod:`yibao.payment.review`).
5. :func:`drg_institutions` — per institution: cases, CMI, total weight, payment versus cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from yibao.errors import PolicyError, ValidationError
from yibao.payment.backends import round_div
from yibao.money import Rounding, div_round
from yibao.payment.common import PPM, W, check_cases, fetch, scaled
from yibao.payment.review import COSTLY, FLAGGED, LONG_STAY, ReviewRules, apply_outcomes
from yibao.payment.trim import TrimRule, trim
from yibao.policy import Params

__all__ = ["DrgRules", "drg_weights", "base_rate", "drg_pay", "drg_review", "drg_institutions", "CASE_COLUMNS",
           "NORMAL", "HIGH", "LOW", "REVIEW"]

NORMAL, HIGH, LOW, REVIEW = "normal", "high", "low", "review"
CASE_COLUMNS = {"case_id": "str", "fixmedins_code": "str", "drg": "str", "cost_fen": "int"}


@dataclass(frozen=True)
class DrgRules:
    """The pack's DRG parameters (``payment.drg.*``), as exact decimals."""

    trim_rule: str
    sd_multiple: Decimal
    low_percentile: Decimal
    high_percentile: Decimal
    min_cases: int
    high_multiple: Decimal
    low_multiple: Decimal
    high_pay_rate: Decimal
    low_pay_rate: Decimal
    review_cost_multiple: Decimal
    review_los_days: int
    rounding: Rounding = Rounding.HALF_UP  # of the base rate and the payments

    @classmethod
    def from_params(cls, params: Params) -> "DrgRules":
        p = params.node("payment.drg")
        rules = cls(
            trim_rule=p["trim.rule"], sd_multiple=p["trim.sd_multiple"], low_percentile=p["trim.low_percentile"],
            high_percentile=p["trim.high_percentile"], min_cases=p["trim.min_cases"],
            high_multiple=p["outlier.high_multiple"], low_multiple=p["outlier.low_multiple"],
            high_pay_rate=p["outlier.high_pay_rate"], low_pay_rate=p["outlier.low_pay_rate"],
            review_cost_multiple=p["review.cost_multiple"], review_los_days=p["review.los_days"],
            rounding=params.pack.rounding,
        )
        rules.trimming  # noqa: B018 - validates the trimming rule
        if not 0 < rules.low_multiple < 1 < rules.high_multiple <= rules.review_cost_multiple:
            raise PolicyError("payment.drg: need 0 < low_multiple < 1 < high_multiple ≤ review.cost_multiple")
        return rules

    @property
    def trimming(self) -> TrimRule:
        """The weight-fitting trimming rule (``payment.drg.trim``)."""
        try:
            return TrimRule(self.trim_rule, sd_multiple=self.sd_multiple, low_percentile=self.low_percentile,
                            high_percentile=self.high_percentile, min_cases=self.min_cases)
        except PolicyError as e:
            raise PolicyError(f"payment.drg.{e}") from None


def _history(history: ir.Table) -> ir.Table:
    cols = {"drg": "str", "cost_fen": "int"}
    check_cases(history, {"case_id": "str", **cols}, "DRG history")
    t = history
    if "status" in t.columns:
        t = t.filter(t.status == "ok")
    return t.filter(t.drg.notnull()).select("drg", cost_fen=t.cost_fen.cast("int64"))


def drg_weights(history: ir.Table, rules: DrgRules) -> ir.Table:
    """Relative weights from history cases (columns ``case_id, drg, cost_fen``, optional ``status``).

    Returns ``drg, cases, kept, mean_cost_fen, weight_e4`` (RW × 10 000, half up)."""
    hist = _history(history)
    kept, stats = trim(hist, ["drg"], rules.trimming)
    counts = {r["drg"]: r["n"] for r in stats}
    groups = fetch(kept.group_by("drg").aggregate(k=kept.count(), s=kept.cost_fen.sum())).to_pylist()
    if not groups:
        raise ValidationError("drg", "no groupable cases to compute weights from", record="DRG history")
    total_n = sum(g["k"] for g in groups)
    total_s = sum(g["s"] for g in groups)
    if total_s <= 0:
        raise ValidationError("cost_fen", "history costs sum to zero; weights are undefined", record="DRG history")
    groups.sort(key=lambda g: g["drg"])
    # RW = (S_g / n_g) ÷ (S / N) = S_g·N / (n_g·S), to 4 decimals in one exact rounding
    return ibis.memtable(pa.table({
        "drg": [g["drg"] for g in groups],
        "cases": pa.array([counts[g["drg"]] for g in groups], pa.int64()),
        "kept": pa.array([g["k"] for g in groups], pa.int64()),
        "mean_cost_fen": pa.array([div_round(g["s"], g["k"]) for g in groups], pa.int64()),
        "weight_e4": pa.array([div_round(W * g["s"] * total_n, g["k"] * total_s) for g in groups], pa.int64()),
    }))


def _classify(cases: ir.Table, weights: ir.Table, rules: DrgRules) -> ir.Table:
    """Join weights and mark each case normal / high / low / review (with the reason)."""
    t = cases.left_join(weights.select("drg", "mean_cost_fen", "weight_e4"), "drg")
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    mean = t.mean_cost_fen
    high_fen = round_div(mean * scaled(rules.high_multiple, PPM), PPM)
    low_fen = round_div(mean * scaled(rules.low_multiple, PPM), PPM)
    review_fen = round_div(mean * scaled(rules.review_cost_multiple, PPM), PPM)
    flagged = t.review.fill_null(False) if "review" in t.columns else ibis.literal(False)
    ungrouped = (t.status != "ok") if "status" in t.columns else ibis.literal(False)
    long_stay = (t.los > rules.review_los_days) if "los" in t.columns else ibis.literal(False)
    reason = (
        ibis.cases(
            (t.drg.isnull() | ungrouped.fill_null(True), "ungroupable"),
            (t.weight_e4.isnull(), "no weight for the group"),
            (flagged, FLAGGED),
            (t.cost_fen > review_fen, COSTLY),
            (long_stay.fill_null(False), LONG_STAY),
            else_=ibis.null(str),
        )
    )
    t = t.mutate(high_fen=high_fen, low_fen=low_fen, review_reason=reason)
    kind = ibis.cases(
        (t.review_reason.notnull(), REVIEW),
        (t.cost_fen > t.high_fen, HIGH),
        (t.cost_fen < t.low_fen, LOW),
        else_=NORMAL,
    )
    return t.mutate(kind=kind)


def base_rate(cases: ir.Table, weights: ir.Table, rules: DrgRules, budget_fen: int) -> int:
    """费率: the DRG budget ÷ the total weight of the year's payable cases, in fen per unit weight."""
    if budget_fen < 0:
        raise ValidationError("budget_fen", f"negative DRG budget {budget_fen}")
    t = _classify(cases, weights, rules)
    t = t.filter(t.kind != REVIEW)
    total = fetch(t.aggregate(w=t.weight_e4.sum())).to_pylist()[0]["w"] or 0
    if total <= 0:
        raise ValidationError("drg", "no payable case carries a weight; the base rate is undefined", record="DRG cases")
    return div_round(budget_fen * W, total, rules.rounding)


def drg_pay(
    cases: ir.Table,
    weights: ir.Table,
    rules: DrgRules,
    rate_fen: int,
    institutions: ir.Table | None = None,
) -> ir.Table:
    """Per-case DRG payment. ``cases``: ``case_id, fixmedins_code, drg, cost_fen`` and optionally
    ``status`` (grouper), ``los``, ``review`` (特病单议 requested). ``rate_fen``: the base rate
    (:func:`base_rate`). Each row explains itself: weight, group mean, thresholds, base rate, kind."""
    check_cases(cases, CASE_COLUMNS, "DRG cases", institutions)
    t = _classify(cases, weights, rules)
    r = rules.rounding
    standard = round_div(t.weight_e4 * rate_fen, W, r)
    high = standard + round_div((t.cost_fen - t.high_fen) * scaled(rules.high_pay_rate, PPM), PPM, r)
    low = ibis.least(round_div(t.cost_fen * scaled(rules.low_pay_rate, PPM), PPM, r), standard)
    # what the case's group pays for it, review or not (a rejected review is paid this)
    group = ibis.cases((t.cost_fen > t.high_fen, high), (t.cost_fen < t.low_fen, low), else_=standard)
    keep = [c for c in ("case_id", "fixmedins_code", "drg", "cost_fen") if c in t.columns]
    return t.select(
        *keep,
        weight_e4=t.weight_e4,
        mean_cost_fen=t.mean_cost_fen,
        base_rate_fen=ibis.literal(rate_fen, "int64"),
        high_threshold_fen=t.high_fen,
        low_threshold_fen=t.low_fen,
        kind=t.kind,
        review_reason=t.review_reason,
        standard_fen=ibis.ifelse(t.kind == REVIEW, ibis.null("int64"), standard),
        group_fen=group.cast("int64"),
        payment_fen=ibis.ifelse(t.kind == REVIEW, ibis.null("int64"), group).cast("int64"),
    )


def drg_review(paid: ir.Table, outcomes: ir.Table, rules: ReviewRules) -> ir.Table:
    """特病单议 after review (:mod:`yibao.payment.review`): ``paid`` from :func:`drg_pay` with each
    reviewed case's ``payment_fen`` — approved: by project; rejected: ``group_fen`` (0 without a
    weight); no outcome: null. Adds ``review_decision`` (approved / rejected / pending) and
    ``approved_fen``."""
    return apply_outcomes(paid, outcomes, "DRG", "payment_fen", "group_fen", rules)


def drg_institutions(paid: ir.Table) -> ir.Table:
    """Per institution: cases, payable and review cases, total weight, CMI (mean weight of payable
    cases, ×10 000), payment, cost of the cases paid and the balance (payment − cost). After
    :func:`drg_review`, reviewed cases count as paid (``review_paid_cases``, ``review_payment_fen``);
    ``review_cost_fen`` is the cost of the cases still unpaid."""
    payable = paid.kind != REVIEW
    settled = paid.payment_fen.notnull()
    g = paid.group_by("fixmedins_code").aggregate(
        cases=paid.count(),
        paid_cases=payable.sum().cast("int64"),
        review_cases=(~payable).sum().cast("int64"),
        review_paid_cases=(~payable & settled).sum().cast("int64"),
        high_cases=(paid.kind == HIGH).sum().cast("int64"),
        low_cases=(paid.kind == LOW).sum().cast("int64"),
        total_weight_e4=ibis.ifelse(payable, paid.weight_e4, 0).sum().cast("int64"),
        payment_fen=paid.payment_fen.sum().cast("int64"),
        review_payment_fen=ibis.ifelse(payable, 0, paid.payment_fen.fill_null(0)).sum().cast("int64"),
        cost_fen=ibis.ifelse(settled, paid.cost_fen, 0).sum().cast("int64"),
        review_cost_fen=ibis.ifelse(settled, 0, paid.cost_fen).sum().cast("int64"),
    )
    g = g.mutate(payment_fen=g.payment_fen.fill_null(0))
    return g.mutate(
        cmi_e4=ibis.ifelse(g.paid_cases > 0, round_div(g.total_weight_e4, ibis.greatest(g.paid_cases, 1)), 0),
        balance_fen=g.payment_fen - g.cost_fen,
    ).order_by("fixmedins_code")
