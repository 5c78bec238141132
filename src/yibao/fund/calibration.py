"""The calibration check: does the engine with a city's pack, on a region synthesized to that city's
published facts, give the city's published 政策范围内住院费用报销比例?

The pack is never tuned to the figure: the check reports the gap and measures what explains it — the
in-scope (政策范围内) share of the synthetic inpatient bills, the share of the in-scope amount the
person bears as deductible (起付线) and as co-payment or above the caps, the ratio by institution level
beside the nearest published split and the in-scope spending's mix by level, and how many of the
pack's inpatient pooling rows cite a document rather than an assumption. The city's facts and the
published figures live with their sources in ``calibration.yaml``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from yibao import vocab
from yibao.errors import ValidationError
from yibao.policy.pack import Pack, load_pack

FACTS = Path(__file__).with_name("calibration.yaml")
PAID = ("hifp_pay", "hifmi_pay", "hifob_pay")  # what the ratio counts as paid (as settle_lake's summary)
SCHEMES = (vocab.EMPLOYEE, vocab.RESIDENT)
LEVELS = ("3", "2", "1")  # 一级 stands for 一级及以下 (levels 1 and 0), as the bulletins group them


@dataclass(frozen=True)
class CityFacts:
    key: str
    pack: str
    region: str
    year: int  # of the published ratio
    published: dict[str, float]  # insutype → ratio
    ref: str
    synth: dict[str, tuple[float, str]]  # SynthConfig field → (value, ref)
    by_level: dict[str, dict[str, float]]  # insutype → level → ratio (the nearest published split)
    by_level_year: int
    by_level_ref: str


@functools.cache
def city_facts() -> dict[str, CityFacts]:
    doc = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    out = {}
    for key, f in doc.items():
        r, lv = f["inpatient_ratio"], f["by_level"]
        out[key] = CityFacts(key, f["pack"], f["region"], int(r["year"]), {s: float(r[s]) for s in SCHEMES},
                             r["ref"], {k: (float(v["value"]), v["ref"]) for k, v in f["synth"].items()},
                             {s: {str(k): float(v) for k, v in lv[s].items()} for s in SCHEMES}, int(lv["year"]), lv["ref"])
    return out


def facts_for(pack: str) -> CityFacts:
    """The city whose pack is ``pack``; a pack without published facts is named with the ones that have."""
    for f in city_facts().values():
        if f.pack == pack:
            return f
    raise ValidationError("--pack", f"{pack!r} has no published facts to calibrate against; packs with facts: "
                          f"{', '.join(sorted(f.pack for f in city_facts().values()))}", record=str(FACTS))


@dataclass(frozen=True)
class Calibration:
    """The check's result: ``schemes`` one row per insutype (ratio, published, gap and the measured
    shares), ``levels`` one row per insutype × level; ``rules`` the inpatient pooling rows in force and
    how many cite an assumption."""

    facts: CityFacts
    year: int
    persons: int
    schemes: pd.DataFrame
    levels: pd.DataFrame
    rules: dict[str, tuple[int, int]]  # insutype → (rows citing an assumption, rows)


def inpatient_rows(statements: pd.DataFrame) -> pd.DataFrame:
    return statements[statements["med_type"].isin(vocab.INPATIENT_MED_TYPES)]


def _ratio(rows: pd.DataFrame) -> float | None:
    scope = int(rows["inscp_scp_amt"].sum())
    return int(sum(rows[f].sum() for f in PAID)) / scope if scope else None


def scheme_table(statements: pd.DataFrame, facts: CityFacts) -> pd.DataFrame:
    """Per scheme: the ratio of the settled inpatient claims, the published one, the gap (points), the
    in-scope share of the bills, and the in-scope amount's split: paid, deductible, the rest (co-payment
    within the rate and what is above the caps)."""
    rows = []
    stays = inpatient_rows(statements)
    for ins in SCHEMES:
        s = stays[stays["insutype"] == ins]
        scope, bill = int(s["inscp_scp_amt"].sum()), int(s["medfee_sumamt"].sum())
        paid, dedc = int(sum(s[f].sum() for f in PAID)), int(s["act_pay_dedc"].sum())
        ratio = _ratio(s)
        rows.append({"insutype": ins, "stays": len(s), "ratio": ratio, "published": facts.published[ins],
                     "gap_points": None if ratio is None else 100 * (ratio - facts.published[ins]),
                     "in_scope_share": scope / bill if bill else None,
                     "deductible_share": dedc / scope if scope else None,
                     "rest_share": (scope - paid - dedc) / scope if scope else None,
                     "medfee_fen": bill, "inscope_fen": scope, "paid_fen": paid, "deductible_fen": dedc})
    return pd.DataFrame(rows)


def level_table(statements: pd.DataFrame, facts: CityFacts) -> pd.DataFrame:
    """Per scheme and level: the ratio, the share of the scheme's in-scope inpatient amount, and the
    published ratio of that level."""
    stays = inpatient_rows(statements)
    level = stays["level"].astype(str).replace({"0": "1"})
    rows = []
    for ins in SCHEMES:
        mine = stays["insutype"] == ins
        total = int(stays.loc[mine, "inscp_scp_amt"].sum())
        for lv in LEVELS:
            s = stays[mine & (level == lv)]
            rows.append({"insutype": ins, "level": lv, "stays": len(s), "ratio": _ratio(s),
                         "scope_share": int(s["inscp_scp_amt"].sum()) / total if total else None,
                         "published": facts.by_level[ins].get(lv)})
    return pd.DataFrame(rows)


def rule_citations(pack: Pack, year: int) -> dict[str, tuple[int, int]]:
    """Per scheme, the inpatient pooling rows in force mid-year: how many cite an assumption, of how many."""
    at = pack.at(dt.date(year, 7, 1))
    table_ref = at.cite("benefits.pooling.rules").ref
    out = {}
    for ins in SCHEMES:
        mine = [r for r in at["benefits.pooling.rules"] if r["med"] == "inpatient" and r["insutype"] in (ins, "*")]
        out[ins] = (sum(str(r.get("ref") or table_ref).startswith("assumption") for r in mine), len(mine))
    return out


def calibration_of(statements: pd.DataFrame, pack: Pack, facts: CityFacts, persons: int) -> Calibration:
    """The check on a settled year (pure: the statements and the pack)."""
    years = sorted(set(pd.to_datetime(statements["dscg_date"]).dt.year))
    if len(years) != 1:
        raise ValidationError("dscg_date", f"claims discharged in {years or 'no year'}; the check takes one year",
                              "settlement statements")
    schemes, levels = scheme_table(statements, facts), level_table(statements, facts)
    schemes["level_mix_ratio"] = [_on_mix(levels[levels["insutype"] == ins]) for ins in schemes["insutype"]]
    return Calibration(facts, int(years[0]), persons, schemes, levels, rule_citations(pack, int(years[0])))


def _on_mix(levels: pd.DataFrame) -> float | None:
    """The published level ratios weighted by this region's in-scope mix by level: what the region's
    mix of care would give at the published rates (so the rest of the gap is the pack's rates)."""
    known = levels.dropna(subset=["scope_share", "published"])
    return float((known["scope_share"] * known["published"]).sum()) if len(known) else None


def calibrate(pack: str, persons: int, seed: int, year: int, out: str | Path) -> Calibration:
    """Synthesize the city's region to its published facts into ``out``, settle it with its pack, check."""
    from yibao.settlement.batch import settle_lake
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    facts = facts_for(pack)
    the_pack = load_pack(facts.pack)
    _check_year(the_pack, year)
    cfg = SynthConfig(persons=persons, year=year, seed=seed, region=facts.region,
                      **{k: v for k, (v, _) in facts.synth.items()})
    generate(cfg, out)
    statements, _ = settle_lake(out, the_pack)
    return calibration_of(statements, the_pack, facts, persons)


def _check_year(pack: Pack, year: int) -> None:
    """The year's claims need the pack's benefit rules in force all year (before anything is synthesized)."""
    missing = [path for path in ("benefits.pooling.rules", "benefits.scope.med_groups")
               if pack.at(dt.date(year, 1, 1)).get(path) is None]
    if missing:
        since = min((d for d, _, _ in pack.params[missing[0]].values), default=None) if missing[0] in pack.params else None
        raise ValidationError("--year", f"pack {pack.name!r} has no {missing[0]} on {year}-01-01"
                              + (f" (in force from {since})" if since else ""))


# -- printed ----------------------------------------------------------------------------------------

SCHEME_LABEL = {vocab.EMPLOYEE: "职工 310", vocab.RESIDENT: "居民 390"}


def _pct(x) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"


def print_calibration(c: Calibration, console) -> None:
    from rich.table import Table

    f = c.facts
    console.print(f"calibration check: pack {f.pack} on a region of {c.persons:,} persons synthesized to "
                  f"{f.key}'s published facts ({', '.join(f'{k} = {v}' for k, (v, _) in f.synth.items())}), "
                  f"year {c.year}", highlight=False)
    t = Table(title="政策范围内住院费用报销比例", title_justify="left")
    for col in ("scheme", "stays", "engine", f"published {f.year}", "gap (points)", "published level ratios on this mix",
                "in-scope share of bills", "deductible share", "co-pay / above caps share"):
        t.add_column(col, justify="left" if col == "scheme" else "right")
    for r in c.schemes.itertuples(index=False):
        t.add_row(SCHEME_LABEL[r.insutype], f"{r.stays:,}", _pct(r.ratio), _pct(r.published),
                  "—" if r.gap_points is None else f"{r.gap_points:+.1f}", _pct(r.level_mix_ratio), _pct(r.in_scope_share),
                  _pct(r.deductible_share), _pct(r.rest_share))
    console.print(t)
    t = Table(title=f"by level: engine beside the national split ({f.by_level_year})", title_justify="left")
    for col in ("scheme", "level", "stays", "share of in-scope", "engine", "published"):
        t.add_column(col, justify="left" if col in ("scheme", "level") else "right")
    for r in c.levels.itertuples(index=False):
        t.add_row(SCHEME_LABEL[r.insutype], {"3": "三级", "2": "二级", "1": "一级及以下"}[r.level], f"{r.stays:,}",
                  _pct(r.scope_share), _pct(r.ratio), _pct(r.published))
    console.print(t)
    for ins, (assumed, n) in c.rules.items():
        console.print(f"{SCHEME_LABEL[ins]}: {assumed} of the {n} inpatient pooling rows in force cite an assumption, "
                      "not a document of the city", highlight=False)
    console.print(f"published: {f.ref}; by level: {f.by_level_ref}", highlight=False)
    console.print("the in-scope share of real 沈阳 bills is not published in the stored material: the synthetic share "
                  "is shown for comparison with other regions' bills", highlight=False)


__all__ = ["Calibration", "CityFacts", "calibrate", "calibration_of", "city_facts", "facts_for", "print_calibration"]
