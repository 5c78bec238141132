"""What a clean claim keeps to: the catalog's validity dates and the NHSA 两库 limits (``yibao.catalog.rules``).

The generator draws items at random; without these checks a clean claim bills an item before its
catalog version begins, one item on two lines, a daily item for more days than the stay, a drug the
person bought at another institution three days before, a periodic test again inside its period, or
an item with the item that includes it. Each of those is a supervision rule's hit, so a clean claim
that made one would be a false positive against the labels. Lines that break a limit are redrawn
(``conflicts``), quantities are capped (``per_line_cap``, ``cap_rolling_supply``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REPEAT_DRUG_DAYS = 7  # a drug bought again within 7 days (另一机构 or the same day) is 重复开药 (处方管理办法 第十九条: 7日用量)
SUPPLY_WINDOW_DAYS = 30  # units of one drug over 30 days …
SUPPLY_WINDOW_UNITS = 180.0  # … at most two long prescriptions (2 × 90 units; 长期处方管理规范 国卫办医发〔2021〕17号)
SEX_AGE_SCHEME_KINDS = ("sex", "age", "scheme", "level", "setting")  # 两库 drug rule kinds kept out of clean pools


@dataclass(frozen=True)
class ItemLimits:
    """Per catalog item: its base-code id, its 两库 daily unit limit and repeat period, whether a
    两库 restriction keeps it out of clean claims, and the 两库 batch-7 pairs (main, sub) by base id."""

    base: np.ndarray  # int64 id of the item's 9-character base code
    per_day: np.ndarray  # float64 units a day (inf: no limit)
    period: np.ndarray  # int64 days within which a person is billed the item once (0: no limit)
    restricted: np.ndarray  # bool
    pair_main: np.ndarray  # int64 base ids, sorted by pair_sub
    pair_sub: np.ndarray
    is_main: np.ndarray  # bool per base id
    is_sub: np.ndarray


def in_force_all_year(cat: pd.DataFrame, year: int) -> np.ndarray:
    """Items whose catalog version covers the whole of ``year``."""
    begin = pd.to_datetime(cat["begin_date"])
    end = pd.to_datetime(cat["end_date"])
    first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    return ((begin.isna() | (begin <= first)) & (end.isna() | (end >= last))).to_numpy()


def item_limits(cat: pd.DataFrame) -> ItemLimits:
    from yibao.catalog import rules

    code = cat["item_code"].astype(str)
    base_code = code.str.slice(0, 9)
    ids = {b: i for i, b in enumerate(pd.unique(base_code))}
    base = base_code.map(ids).to_numpy(np.int64)

    freq = rules.service_frequency()
    per_unit = np.where(freq["per"] == "日", freq["max_qty"].astype(float), 24.0 * freq["max_qty"].clip(upper=1).astype(float))
    daily = pd.Series(per_unit, index=freq["base_item_code"].astype(str)).groupby(level=0).min()
    per_day = base_code.map(daily).fillna(np.inf).to_numpy(np.float64)

    per = rules.service_period()
    days = per.groupby(per["base_item_code"].astype(str))["period_days"].max()
    period = base_code.map(days).fillna(0).to_numpy(np.int64)

    service_limited = set()
    for table in (rules.service_sex_limits(), rules.service_age_limits(), rules.service_working_age()):
        service_limited |= set(table["base_item_code"].dropna().astype(str))
    drug_rules = rules.drug_rules_for_catalog(cat)
    drugs_limited = set(drug_rules.loc[drug_rules["kind"].isin(SEX_AGE_SCHEME_KINDS), "item_code"].astype(str))
    restricted = (base_code.isin(service_limited) & (cat["kind"] != "drug")).to_numpy() | code.isin(drugs_limited).to_numpy()

    pairs = rules.service_pairs()
    pairs = pairs[["main_base_item_code", "sub_base_item_code"]].dropna().astype(str)
    pairs = pairs[pairs["main_base_item_code"].isin(ids) & pairs["sub_base_item_code"].isin(ids)]
    main = pairs["main_base_item_code"].map(ids).to_numpy(np.int64)
    sub = pairs["sub_base_item_code"].map(ids).to_numpy(np.int64)
    order = np.argsort(sub, kind="stable")
    is_main, is_sub = np.zeros(len(ids), bool), np.zeros(len(ids), bool)
    is_main[main], is_sub[sub] = True, True
    return ItemLimits(base, per_day, period, restricted, main[order], sub[order], is_main, is_sub)


def _repeats(claim: np.ndarray, key: np.ndarray, kept_first: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Lines in ``mask`` whose (claim, key) an earlier line (``kept_first`` ones first) already holds."""
    idx = np.flatnonzero(mask)
    out = np.zeros(len(mask), bool)
    if len(idx) < 2:
        return out
    group = claim[idx].astype(np.int64) * (int(key.max()) + 1) + key[idx]
    order = idx[np.argsort(group * 2 + ~kept_first[idx], kind="stable")]
    g = group[np.argsort(group * 2 + ~kept_first[idx], kind="stable")]
    out[order[1:][g[1:] == g[:-1]]] = True
    return out


def _near(who: np.ndarray, key: np.ndarray, day: np.ndarray, window: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Lines in ``mask`` of a (person, key) billed within ``window`` days after another such line."""
    idx = np.flatnonzero(mask)
    out = np.zeros(len(mask), bool)
    if len(idx) < 2:
        return out
    d = day[idx].astype(np.int64)
    d -= d.min()
    group = who[idx].astype(np.int64) * (int(key.max()) + 1) + key[idx]
    order = np.argsort(group * (int(d.max()) + 1) + d, kind="stable")
    g, d, at = group[order], d[order], idx[order]
    near = (g[1:] == g[:-1]) & (d[1:] - d[:-1] <= window[at[1:]])
    out[at[1:][near]] = True
    return out


def _paired(lim: ItemLimits, claim: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Sub lines of a 两库 pair whose main item is on the same claim."""
    out = np.zeros(len(claim), bool)
    width = len(lim.is_main)
    mains = np.flatnonzero(lim.is_main[base])
    if len(mains) == 0:
        return out
    subs = np.flatnonzero(lim.is_sub[base])
    lo = np.searchsorted(lim.pair_sub, base[subs], "left")
    n = np.searchsorted(lim.pair_sub, base[subs], "right") - lo
    has = subs[n > 0]
    lo, n = lo[n > 0], n[n > 0]
    if len(has) == 0:
        return out
    line = np.repeat(has, n)
    step = np.arange(len(line)) - np.repeat(np.cumsum(n) - n, n)
    main = lim.pair_main[np.repeat(lo, n) + step]
    held = claim[mains].astype(np.int64) * width + base[mains]
    found = np.isin(claim[line].astype(np.int64) * width + main, held)
    out[line[found]] = True
    return out


def conflicts(lim: ItemLimits, is_drug: np.ndarray, claim: np.ndarray, item: np.ndarray, day: np.ndarray,
              fixed: np.ndarray, person: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """Lines that break a limit (per-line arrays; ``person`` and ``stay`` per claim): an item (by base
    code) twice on a claim (drugs on a stay may repeat on other days), a drug on two of a person's visits
    within ``REPEAT_DRUG_DAYS``, a periodic item again within its period, a pair's sub item with its
    main. Fixed lines (daily charges, operations) are kept before drawn ones."""
    base = lim.base[item]
    drug = is_drug[item]
    visit = ~stay[claim]
    key = np.where(drug, lim.base.max() + 1 + item, base)  # drugs by their own code, services by base code
    bad = _repeats(claim, key, fixed, ~drug | visit)
    who = person[claim]
    bad |= _near(who, item, day, np.full(len(claim), REPEAT_DRUG_DAYS), drug & visit)
    period = lim.period[item]
    bad |= _near(who, base, day, period, period > 0)
    return bad | _paired(lim, claim, base)


def per_line_cap(lim: ItemLimits, item: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Units of an item a line may carry: its 两库 daily limit times the claim's days."""
    return lim.per_day[item] * days


def cap_rolling_supply(who: np.ndarray, item: np.ndarray, day: np.ndarray, qty: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Quantities of the drug lines in ``mask`` cut so that no person gets more than
    ``SUPPLY_WINDOW_UNITS`` of one drug within ``SUPPLY_WINDOW_DAYS``; 0 where nothing is left."""
    qty = qty.copy()
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return qty
    order = idx[np.lexsort((day[idx], item[idx], who[idx]))]
    w, it, d = who[order], item[order], day[order]
    group = np.r_[0, np.cumsum((w[1:] != w[:-1]) | (it[1:] != it[:-1]))]
    pos = group.astype(np.int64) * 100_000 + (d - d.min())
    start = np.searchsorted(pos, pos - (SUPPLY_WINDOW_DAYS - 1), "left")
    end = np.searchsorted(pos, pos, "right")
    for _ in range(4):
        q = qty[order]
        cum = np.r_[0.0, np.cumsum(q)]
        excess = cum[end] - cum[start] - SUPPLY_WINDOW_UNITS
        over = excess > 0
        if not over.any():
            break
        first = np.flatnonzero(over)
        q[first] = np.maximum(q[first] - excess[first], 0)
        qty[order] = np.floor(q)
    return qty
