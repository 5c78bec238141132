"""Features of institutions, departments and doctors for the anomaly detector, computed over a year
of claims with pandas group-bys (no loop per claim).

Each feature is a ratio ``num / den`` with its support ``n`` (the cases behind it) and ``var_<f>``, the
region's variance of one case's contribution (a rate's ``p(1 − p)``, the spread of one stay's cost ÷
its DRG mean, …), so the detector can tell a small entity's chance excess from a real one. Case mix is handled case by
case: a stay is compared with the region's mean cost of its DRG, an outpatient visit with the mean of
its scheme's visits for the same three-character principal diagnosis.

Input frames:

- ``claims``: ``claim_id, psn_no, fixmedins_code, dept, doctor_code, adm_date, dscg_date, los,
  medfee_sumamt_fen, is_stay, drg, cc_level, med_type, diagnoses`` plus ``peer`` (the institution's
  peer group, kind and level, e.g. ``hospital/3``; a department or doctor is compared within
  ``hospital/3/<dept>``, its main department); ``drg`` is the CHS-DRG of a grouped stay (missing otherwise),
  ``cc_level`` ``MCC`` / ``CC`` / empty.
- ``lines``: ``claim_id, item_code, kind, amount_fen`` (``kind`` drug / consumable / service), and
  ``item_name`` when known (the reason of ``item_excess`` then names the item by code and name).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao.errors import ValidationError

LEVELS = ("institution", "dept", "doctor")
CLAIM_COLUMNS = ("claim_id", "psn_no", "fixmedins_code", "dept", "doctor_code", "adm_date", "dscg_date", "los",
                 "medfee_sumamt_fen", "is_stay", "drg", "cc_level", "med_type", "diagnoses", "peer")
LINE_COLUMNS = ("claim_id", "item_code", "kind", "amount_fen")
READMIT_DAYS = 15  # 15日再入院 (the readmission window the issue names)
SEVERE = ("MCC", "CC")
CHI2_1_MEDIAN = 0.45493642311957283  # the median of a chi-square with one degree of freedom


@dataclass(frozen=True)
class Feature:
    """A scored feature: its Chinese label, the smallest spread that counts as a difference (so a
    peer group of near-equal entities does not turn noise into large z), and its reason text."""

    name: str
    label: str
    floor: float
    percent: bool  # printed as a percentage (shares, rates) or as a multiple / number
    level_bound: bool = False  # differs by institution level by nature: compared within the level only

    def describe(self, value: float, median: float, z: float, item: str = "") -> str:
        """The reason text; ``item`` names the item an ``item_excess`` is taken at (code and name)."""
        if self.name == "item_excess" and item:
            return f"{self.label}：{item} {value * 100:.0f} 个百分点（同级中位 {median * 100:+.0f}，z={z:.1f}）"
        if self.name in ("cost_ratio", "op_cost_ratio") and median > 0:
            return f"{self.label}为同级同病组的 {value / median:.1f} 倍（z={z:.1f}）"
        if self.name in RULE_FEATURES:
            return f"{self.label} {value:.1%}（同级中位 {median:.1%}，z={z:.1f}）"
        if self.name in ("drug_excess", "consumable_excess", "item_excess"):
            return f"{self.label} {value * 100:.0f} 个百分点（同级中位 {median * 100:+.0f}，z={z:.1f}）"
        if self.name == "cmi_drift":
            return f"{self.label}：下半年较上半年 {value:+.0%}（同级中位 {median:+.0%}，z={z:.1f}）"
        shown = (f"{value:.0%}", f"{median:.0%}") if self.percent else (f"{value:.2f}", f"{median:.2f}")
        return f"{self.label} {shown[0]}（同级中位 {shown[1]}，z={z:.1f}）"


FEATURES = {f.name: f for f in (
    Feature("cost_ratio", "住院次均费用", 0.05, False, level_bound=True),
    Feature("op_cost_ratio", "门诊次均费用", 0.05, False, level_bound=True),
    Feature("cmi", "CMI", 0.05, False, level_bound=True),
    Feature("cmi_drift", "CMI 漂移", 0.03, True),
    Feature("readmit_15", "15日再入院率", 0.01, True),
    Feature("drug_excess", "药占比超出同病组", 0.02, True),
    Feature("consumable_excess", "耗占比超出同病组", 0.01, True),
    Feature("top_item_share", "单一项目占计费", 0.02, True),
    Feature("item_excess", "单一项目计费频次超出同级", 0.02, True),
    Feature("weekend_share", "周末入院占比", 0.03, True),
    Feature("upcoding", "严重并发症诊断而费用、住院日不高于同病组的病例占比", 0.02, True),
    Feature("rule_hits", "规则命中病例占比", 0.002, True),
)}
RULE_FEATURES = ("rule_hits",)  # from the supervision rules' hits, when given
HIT_COLUMNS = ("claim_id",)
SCORED = tuple(FEATURES)


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValidationError("--level", f"{level!r} is not one of {', '.join(LEVELS)}")


def entity_of(claims: pd.DataFrame, level: str) -> pd.Series:
    """The entity each claim belongs to at ``level``: the institution code, ``code/dept`` or the doctor."""
    check_level(level)
    if level == "institution":
        return claims["fixmedins_code"].astype(str)
    if level == "dept":
        return claims["fixmedins_code"].astype(str) + "/" + claims["dept"].fillna("").astype(str)
    return claims["doctor_code"].fillna("").astype(str)


def check_columns(frame: pd.DataFrame, needed: tuple[str, ...], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(missing[0], f"column missing from {what} (needs {', '.join(needed)})", what)


def case_key(claims: pd.DataFrame) -> pd.Series:
    """What a claim is compared with: ``drg:<DRG>`` for a grouped stay, ``visit:<med_type>:<dx3>`` for a
    visit (its scheme's visits with the same three-character principal diagnosis); missing for an
    ungrouped stay."""
    stay = claims["is_stay"].to_numpy(bool)
    drg = claims["drg"].where(stay & claims["drg"].notna() & claims["drg"].ne(""))
    dx3 = claims["diagnoses"].fillna("").str.slice(0, 3)
    visit = "visit:" + claims["med_type"].astype(str) + ":" + dx3
    return ("drg:" + drg).where(stay, visit)


def expected_cost(claims: pd.DataFrame) -> pd.Series:
    """Each claim's DRG-expected cost in fen: the region's mean cost of its :func:`case_key`."""
    return claims["medfee_sumamt_fen"].astype("float64").groupby(case_key(claims)).transform("mean")


def drg_weight(claims: pd.DataFrame) -> pd.Series:
    """Relative weight of each grouped stay: its DRG's mean cost ÷ the mean cost of all grouped stays."""
    cost = claims["medfee_sumamt_fen"].astype("float64")
    grouped = claims["is_stay"].astype(bool) & claims["drg"].notna() & claims["drg"].ne("")
    mean_all = cost[grouped].mean()
    return (cost.groupby(claims["drg"].where(grouped)).transform("mean") / mean_all).where(grouped)


def readmitted(claims: pd.DataFrame) -> pd.Series:
    """True for a stay the same person re-enters at the same institution within 15 days of discharge."""
    s = claims.loc[claims["is_stay"].astype(bool), ["psn_no", "fixmedins_code", "adm_date", "dscg_date"]]
    s = s.sort_values(["psn_no", "adm_date"], kind="stable")
    nxt = s.groupby("psn_no", sort=False)[["adm_date", "fixmedins_code"]].shift(-1)
    gap = (nxt["adm_date"] - s["dscg_date"]).dt.days
    hit = gap.between(0, READMIT_DAYS) & (nxt["fixmedins_code"] == s["fixmedins_code"])
    return hit.reindex(claims.index, fill_value=False)


def upcode_like(claims: pd.DataFrame) -> pd.Series:
    """A stay with a severe secondary diagnosis (MCC/CC) whose cost and LOS are both at or below its
    DRG's region medians: severity recorded without the cost or days that severity brings."""
    stay = claims["is_stay"].astype(bool) & claims["drg"].notna() & claims["drg"].ne("")
    drg = claims["drg"].where(stay)
    cost = claims["medfee_sumamt_fen"].astype("float64")
    los = claims["los"].astype("float64")
    low = (cost <= cost.groupby(drg).transform("median")) & (los <= los.groupby(drg).transform("median"))
    return stay & claims["cc_level"].isin(SEVERE) & low


def _ratio(out: pd.DataFrame, name: str, num: pd.Series, den: pd.Series, n: pd.Series, min_cases: int,
           var: float | None = None) -> None:
    """``out[name] = num / den`` where the support reaches ``min_cases``, with ``n_<name>`` and
    ``var_<name>`` (one case's variance; by default the binomial ``p(1 − p)`` of the pooled rate)."""
    num, den, n = (s.reindex(out.index).fillna(0.0) for s in (num, den, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = num / den
    out[name] = value.where((n >= min_cases) & (den > 0))
    out[f"n_{name}"] = n.astype("int64")
    if var is None:
        pooled = num.sum() / den.sum() if den.sum() > 0 else 0.0
        var = pooled * (1.0 - pooled)
    out[f"var_{name}"] = float(var) if np.isfinite(var) else 0.0


def entity_features(claims: pd.DataFrame, lines: pd.DataFrame, level: str = "institution",
                    min_cases: int = 5, hits: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per entity at ``level`` (index ``entity``): ``fixmedins_code``, ``peer``, ``cases``,
    each feature of :data:`FEATURES` (missing below ``min_cases`` of support) with its support
    ``n_<feature>`` and one case's variance ``var_<feature>``; and, not scored, ``drug_share``,
    ``consumable_share``, ``hhi`` (the Herfindahl index of its billing by item) and ``top_item``. ``hits``
    (``claim_id``: the rules' hits, one row a hit) gives ``rule_hits``; without it the feature is
    missing, so not judged."""
    check_columns(claims, CLAIM_COLUMNS, "claims")
    check_columns(lines, LINE_COLUMNS, "claim_lines")
    c = claims.copy()
    c["entity"] = entity_of(c, level)
    stay = c["is_stay"].astype(bool)
    g = c.groupby("entity", sort=True)
    out = pd.DataFrame({"fixmedins_code": g["fixmedins_code"].first(), "peer": g["peer"].first(),
                        "cases": g.size()})
    if level != "institution":  # a department or doctor is compared with the same department elsewhere
        depts = c.groupby(["entity", "dept"]).size().reset_index(name="k")
        main = depts.sort_values(["entity", "k", "dept"], ascending=[True, False, True]).drop_duplicates("entity")
        out["peer"] = out["peer"] + "/" + main.set_index("entity")["dept"].reindex(out.index).fillna("")
    out.index.name = "entity"
    cost = c["medfee_sumamt_fen"].astype("float64")
    expected = expected_cost(c)
    known = expected.notna()
    st, op = c[stay & known], c[~stay & known]
    per_case = cost / expected
    _ratio(out, "cost_ratio", cost[st.index].groupby(st["entity"]).sum(), expected[st.index].groupby(st["entity"]).sum(),
           st.groupby("entity").size(), min_cases, per_case[st.index].var())
    _ratio(out, "op_cost_ratio", cost[op.index].groupby(op["entity"]).sum(),
           expected[op.index].groupby(op["entity"]).sum(), op.groupby("entity").size(), min_cases,
           per_case[op.index].var())
    _stay_features(out, c, stay, min_cases)
    _line_features(out, c, lines, min_cases)
    _rule_features(out, c, hits, min_cases)
    return out


def _rule_features(out: pd.DataFrame, c: pd.DataFrame, hits: pd.DataFrame | None, min_cases: int) -> None:
    """The share of the entity's claims the rules flag: the regulator ranks on its rules' hits beside
    the profile against the peers. (Not the money at stake: one 超量开药 claim at ten times its
    quantity outweighs a small pharmacy's year, and one claim is what chance spreads anywhere.)"""
    if hits is None:
        for name in RULE_FEATURES:
            out[name], out[f"n_{name}"], out[f"var_{name}"] = np.nan, 0, 0.0
        return
    check_columns(hits, HIT_COLUMNS, "hits")
    flagged = c["claim_id"].astype(str).isin(set(hits["claim_id"].astype(str)))
    n = c.groupby("entity").size()
    _ratio(out, "rule_hits", flagged.groupby(c["entity"]).sum(), n, n, min_cases)


def _stay_features(out: pd.DataFrame, c: pd.DataFrame, stay: pd.Series, min_cases: int) -> None:
    s = c[stay].copy()
    s["weight"] = drg_weight(c)[stay]
    s["readmit"] = readmitted(c)[stay]
    s["upcode"] = upcode_like(c)[stay]
    s["weekend"] = s["adm_date"].dt.day_of_week >= 5
    s["half"] = np.where(s["adm_date"].dt.month <= 6, 1, 2)
    by = s.groupby("entity")
    n = by.size()
    weighted = s.dropna(subset=["weight"])
    w = weighted.groupby("entity")["weight"]
    var_w = weighted["weight"].var()
    _ratio(out, "cmi", w.sum(), w.size(), w.size(), min_cases, var_w)
    halves = weighted.groupby(["entity", "half"])["weight"].agg(["mean", "size"]).unstack("half")
    h1, h2 = (halves.get(("mean", k)) for k in (1, 2))
    n1, n2 = (halves.get(("size", k)) for k in (1, 2))
    if h1 is None or h2 is None:
        out["cmi_drift"], out["n_cmi_drift"], out["var_cmi_drift"] = np.nan, 0, 0.0
    else:  # the difference of two half-year means, each of at least n cases: about 2·var / n
        _ratio(out, "cmi_drift", h2 - h1, h1, pd.concat([n1, n2], axis=1).min(axis=1), min_cases, 2 * var_w)
    _ratio(out, "readmit_15", by["readmit"].sum(), n, n, min_cases)
    _ratio(out, "weekend_share", by["weekend"].sum(), n, n, min_cases)
    _ratio(out, "upcoding", by["upcode"].sum(), n, n, min_cases)


def _line_features(out: pd.DataFrame, c: pd.DataFrame, lines: pd.DataFrame, min_cases: int) -> None:
    named = [*LINE_COLUMNS, "item_name"] if "item_name" in lines.columns else list(LINE_COLUMNS)
    ln = lines[named].merge(c[["claim_id", "entity"]], on="claim_id", how="inner")
    amount = ln["amount_fen"].astype("float64")
    total = amount.groupby(ln["entity"]).sum()
    billed = ln.groupby("entity")["claim_id"].nunique()
    per_claim = pd.DataFrame({kind: amount.where(ln["kind"] == kind, 0.0) for kind in ("drug", "consumable")})
    per_claim["total"] = amount
    per_claim = per_claim.groupby(ln["claim_id"]).sum()
    claim = c.set_index("claim_id").loc[per_claim.index]
    key, entity = case_key(claim.reset_index()).to_numpy(), claim["entity"].to_numpy()
    for name, kind in (("drug_excess", "drug"), ("consumable_excess", "consumable")):
        # the share above what the same DRGs / diagnoses bill region-wide, as a share of the billing
        expected_share = per_claim[kind].groupby(key).transform("sum") / per_claim["total"].groupby(key).transform("sum")
        excess = per_claim[kind] - expected_share.fillna(0.0) * per_claim["total"]
        one = (excess / per_claim["total"]).replace([np.inf, -np.inf], np.nan)
        _ratio(out, name, excess.groupby(entity).sum(), per_claim["total"].groupby(entity).sum(),
               per_claim.groupby(entity).size(), min_cases, one.var())
        out[f"{kind}_share"] = (per_claim[kind].groupby(entity).sum()
                                / per_claim["total"].groupby(entity).sum()).reindex(out.index)
    items = amount.groupby([ln["entity"], ln["item_code"]]).sum()
    share = items / total.reindex(items.index.get_level_values(0)).to_numpy()
    top = share.groupby(level=0).max()
    _ratio(out, "top_item_share", top, pd.Series(1.0, index=total.index), billed, min_cases,
           top.mean() * (1 - top.mean()))
    out["hhi"] = (share ** 2).groupby(level=0).sum().reindex(out.index)
    _item_excess(out, ln, billed, min_cases)


def _item_excess(out: pd.DataFrame, ln: pd.DataFrame, billed: pd.Series, min_cases: int) -> None:
    """单一项目集中 as a frequency: the share of an entity's billed claims that carry an item, above the
    share its peers' claims carry it (the peer group without the entity), shrunk toward the peers by
    claim count — ``(x − n·p₀) / (n + m)``, an empirical-Bayes share whose prior is worth ``m``
    claims, :func:`prior_claims` — and taken at the entity's most excessive item (``top_item``). With
    ``m`` = 60, five claims all billing a test the peers bill on one claim in fifty keep under a tenth
    of the excess, a hundred and fifty most of it. (The money share alone puts first an entity with few
    claims and few items, or one costly drug.)"""
    claims = ln[["entity", "claim_id", "item_code"]].drop_duplicates(["claim_id", "item_code"])
    x = claims.groupby(["entity", "item_code"]).size().rename("x").reset_index()
    n = billed.reindex(x["entity"]).to_numpy().astype("float64")
    peer = out["peer"].reindex(x["entity"]).to_numpy()
    peer_x = x["x"].groupby([peer, x["item_code"]]).transform("sum").to_numpy()
    peer_n = billed.groupby(out["peer"].reindex(billed.index)).transform("sum").reindex(x["entity"]).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = np.where(peer_n > n, (peer_x - x["x"]) / (peer_n - n), np.nan)
    m = prior_claims(x["x"].to_numpy(), n, p0)
    x = x.assign(excess=(x["x"] - n * p0), p0=p0, den=n + m).dropna(subset=["p0"])
    top = x.assign(eb=x["excess"] / x["den"]).sort_values(["eb", "item_code"], ascending=[False, True], kind="stable")
    top = top.drop_duplicates("entity").set_index("entity")
    _ratio(out, "item_excess", top["excess"], top["den"], billed, min_cases, 0.0)
    # chance spread of the shrunk excess at the peers' rate of the item: n·p₀(1 − p₀) / (n + m)², as var / n
    n_top = billed.reindex(top.index).astype("float64")
    chance = (n_top ** 2 * top["p0"] * (1.0 - top["p0"]) / top["den"] ** 2).reindex(out.index)
    out["var_item_excess"] = chance.fillna(0.0)
    out["top_item"] = top["item_code"].reindex(out.index)
    if "item_name" in ln.columns:
        names = ln.drop_duplicates("item_code").set_index("item_code")["item_name"]
        out["top_item_name"] = out["top_item"].map(names)


def prior_claims(x: np.ndarray, n: np.ndarray, p0: np.ndarray) -> float:
    """The prior's worth in claims, ``m``, by the median over every (entity, item) billed. Under a Beta
    prior of strength ``m`` around the peers' share ``p₀``, an entity's share ``f`` of ``n`` claims
    spreads as ``(f − p₀)² ≈ p₀(1 − p₀) · (1/n + 1/(m + 1)) · χ²₁``; ``m`` is the strength at which the
    median of ``(f − p₀)² / (p₀(1 − p₀) · (1/n + 1/(m + 1)))`` is that of ``χ²₁``. A median, so that the
    few concentrating entities — what the feature is for — do not set their own shrinkage.
    ``inf`` when the shares spread no more than chance."""
    ok = np.isfinite(p0) & (n > 0) & (p0 > 0) & (p0 < 1)
    spread = (x[ok] / n[ok] - p0[ok]) ** 2 / (p0[ok] * (1.0 - p0[ok]))
    inv_n = 1.0 / n[ok]

    def median_ratio(m: float) -> float:
        return float(np.median(spread / (inv_n + 1.0 / (m + 1.0)))) if len(spread) else 0.0

    if median_ratio(np.inf) <= CHI2_1_MEDIAN:
        return float("inf")
    lo, hi = 0.0, 1e6  # the ratio falls as m falls: bisect on a log scale
    for _ in range(60):
        mid = np.sqrt(max(lo, 1e-3) * hi)
        lo, hi = (mid, hi) if median_ratio(mid) <= CHI2_1_MEDIAN else (lo, mid)
    return float(hi)


__all__ = ["CLAIM_COLUMNS", "FEATURES", "Feature", "HIT_COLUMNS", "LEVELS", "LINE_COLUMNS", "RULE_FEATURES", "SCORED",
           "case_key", "check_level", "drg_weight", "entity_features", "entity_of", "expected_cost", "prior_claims",
           "readmitted", "upcode_like"]
