"""The DIP catalog (病种目录库): core and comprehensive groups with scores, from three years of history.

Grouping keys of a case (:func:`case_keys`):

* core (核心病种): principal diagnosis subcategory (医保 ICD-10 亚目, first 5 characters, ``K35.8``)
  × procedure combination (the distinct ICD-9-CM-3 细目 of all its procedures, first 5 characters,
  sorted and joined by ``+``; empty for conservative treatment) — ``K35.8/47.01``;
* comprehensive (综合病种): diagnosis category (类目, first 3 characters) × procedure type —
  ``K35:surgical``.

Procedure type (:func:`procedure_type`), the highest of a case's procedures in the order
conservative < diagnostic < therapeutic < surgical, by ICD-9-CM-3 chapter:

* surgical (相关手术): chapters 01–86 except their ``.1x`` subcategories;
* diagnostic (诊断性操作): the ``.1x`` subcategories of 01–86 (``Diagnostic procedures on …`` in the
  classification), 87–91 (imaging, interviews, laboratory) and 92.0–92.1 (nuclear imaging);
* therapeutic (治疗性操作): chapter 00 (procedures and interventions NEC), 92.2–92.9 (radiotherapy)
  and 93–99 (physical, respiratory and other non-operative therapy);
* conservative (保守治疗): no procedure.

A combination with at least ``core_min_cases`` cases over the three years is a core group; every
other case falls in its comprehensive group. Each group's cases of each year are then trimmed by the
pack's rule (``payment.dip.trim``, :mod:`yibao.payment.trim`; e.g. ``mean_multiple`` keeps the
cases costing between ``low_multiple`` and ``high_multiple`` × that year's group mean) and the means
recomputed over the kept cases. A group's mean cost is the weighted mean (1:2:7 from the pack,
oldest first, renormalised over the years in which the group has kept cases) of its yearly mean
costs; the overall mean likewise over all kept cases; ``score = group mean ÷ overall mean × scale``,
kept to 2 decimals (``score_e2``). ``cases`` counts a group's history cases, ``trimmed`` those left
out of its mean; a group whose every case would be trimmed keeps them all (``trimmed`` 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from yibao.errors import PolicyError, ValidationError
from yibao.money import Rounding, div_round
from yibao.payment.backends import require_columns
from yibao.payment.common import P, cached, check_cases, fetch
from yibao.payment.trim import TrimRule, trim
from yibao.policy import Params

__all__ = ["DipRules", "build_catalog", "check_catalog", "case_keys", "procedure_type", "CATALOG_COLUMNS", "KINDS",
           "SURGICAL", "THERAPEUTIC", "DIAGNOSTIC", "CONSERVATIVE"]

SURGICAL, THERAPEUTIC, DIAGNOSTIC, CONSERVATIVE = "surgical", "therapeutic", "diagnostic", "conservative"
CATALOG_COLUMNS = ("group_id", "kind", "diagnosis", "procedures", "cases", "trimmed", "mean_cost_fen", "score_e2")
KINDS = ("core", "comprehensive")
_SETTLED_BY = {"group_id": "str", "kind": "str", "score_e2": "int", "mean_cost_fen": "int"}
_OPS = r"(0[1-9]|[1-7][0-9]|8[0-6])"
_SURGICAL_RE = rf"(^|\|){_OPS}\.[02-9]"
_THERAPEUTIC_RE = r"(^|\|)(00\.|92\.[2-9]|9[3-9]\.)"
_DIAGNOSTIC_RE = rf"(^|\|)({_OPS}\.1|8[7-9]\.|9[01]\.|92\.[01])"
_HISTORY = {"case_id": "str", "diagnoses": "str", "cost_fen": "int"}


@dataclass(frozen=True)
class DipRules:
    """The pack's DIP parameters (``payment.dip.*``)."""

    history_weights: tuple[int, ...]
    core_min_cases: int
    score_scale: int
    low_ratio: Decimal
    high_ratio: Decimal
    age_bands: tuple[tuple[int, Decimal], ...]
    cc_coef: Decimal
    mcc_coef: Decimal
    death_coef: Decimal
    short_stay_days: int
    short_stay_coef: Decimal
    level_coef: dict
    primary_coef: Decimal
    primary_diagnoses: tuple[str, ...]
    reimbursement_ratio: Decimal
    review_cost_multiple: Decimal
    trim: TrimRule = TrimRule("none")
    rounding: Rounding = Rounding.HALF_UP  # of the money of each case

    @classmethod
    def from_params(cls, params: Params) -> "DipRules":
        p = params.node("payment.dip")
        rules = cls(
            history_weights=tuple(p["history_weights"]), core_min_cases=p["core_min_cases"],
            score_scale=p["score_scale"], low_ratio=p["deviation.low_ratio"], high_ratio=p["deviation.high_ratio"],
            age_bands=tuple(sorted((r["from_age"], r["coef"]) for r in p["auxiliary.age_bands"])),
            cc_coef=p["auxiliary.cc_coef"], mcc_coef=p["auxiliary.mcc_coef"], death_coef=p["auxiliary.death_coef"],
            short_stay_days=p["auxiliary.short_stay_days"], short_stay_coef=p["auxiliary.short_stay_coef"],
            level_coef=dict(p["institution.level_coef"]), primary_coef=p["institution.primary_coef"],
            primary_diagnoses=tuple(p["institution.primary_diagnoses"]),
            reimbursement_ratio=p["reimbursement_ratio"],
            trim=TrimRule.from_params(p.node("trim"), "payment.dip") if p.has("trim.rule") else TrimRule("none"),
            review_cost_multiple=p["review.cost_multiple"], rounding=params.pack.rounding,
        )
        if not rules.history_weights or any(w <= 0 for w in rules.history_weights):
            raise PolicyError(f"payment.dip.history_weights: {rules.history_weights} must be positive")
        if rules.core_min_cases < 1:
            raise PolicyError(f"payment.dip.core_min_cases: {rules.core_min_cases} must be at least 1")
        if rules.reimbursement_ratio <= 0:
            raise PolicyError("payment.dip.reimbursement_ratio: must be positive")
        return rules


def procedure_type(procedures: ir.StringValue) -> ir.StringValue:
    """The highest procedure type of a ``|``-joined list of ICD-9-CM-3 codes (rule in the module doc)."""
    p = procedures.fill_null("")
    return ibis.cases(
        (p.re_search(_SURGICAL_RE), SURGICAL),
        (p.re_search(_THERAPEUTIC_RE), THERAPEUTIC),
        (p.re_search(_DIAGNOSTIC_RE), DIAGNOSTIC),
        else_=CONSERVATIVE,
    )


def _codes(column: ir.StringValue) -> ir.ArrayValue:
    # Spark's split() takes a regex, DuckDB's a literal: "|" is swapped for "," so both agree.
    return column.fill_null("").replace("|", ",").split(",")


def case_keys(cases: ir.Table) -> ir.Table:
    """Adds ``dx5, dx3, combo, proc_type, core_key, comp_key`` (the grouping keys) to ``cases``."""
    principal = _codes(cases.diagnoses)[0].strip()
    combo = _codes(cases.procedures if "procedures" in cases.columns else ibis.literal("")).map(
        lambda c: c.strip()[:5]).filter(lambda c: c != "").unique().sort().join("+")
    ptype = procedure_type(cases.procedures if "procedures" in cases.columns else ibis.literal(""))
    t = cases.mutate(dx5=principal[:5], dx3=principal[:3], combo=combo.fill_null(""), proc_type=ptype)
    return t.mutate(core_key=t.dx5 + "/" + t.combo, comp_key=t.dx3 + ":" + t.proc_type)


def _yearly(histories: Sequence[ir.Table]) -> ir.Table:
    parts = []
    for year, h in enumerate(histories):
        require_columns(h, _HISTORY, f"DIP history year {year + 1}")
        proc = h.procedures if "procedures" in h.columns else ibis.literal("", "string")
        parts.append(h.select("case_id", "diagnoses", "cost_fen", procedures=proc.cast("string"),
                              _y=ibis.literal(year, "int64"), year_label=ibis.literal(f"DIP history year {year + 1}")))
    t = ibis.union(*parts) if len(parts) > 1 else parts[0]
    check_cases(t, _HISTORY, "DIP history")
    return case_keys(t.drop("year_label"))


def _weighted_mean(by_year: dict[int, tuple[int, int]], weights: Sequence[int]) -> Fraction:
    """Σ w_y·(S_y/n_y) / Σ w_y over the years with cases."""
    num = sum(Fraction(weights[y]) * Fraction(s, n) for y, (n, s) in by_year.items())
    return num / sum(weights[y] for y in by_year)


def build_catalog(histories: Sequence[ir.Table], rules: DipRules) -> ir.Table:
    """Build the catalog from history tables, oldest first (columns ``case_id, diagnoses, procedures,
    cost_fen``). One table per weight in ``rules.history_weights`` (three by default).

    Returns ``group_id, kind (core/comprehensive), diagnosis, procedures, cases, trimmed, mean_cost_fen,
    score_e2``."""
    weights = rules.history_weights
    if len(histories) != len(weights):
        raise ValidationError("history", f"{len(histories)} history years given, the pack weights {len(weights)} ({weights})")
    keyed = _yearly(histories).select("core_key", "comp_key", "dx5", "dx3", "combo", "proc_type", "_y", "cost_fen")
    t = cached(keyed)  # two passes over the keyed cases: compute the keys once
    counts = fetch(t.group_by("core_key").aggregate(n=t.count()))
    core = counts.filter(pc.greater_equal(counts["n"], rules.core_min_cases)).select(["core_key"])
    core_t = ibis.memtable(core.append_column("_core", pa.array([True] * core.num_rows, pa.bool_())))
    j = t.left_join(core_t, "core_key")
    is_core = j._core.fill_null(False)
    g = j.mutate(
        group_id=ibis.ifelse(is_core, j.core_key, j.comp_key),
        kind=ibis.ifelse(is_core, "core", "comprehensive"),
        diagnosis=ibis.ifelse(is_core, j.dx5, j.dx3),
        procedures=ibis.ifelse(is_core, j.combo, j.proc_type),
    )
    g = g.select("group_id", "kind", "diagnosis", "procedures", "_y", "cost_fen")
    kept, counts = trim(g, ["group_id", "_y"], rules.trim)
    keys = ["group_id", "kind", "diagnosis", "procedures", "_y"]
    groups: dict[str, dict] = {}
    _collect(kept, keys, groups)
    whole = {r["group_id"] for r in counts} - set(groups)
    if whole:  # trimming would leave these groups empty: they keep every case
        _collect(g.filter(g.group_id.isin(sorted(whole))), keys, groups)
    overall: dict[int, list[int]] = {}
    for grp in groups.values():
        for y, (n, s_) in grp["years"].items():
            tot = overall.setdefault(y, [0, 0])
            tot[0] += n
            tot[1] += s_
    total_cases: dict[str, int] = {}
    for r in counts:
        total_cases[r["group_id"]] = total_cases.get(r["group_id"], 0) + r["n"]
    if not groups:
        raise ValidationError("history", "no history cases to build a catalog from")
    overall_mean = _weighted_mean({y: tuple(v) for y, v in overall.items()}, weights)
    if overall_mean <= 0:
        raise ValidationError("cost_fen", "history costs sum to zero; scores are undefined", record="DIP history")
    ids = sorted(groups)
    out = {c: [] for c in CATALOG_COLUMNS}
    for gid in ids:
        grp = groups[gid]
        mean = _weighted_mean(grp["years"], weights)
        out["group_id"].append(gid)
        out["kind"].append(grp["kind"])
        out["diagnosis"].append(grp["diagnosis"])
        out["procedures"].append(grp["procedures"])
        out["cases"].append(total_cases[gid])
        out["trimmed"].append(total_cases[gid] - sum(n for n, _ in grp["years"].values()))
        out["mean_cost_fen"].append(div_round(mean.numerator, mean.denominator))
        score = mean / overall_mean * rules.score_scale * P
        out["score_e2"].append(div_round(score.numerator, score.denominator))
    schema = pa.schema([("group_id", pa.string()), ("kind", pa.string()), ("diagnosis", pa.string()),
                        ("procedures", pa.string()), ("cases", pa.int64()), ("trimmed", pa.int64()),
                        ("mean_cost_fen", pa.int64()), ("score_e2", pa.int64())])
    return ibis.memtable(pa.table(out, schema=schema))


def _collect(cases: ir.Table, keys: list[str], groups: dict[str, dict]) -> None:
    """Add each group's yearly (cases, Σcost) of ``cases`` to ``groups``."""
    agg = fetch(cases.group_by(keys).aggregate(n=cases.count(), s=cases.cost_fen.sum()))
    for r in agg.to_pylist():
        grp = groups.setdefault(r["group_id"], {"kind": r["kind"], "diagnosis": r["diagnosis"],
                                                "procedures": r["procedures"], "years": {}})
        grp["years"][r["_y"]] = (r["n"], r["s"])


def check_catalog(catalog: ir.Table) -> None:
    """Refuse a catalog that would mis-pay: a missing column, a kind other than core or
    comprehensive, a group listed twice (its cases would be paid twice), a missing or negative
    score, a mean cost that is not positive. The error names the row (1-based, in file order)."""
    require_columns(catalog, _SETTLED_BY, "DIP catalog")
    rows = fetch(catalog.select(*_SETTLED_BY)).to_pylist()
    first: dict[str, int] = {}
    for n, r in enumerate(rows, 1):
        where = f"DIP catalog row {n} (group {r['group_id']})"
        if r["kind"] not in KINDS:
            raise ValidationError("kind", f"{r['kind']!r} is not core or comprehensive", record=where)
        if r["group_id"] in first:
            raise ValidationError("group_id", f"duplicate group, also row {first[r['group_id']]}", record=where)
        first[r["group_id"]] = n
        if r["score_e2"] is None or r["score_e2"] < 0:
            raise ValidationError("score_e2", f"missing or negative score {r['score_e2']}", record=where)
        if r["mean_cost_fen"] is None or r["mean_cost_fen"] <= 0:
            raise ValidationError("mean_cost_fen", f"mean cost {r['mean_cost_fen']} is not positive", record=where)
