"""The demo's 特病单议 review panel: an assumption of the demo, not a rule.

:func:`yibao.payment.year.pay_year` pays the cases set aside for review by the agency's outcomes;
the demo (``yibao demo``, and ``yibao pay year`` without ``--reviews``) has none, so this panel
decides them.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from yibao.payment.review import APPROVED, COSTLY, FLAGGED, LONG_STAY, REJECTED

__all__ = ["panel_outcomes"]


def panel_outcomes(set_aside: ir.Table) -> ir.Table:
    """Approves the cases set aside for their cost, their length of stay or at the institution's
    request, and rejects those set aside because they have no group or no weight."""
    t = set_aside.filter(set_aside.review_reason.notnull())
    approve = t.review_reason.isin([COSTLY, LONG_STAY, FLAGGED])
    return t.select("case_id", decision=ibis.ifelse(approve, APPROVED, REJECTED))
