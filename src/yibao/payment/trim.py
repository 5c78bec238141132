"""Outlier trimming (剔除极端值) before fitting DRG weights and DIP scores: one rule, from the pack.

A rule keeps, within each group (``by`` columns), the cases whose cost is not extreme; the group's
mean is then recomputed over the kept cases. Rules (``rule``):

* ``sd``: keep ``mean − k·sd ≤ cost ≤ mean + k·sd`` (sample sd, computed exactly from integer sums;
  bounds rounded inward to the fen);
* ``percentile``: drop the ``floor(low_percentile·n)`` cheapest and ``floor((1 − high_percentile)·n)``
  dearest cases (ties broken by row order within equal costs, which does not change the kept sum);
* ``mean_multiple``: keep ``low_multiple × mean ≤ cost ≤ high_multiple × mean`` (bounds rounded
  inward to the fen);
* ``none``: keep everything.

Means and spreads are those of the untrimmed group. Groups with fewer than ``min_cases`` cases (and,
for ``sd``, fewer than 2) are kept whole: a spread needs a few cases to mean anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from yibao.errors import PolicyError
from yibao.payment.backends import idiv
from yibao.payment.common import PPM, fetch, scaled

__all__ = ["TrimRule", "trim", "RULES"]

RULES = ("sd", "percentile", "mean_multiple", "none")
_BIG = 2**62


@dataclass(frozen=True)
class TrimRule:
    """A trimming rule and its parameters (only those of ``rule`` matter)."""

    rule: str
    sd_multiple: Decimal = Decimal(3)
    low_percentile: Decimal = Decimal(0)
    high_percentile: Decimal = Decimal(1)
    low_multiple: Decimal = Decimal(0)
    high_multiple: Decimal = Decimal(_BIG)
    min_cases: int = 0

    def __post_init__(self):
        if self.rule not in RULES:
            raise PolicyError(f"trim.rule: {self.rule!r} is not one of {', '.join(RULES)}")
        if not 0 <= self.low_percentile < self.high_percentile <= 1:
            raise PolicyError("trim: need 0 ≤ low_percentile < high_percentile ≤ 1")
        if not 0 <= self.low_multiple < 1 < self.high_multiple:
            raise PolicyError("trim: need 0 ≤ low_multiple < 1 < high_multiple")
        if self.sd_multiple <= 0:
            raise PolicyError("trim.sd_multiple: must be positive")

    @classmethod
    def from_params(cls, node, where: str) -> "TrimRule":
        """From a pack node with ``rule`` and the parameters that rule needs (``where`` names it in errors)."""
        fields = ("sd_multiple", "low_percentile", "high_percentile", "low_multiple", "high_multiple", "min_cases")
        try:
            return cls(node["rule"], **{f: node[f] for f in fields if node.has(f)})
        except PolicyError as e:
            raise PolicyError(f"{where}.{e}") from None


def _sd_bounds(n: int, s: int, q: int, k: Decimal) -> tuple[int, int]:
    """Integer fen bounds of ``mean ± k·sd`` (sample sd) from n, Σcost and Σcost², exactly."""
    with localcontext() as ctx:
        ctx.prec = 50
        mean = Decimal(s) / n
        var = (Decimal(q) - Decimal(s) * Decimal(s) / n) / (n - 1)
        spread = k * var.sqrt() if var > 0 else Decimal(0)
        return max(0, math.ceil(mean - spread)), math.floor(mean + spread)


def _multiple_bounds(n: int, s: int, low: Decimal, high: Decimal) -> tuple[int, int]:
    """Integer fen bounds of ``[low × mean, high × mean]``, exactly."""
    mean = Fraction(s, n)
    return math.ceil(Fraction(low) * mean), math.floor(Fraction(high) * mean)


def trim(t: ir.Table, by: Sequence[str], rule: TrimRule, cost: str = "cost_fen") -> tuple[ir.Table, list[dict]]:
    """The kept rows of ``t`` (its columns) and each group's count before trimming (dicts with the
    ``by`` columns and ``n``)."""
    by = list(by)
    if rule.rule == "percentile":
        n = t.count().over(group_by=by)
        rank = ibis.row_number().over(group_by=by, order_by=cost)  # 0-based
        drop_low = idiv(n * scaled(rule.low_percentile, PPM), PPM)
        drop_high = idiv(n * scaled(1 - rule.high_percentile, PPM), PPM)
        w = t.mutate(_n=n, _r=rank, _lo=drop_low, _hi=drop_high)
        kept = w.filter((w._n < rule.min_cases) | ((w._r >= w._lo) & (w._r < w._n - w._hi)))
        counts = fetch(t.group_by(by).aggregate(n=t.count())).to_pylist()
        return kept.select(*t.columns), counts
    sums = {"n": t.count(), "s": t[cost].sum()}
    if rule.rule == "sd":  # Σcost² only where a spread is needed
        sq = t[cost].cast("decimal(38,0)")
        sums["q"] = (sq * sq).sum()
    stats = fetch(t.group_by(by).aggregate(**sums)).to_pylist()
    counts = [{**{k: r[k] for k in by}, "n": r["n"]} for r in stats]
    if rule.rule == "none" or not stats:
        return t, counts
    lows, highs = [], []
    for r in stats:
        if r["n"] < max(rule.min_cases, 2 if rule.rule == "sd" else 1):
            lo, hi = 0, _BIG
        elif rule.rule == "sd":
            lo, hi = _sd_bounds(r["n"], int(r["s"]), int(r["q"]), rule.sd_multiple)
        else:
            lo, hi = _multiple_bounds(r["n"], int(r["s"]), rule.low_multiple, rule.high_multiple)
        lows.append(lo)
        highs.append(hi)
    cols = {k: pa.array([r[k] for r in stats], t.schema()[k].to_pyarrow()) for k in by}
    bounds = ibis.memtable(pa.table({**cols, "_lo": pa.array(lows, pa.int64()), "_hi": pa.array(highs, pa.int64())}))
    j = t.join(bounds, by)
    return j.filter((j[cost] >= j._lo) & (j[cost] <= j._hi)).select(*t.columns), counts
