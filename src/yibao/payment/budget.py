"""总额预算 (global budget): the regional budget, its payment pools, institution allocations and
monthly advances (按月预拨).

Splits are exact: each part is rounded down and the fen left over go one by one to the largest
remainders (ties to the first key), so the parts always add up to the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from yibao.errors import PolicyError, ValidationError
from yibao.payment.backends import idiv, require_columns, round_div
from yibao.money import Rounding, div_round
from yibao.payment.common import PPM, fetch, scaled
from yibao.policy import Params

__all__ = ["BudgetRules", "regional_budget", "split_pools", "allocate", "monthly_advances", "split_exact"]

POOLS = ("drg_dip", "per_diem", "capitation", "other")


@dataclass(frozen=True)
class BudgetRules:
    pools: dict  # pool → share (Decimal), summing to 1
    growth_rate: Decimal
    advance_share: Decimal
    rounding: Rounding = Rounding.HALF_UP

    @classmethod
    def from_params(cls, params: Params) -> "BudgetRules":
        p = params.node("payment.budget")
        pools = dict(p["pools"])
        if sum(pools.values()) != 1:
            raise PolicyError(f"payment.budget.pools: shares add up to {sum(pools.values())}, not 1")
        unknown = set(pools) - set(POOLS)
        if unknown:
            raise PolicyError(f"payment.budget.pools: unknown pool(s) {sorted(unknown)}; pools are {', '.join(POOLS)}")
        return cls(pools, p["growth_rate"], p["advance_share"], params.pack.rounding)


def regional_budget(last_year_fen: int, rules: BudgetRules) -> int:
    """以收定支: last year's spending grown by the pack's rate, to the fen by the pack's rounding."""
    if last_year_fen < 0:
        raise ValidationError("last_year_fen", f"negative spending {last_year_fen}")
    return div_round(last_year_fen * scaled(1 + rules.growth_rate, PPM), PPM, rules.rounding)


def split_exact(total_fen: int, weights: Mapping[str, int | Fraction | Decimal]) -> dict[str, int]:
    """``total`` in proportion to ``weights`` (largest remainder); the parts sum to ``total``."""
    if total_fen < 0:
        raise ValidationError("total_fen", f"negative amount {total_fen}")
    ws = {k: Fraction(v) for k, v in weights.items()}
    if any(w < 0 for w in ws.values()):
        raise ValidationError("weights", "negative share")
    whole = sum(ws.values())
    if whole == 0:
        raise ValidationError("weights", "all shares are zero; nothing to split by")
    exact = {k: total_fen * w / whole for k, w in ws.items()}
    parts = {k: int(v) for k, v in exact.items()}  # floor (values ≥ 0)
    left = total_fen - sum(parts.values())
    order = sorted(ws, key=lambda k: (-(exact[k] - parts[k]), list(ws).index(k)))
    for k in order[:left]:
        parts[k] += 1
    return parts


def split_pools(total_fen: int, rules: BudgetRules) -> dict[str, int]:
    """The regional budget by pool (DRG/DIP, per-diem, outpatient capitation, other)."""
    return split_exact(total_fen, rules.pools)


def allocate(pool_fen: int, history: ir.Table, pool: str = "drg_dip") -> ir.Table:
    """A pool's budget split among institutions by their share of history spending.

    ``history``: ``fixmedins_code, cost_fen`` rows (cases or per-institution sums). Returns
    ``fixmedins_code, pool, history_fen, budget_fen``."""
    require_columns(history, {"fixmedins_code": "str", "cost_fen": "int"}, f"{pool} history")
    rows = fetch(history.group_by("fixmedins_code").aggregate(h=history.cost_fen.sum())).to_pylist()
    shares = {r["fixmedins_code"]: int(r["h"] or 0) for r in sorted(rows, key=lambda r: r["fixmedins_code"])}
    if any(v < 0 for v in shares.values()):
        bad = next(k for k, v in shares.items() if v < 0)
        raise ValidationError("cost_fen", "negative history spending", record=f"{pool} history institution {bad}")
    parts = split_exact(pool_fen, shares)
    codes = list(shares)
    return ibis.memtable(pa.table({
        "fixmedins_code": codes,
        "pool": [pool] * len(codes),
        "history_fen": pa.array([shares[c] for c in codes], pa.int64()),
        "budget_fen": pa.array([parts[c] for c in codes], pa.int64()),
    }))


def monthly_advances(allocations: ir.Table, rules: BudgetRules) -> ir.Table:
    """按月预拨: ``advance_share`` of each institution's budget in 12 instalments; months 1–11 get the
    floor of a twelfth, month 12 the rest. Returns ``fixmedins_code, month, advance_fen``."""
    require_columns(allocations, {"fixmedins_code": "str", "budget_fen": "int"}, "allocations")
    per_inst = allocations.group_by("fixmedins_code").aggregate(budget_fen=allocations.budget_fen.sum())
    annual = round_div(per_inst.budget_fen * scaled(rules.advance_share, PPM), PPM, rules.rounding)
    per_inst = per_inst.mutate(annual=annual)
    months = ibis.memtable(pa.table({"month": pa.array(range(1, 13), pa.int64())}))
    t = per_inst.cross_join(months)
    base = idiv(t.annual, 12)
    return t.select(
        "fixmedins_code", "month",
        advance_fen=ibis.ifelse(t.month == 12, t.annual - base * 11, base).cast("int64"),
    ).order_by(["fixmedins_code", "month"])
