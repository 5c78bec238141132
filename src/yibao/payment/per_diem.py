"""按床日付费 (per-diem payment) for psychiatry, rehabilitation and hospice, and 按项目付费
(fee-for-service) for what no other method pays.

A stay's department maps to a per-diem kind (``payment.per_diem.departments``); its bed-days
(LOS, at least 1) are paid by LOS band, tiered like tax brackets: with bands from day 1 at 260 and
from day 61 at 220, a 70-day stay is ``60 × 260 + 10 × 220`` (``payment.per_diem.bands``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from yibao.errors import PolicyError
from yibao.money import Rounding
from yibao.payment.backends import round_div
from yibao.payment.common import PPM, check_cases, scaled
from yibao.policy import Params

__all__ = ["PerDiemRules", "per_diem_pay", "fee_for_service", "CASE_COLUMNS"]

CASE_COLUMNS = {"case_id": "str", "fixmedins_code": "str", "dept": "str", "los": "int", "cost_fen": "int"}


@dataclass(frozen=True)
class PerDiemRules:
    """Department → kind, and per kind the bands ``(from_day, daily rate in fen)`` ascending."""

    departments: dict
    bands: dict

    @classmethod
    def from_params(cls, params: Params) -> "PerDiemRules":
        p = params.node("payment.per_diem")
        bands = defaultdict(list)
        for row in p["bands"]:
            bands[row["kind"]].append((row["from_day"], row["rate"]))
        for kind, rows in bands.items():
            rows.sort()
            if rows[0][0] != 1:
                raise PolicyError(f"payment.per_diem.bands: the first band of {kind!r} must start on day 1")
        departments = dict(p["departments"])
        missing = set(departments.values()) - set(bands)
        if missing:
            raise PolicyError(f"payment.per_diem.departments: kind(s) {sorted(missing)} have no bands")
        return cls(departments, dict(bands))


def _kind(dept: ir.StringValue, rules: PerDiemRules) -> ir.StringValue:
    return ibis.cases(*[(dept == d, k) for d, k in sorted(rules.departments.items())], else_=ibis.null("string"))


def _tiered(days: ir.IntegerValue, bands: list[tuple[int, int]]) -> ir.IntegerValue:
    total = ibis.literal(0, "int64")
    for i, (start, rate) in enumerate(bands):
        end = bands[i + 1][0] - 1 if i + 1 < len(bands) else None
        upto = days if end is None else ibis.least(days, end)
        total = total + ibis.greatest(upto - start + 1, 0) * rate
    return total


def per_diem_pay(cases: ir.Table, rules: PerDiemRules) -> ir.Table:
    """Per-diem stays with their payment: ``case_id, fixmedins_code, dept, kind, bed_days, cost_fen,
    payment_fen``. Stays of other departments are left out (another method pays them)."""
    check_cases(cases, CASE_COLUMNS, "per-diem cases")
    t = cases.mutate(kind=_kind(cases.dept, rules), bed_days=ibis.greatest(cases.los.fill_null(0), 1).cast("int64"))
    t = t.filter(t.kind.notnull())
    pay = ibis.cases(*[(t.kind == k, _tiered(t.bed_days, b)) for k, b in sorted(rules.bands.items())], else_=0)
    return t.select("case_id", "fixmedins_code", "dept", "kind", "bed_days", "cost_fen", payment_fen=pay.cast("int64"))


def fee_for_service(claims: ir.Table, paid_elsewhere: ir.Table, fund_share,
                    rounding: Rounding = Rounding.HALF_UP) -> ir.Table:
    """按项目付费: claims no other method paid (anti-join on ``case_id``) at ``cost × fund_share``,
    per institution: ``fixmedins_code, cases, cost_fen, payment_fen``."""
    check_cases(claims, {"case_id": "str", "fixmedins_code": "str", "cost_fen": "int"}, "fee-for-service claims")
    rest = claims.anti_join(paid_elsewhere.select("case_id"), "case_id")
    rest = rest.mutate(payment_fen=round_div(rest.cost_fen * scaled(fund_share, PPM), PPM, rounding))
    return rest.group_by("fixmedins_code").aggregate(
        cases=rest.count(), cost_fen=rest.cost_fen.sum().cast("int64"), payment_fen=rest.payment_fen.sum().cast("int64"),
    ).order_by("fixmedins_code")
