"""特病单议 (special-case review): paying the cases set aside once the agency has reviewed them.

DRG (:func:`yibao.payment.drg.payment.drg_pay`) and DIP (:func:`yibao.payment.dip.settle.dip_points`)
set some cases aside (``review_reason``). The agency's review panel decides each one; the outcomes
table has ``case_id, decision`` (``approved`` / ``rejected``) and optionally ``approved_fen`` (an
amount the panel fixed, in cost terms: the fund pays its reimbursement share of it, as of any case).

* approved: paid by project (按项目付费): ``approved_fen`` when given, else the case's cost ×
  ``payment.<method>.review.approved_pay_rate``;
* rejected: paid as the method pays the case's group (DRG: the standard payment or its high / low
  outlier formula; DIP: its points at the year's point value); a case without a group gets nothing;
* no outcome yet: ``pending``, not paid.

:func:`join_outcomes` checks the outcomes (known decision, amount ≥ 0, one per case, only for cases
set aside) and joins them to the cases; :func:`apply_outcomes` computes the money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from yibao.errors import PolicyError, ValidationError
from yibao.money import Rounding
from yibao.payment.backends import require_columns, round_div
from yibao.payment.common import PPM, fetch, scaled
from yibao.policy import Params

__all__ = ["ReviewRules", "join_outcomes", "apply_outcomes", "APPROVED", "REJECTED", "PENDING",
           "FLAGGED", "COSTLY", "LONG_STAY"]

APPROVED, REJECTED, PENDING = "approved", "rejected", "pending"
# why a method set a case aside (``review_reason``), shared by DRG and DIP
FLAGGED, COSTLY, LONG_STAY = "flagged for review", "cost above the review multiple", "stay above the review LOS"
OUTCOME_COLUMNS = {"case_id": "str", "decision": "str"}


@dataclass(frozen=True)
class ReviewRules:
    """``payment.<method>.review.approved_pay_rate``: the share of cost paid for an approved case."""

    approved_pay_rate: Decimal
    rounding: Rounding = Rounding.HALF_UP

    @classmethod
    def from_params(cls, params: Params, method: str) -> "ReviewRules":
        rate = params[f"payment.{method}.review.approved_pay_rate"]
        if not 0 <= rate <= 1:
            raise PolicyError(f"payment.{method}.review.approved_pay_rate: {rate} is not a share in [0, 1]")
        return cls(rate, params.pack.rounding)


def join_outcomes(cases: ir.Table, outcomes: ir.Table, what: str) -> ir.Table:
    """``cases`` (with ``case_id, review_reason``) with ``decision`` and ``approved_fen`` (null where
    no outcome or amount); refuses outcomes that do not fit, naming the first."""
    require_columns(outcomes, OUTCOME_COLUMNS, f"{what} review outcomes")
    if "approved_fen" in outcomes.columns:
        require_columns(outcomes, {"approved_fen": "int"}, f"{what} review outcomes")
        amount = outcomes.approved_fen.cast("int64")
    else:
        amount = ibis.null("int64")
    o = outcomes.select(_case=outcomes.case_id, decision=outcomes.decision, approved_fen=amount)
    aside = cases.filter(cases.review_reason.notnull()).select(_case=cases.case_id)
    bad_decision = o.filter(o.decision.isnull() | ~o.decision.isin([APPROVED, REJECTED]))
    bad_amount = o.filter(o.approved_fen < 0)
    doubled = o.group_by("_case").aggregate(n=o.count())
    doubled = doubled.filter(doubled.n > 1)
    not_aside = o.anti_join(aside, "_case")
    checks = [
        bad_decision.select("_case", problem=ibis.literal("decision ") + bad_decision.decision.fill_null("(none)")
                            + " is not approved or rejected").limit(1),
        bad_amount.select("_case", problem=ibis.literal("negative approved_fen ")
                          + bad_amount.approved_fen.cast("string")).limit(1),
        doubled.select("_case", problem=ibis.literal("more than one outcome for the case")).limit(1),
        not_aside.select("_case", problem=ibis.literal("the case was not set aside for review")).limit(1),
    ]
    rows = fetch(ibis.union(*checks)).to_pylist()
    if rows:
        raise ValidationError("review", rows[0]["problem"], record=f"{what} review outcome case {rows[0]['_case']}")
    j = cases.left_join(o, cases.case_id == o._case)
    return j.drop("_case")


def apply_outcomes(cases: ir.Table, outcomes: ir.Table, what: str, column: str, rejected: str,
                   rules: ReviewRules) -> ir.Table:
    """``cases`` with the money ``column`` of each case set aside replaced — approved: by project
    (the approved amount, else cost × approved_pay_rate); rejected: ``rejected`` (0 when null);
    pending: null — and ``review_decision``, ``approved_fen`` added."""
    t = join_outcomes(cases, outcomes, what)
    aside = t.review_reason.notnull()
    decision = ibis.ifelse(aside, t.decision.fill_null(PENDING), ibis.null("string"))
    by_project = ibis.coalesce(t.approved_fen, round_div(t.cost_fen * scaled(rules.approved_pay_rate, PPM), PPM, rules.rounding))
    amount = ibis.cases(
        (~aside, t[column]),
        (decision == APPROVED, by_project),
        (decision == REJECTED, t[rejected].fill_null(0)),
        else_=ibis.null("int64"),
    )
    return t.mutate(review_decision=decision, **{column: amount.cast("int64")}).drop("decision")
