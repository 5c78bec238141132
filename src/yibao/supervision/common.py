"""What every kind builds on: the batch tables (:class:`Tables`), the one-claim context
(:class:`ClaimCheck`), the Finding columns of a query (:func:`findings`) and a kind's interface.

Both speeds see the same inputs: a claim with its person's sex, birth and death dates and its
institution's level; dates as day numbers (``epoch_days``); a person's history as the claims admitted
before (``(adm, claim_id)`` order, see :mod:`yibao.supervision.model`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterable

import ibis
import ibis.expr.types as ir
import pandas as pd

from yibao.supervision.model import Claim, Finding, Line, Visit
from yibao.supervision.rules import ParamSpec, Rule

FINDING_TYPES = {"claim_id": "string", "line_nos": "array<int64>", "item_code": "string", "observed": "float64",
                 "limit": "float64", "vola_amt": "int64", "ref_claim_id": "string", "detail": "string"}
NO_END = 2**31 - 1  # day number of an item version with no end date


class Kind:
    """A rule kind: its parameters, how a rule's data is resolved (item tables from the catalog or the
    NHSA 两库), its Ibis query over a year and its check of one claim — side by side, one meaning."""

    name: str = ""
    label: str = ""  # the Chinese name of the kind
    per_claim = True  # False: judged against the year's peers, so 事后 only (no check of one claim)
    params = ParamSpec({})

    def resolve(self, rule: Rule, catalog) -> Any:
        return None

    def batch(self, rule: Rule, data: Any, t: "Tables") -> ir.Table:
        raise NotImplementedError

    def check(self, rule: Rule, data: Any, c: "ClaimCheck") -> Iterable[Finding]:
        raise NotImplementedError

    def text(self, rule: Rule, data: Any, f: Finding) -> str:
        return f"{rule.name}：{f.item_code or ''}".rstrip("：")


@dataclass
class Tables:
    """The lake bound to a backend: ``claims`` (with person and institution columns and day numbers)
    and ``lines`` (with ``base`` and ``day``); ``lines_claims`` is the two joined."""

    claims: ir.Table
    lines: ir.Table
    backend: Any

    @functools.cached_property
    def lines_claims(self) -> ir.Table:
        c = self.claims
        keep = [x for x in c.columns if x != "claim_id"]
        return self.lines.join(c, self.lines.claim_id == c.claim_id).select(self.lines, *[c[x] for x in keep])

    def memtable(self, df: pd.DataFrame) -> ir.Table:
        return self.backend.table(df)

    def applies(self, rule: Rule, table: ir.Table) -> ir.Table:
        """Rows of claims the rule is in force for (its 险种 and dates)."""
        cond = [table.adm >= _day(rule.since)]
        if rule.until is not None:
            cond.append(table.adm <= _day(rule.until))
        if rule.insutypes is not None:
            cond.append(table.insutype.isin(sorted(rule.insutypes)))
        return table.filter(*cond)


def _day(d) -> int:
    from yibao.supervision.model import day_number

    return day_number(d)


def findings(t: ir.Table, claim_id, vola_amt, line_nos=None, item_code=None, observed=None, limit=None,
             ref=None, detail=None) -> ir.Table:
    """A query's rows as Finding columns (typed nulls where a kind has nothing to say)."""
    values = {"claim_id": claim_id, "line_nos": line_nos, "item_code": item_code, "observed": observed,
              "limit": limit, "vola_amt": vola_amt, "ref_claim_id": ref, "detail": detail}
    cols = {}
    for name, typ in FINDING_TYPES.items():
        v = values[name]
        v = ibis.literal(v) if isinstance(v, (int, float, str)) else v
        cols[name] = ibis.null().cast(typ) if v is None else _cast(v, typ)
    return t.select(**cols)


def _cast(v: ir.Value, typ: str) -> ir.Value:
    """``v`` as ``typ``; a literal keeps its cast in the SQL. Ibis drops a cast to the type a literal
    already has, and Spark then types ``ARRAY()`` as array<void> (which its Arrow transfer refuses)
    and ``1.0`` as a decimal."""
    import ibis.expr.datatypes as dt
    import ibis.expr.operations as ops

    if isinstance(v.op(), ops.Literal):
        return ops.Cast(v.op(), to=dt.dtype(typ)).to_expr()
    return v.cast(typ)


def one_line(t: ir.Table) -> ir.Value:
    return ibis.array([t.line_no.cast("int64")])


def half_up(x: ir.NumericValue) -> ir.IntegerValue:
    """``floor(x + 0.5)`` as int64: the fen rounding :func:`yibao.supervision.model.half_up` does."""
    return (x + 0.5).floor().cast("int64")


def starts_with_any(col: ir.StringValue, prefixes) -> ir.BooleanValue:
    prefixes = list(prefixes)
    if not prefixes:
        return ibis.literal(False)
    return ibis.or_(*[col.startswith(p) for p in prefixes])


class ClaimCheck:
    """One claim, its lines and the person's history, with the look-ups kinds share (built on use)."""

    def __init__(self, claim: Claim, lines: Iterable[Line], history: Iterable[Visit] = ()):
        self.claim = claim
        self.lines = tuple(lines)
        self._history = history

    @functools.cached_property
    def prior(self) -> tuple[Visit, ...]:
        """History claims admitted before this one, oldest first."""
        me = self.claim.order
        return tuple(sorted((v for v in self._history if v.claim.order < me and v.claim.claim_id != self.claim.claim_id),
                            key=lambda v: v.claim.order))

    @functools.cached_property
    def prior_stays(self) -> tuple[Claim, ...]:
        return tuple(v.claim for v in self.prior if v.claim.is_stay)

    def uses(self, by_base: bool) -> dict[str, list[tuple[int, str, Line, Claim]]]:
        """Every earlier and own line by item code (or base code): (day, claim_id, line, claim)."""
        key = "_uses_base" if by_base else "_uses_item"
        got = self.__dict__.get(key)
        if got is None:
            got = {}
            for v in (*self.prior, Visit(self.claim, self.lines)):
                for ln in v.lines:
                    got.setdefault(ln.base if by_base else ln.item_code, []).append((ln.day, v.claim.claim_id, ln, v.claim))
            self.__dict__[key] = got
        return got

    @functools.cached_property
    def diagnoses(self) -> tuple[str, ...]:
        return self.claim.diagnoses


__all__ = ["ClaimCheck", "FINDING_TYPES", "Kind", "NO_END", "Tables", "findings", "half_up", "one_line",
           "starts_with_any"]
