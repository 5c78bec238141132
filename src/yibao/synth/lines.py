"""Itemised claim lines (费用明细) drawn from the shipped 医保目录, coherent with each claim.

Each clinical profile (an inpatient condition, an outpatient diagnosis or a 慢特病) gets pools of
catalog items found by name: its drugs (``drugs.yaml`` groups), its examinations and its operation
(service names in the profile's ``services`` column; operations are 手术治疗 ``33…`` and 介入 ``32…`` codes) and its
consumables. Items with sex or age restrictions never enter a pool (they appear only in injected
violations), nor do items whose 限定支付范围 diagnosis the profile lacks, or inpatient-only items on
outpatient profiles. A claim's target cost is split into drug, service and consumable budgets
(shares from CALIBRATION.md §7) and each line's quantity is its share of the budget at the item's
price for the hospital's level, so ``amount = qty × price`` exactly and the totals stay calibrated.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao.lake.schema import TABLES
from yibao.synth import data
from yibao.synth.claims import CHRONIC, INPATIENT, OUTPATIENT, PHARMACY, ClaimBatch, ClaimModel
from yibao.synth.fraud import Labels, _choose, doctor_numbers
from yibao.synth.patterns import share_weights
from yibao.synth.limits import SUPPLY_WINDOW_DAYS, ItemLimits, cap_rolling_supply, conflicts, in_force_all_year, item_limits, per_line_cap

DRUG, SERVICE, CONSUMABLE = 0, 1, 2
KIND_CODES = {"drug": DRUG, "service": SERVICE, "consumable": CONSUMABLE}
# Budget shares by claim kind: drug, service, consumable. Inpatient drugs 24.3% and outpatient drugs
# 38.0% are CALIBRATION.md §7 (H22); consumable shares and the 慢特病 split are assumptions.
SHARES = {
    OUTPATIENT: (data.target("cost.outpatient_drug_share"), 1 - data.target("cost.outpatient_drug_share"), 0.0),
    CHRONIC: (0.6, 0.4, 0.0),
    PHARMACY: (1.0, 0.0, 0.0),
}
IP_DRUG = data.target("cost.inpatient_drug_share")
IP_CONSUMABLE_SURGICAL, IP_CONSUMABLE_MEDICAL = 0.25, 0.05
MAX_OUTPATIENT_QTY = 90.0  # units of one item on a visit (assumption: about a three-month supply)
MAX_DAILY_QTY = 12.0  # units of one item per inpatient day (assumption)
REDRAWS = 6
CONFLICT_ROUNDS = 3  # of the redraws, those that also redraw lines breaking a limit (limits.conflicts)
# items charged at most once a day (两库 第八批之一: 诊查费, 床位费, 护理费; one imaging exam or operation a
# day): a 重复收费 is one of these billed twice
# (医疗服务项目 code prefixes, written as one text: "2101" here is a service chapter, not the 医疗类别 普通住院)
ONCE_A_DAY = tuple("1102 1109 1201 2101 2102 2103 33".split())
OVERDOSE_MIN_FACTOR = 1.2  # an injected overdose is at least 1.2 × the long-prescription supply (MAX_OUTPATIENT_QTY)
DEAR_STAY_FEN = 1_500_000  # a stay above 1.5万 yuan bills proportionally more lines (assumption) …
MAX_LINE_FACTOR = 40.0  # … up to 40 times as many
SELF_PAID_SHARE = 0.04  # claims with a 丙类 line (assumption)
FALLBACK_PRICE = {DRUG: 3000, SERVICE: 2000, CONSUMABLE: 20000}  # fen, when an item has no price (assumption)
# Generic service pools, matched against "<item code> <name>" (shared wards 110900001…, nursing
# grades, daily ward rounds, consultations, common laboratory tests, anaesthesia, injections).
GENERIC = {
    "bed": r"^110900001[abckl] ", "nursing": r" [ⅠⅡⅢ]级护理$", "ip_exam": r" 住院诊查费$",
    "op_exam": r" (?:普通门诊诊查费|副主任医师诊查费|主任医师诊查费)$",
    "lab": "血细胞分析|尿常规|葡萄糖测定|C反应蛋白|电解质|肌酐|尿素|转移酶|凝血|血脂",
    "anaesthesia": r" (?:全身麻醉|椎管内麻醉)$", "iv_service": r" (?:静脉输液|静脉注射|肌肉注射)$",
}


@dataclass
class Pools:
    """Padded 2-D pools of item indices, one row per profile; rows never empty (fallbacks fill them)."""

    items: np.ndarray  # [P, K]
    size: np.ndarray  # [P]

    def draw(self, rng, profile: np.ndarray) -> np.ndarray:
        k = (rng.random(len(profile)) * self.size[profile]).astype(np.int64)
        return self.items[profile, k]

    @staticmethod
    def of(lists: list[np.ndarray], fallback: np.ndarray) -> "Pools":
        lists = [x if len(x) else fallback for x in lists]
        width = max(len(x) for x in lists)
        items = np.zeros((len(lists), width), np.int64)
        for i, x in enumerate(lists):
            items[i, : len(x)] = x
        return Pools(items, np.array([len(x) for x in lists]))


@dataclass
class LinesModel:
    m: ClaimModel
    catalog: pd.DataFrame
    codes: pa.Array
    kind: np.ndarray  # int8 per item
    price: np.ndarray  # [items, 3] fen: 三级, 二级, 一级及以下
    offsets: dict[int, int]  # profile offset per claim kind
    drugs: Pools
    services: Pools
    operations: Pools
    consumables: Pools
    generic: dict[str, np.ndarray]
    self_paid: np.ndarray
    dear_services: np.ndarray
    sex_only: dict[str, np.ndarray]  # items restricted to sex "1" / "2"
    child_only: np.ndarray  # items with a maximum age under 18
    adult_only: np.ndarray  # items with a minimum age of 18 or more
    limits: ItemLimits

    def catalog_table(self) -> pa.Table:
        schema = TABLES["catalog"]
        return pa.Table.from_pandas(self.catalog[schema.names], preserve_index=False).cast(schema)

    def global_profile(self, kind: np.ndarray, profile: np.ndarray) -> np.ndarray:
        off = np.select([kind == INPATIENT, kind == CHRONIC], [self.offsets[INPATIENT], self.offsets[CHRONIC]],
                        self.offsets[OUTPATIENT])
        return off + profile


def _match(names: pd.Series, pattern: str) -> np.ndarray:
    if not pattern:
        return np.zeros(len(names), bool)
    return names.str.contains(pattern, regex=True, na=False).to_numpy()


def _dx_ok(required: list[tuple[int, tuple[str, ...]]], n: int, icd: str) -> np.ndarray:
    """Items without a 限定支付范围 diagnosis, or whose required prefixes the diagnosis carries."""
    ok = np.ones(n, bool)
    for i, prefixes in required:
        ok[i] = icd.startswith(prefixes)
    return ok


def _load_catalog():
    from yibao.catalog.items import load_catalog, service_prices

    return load_catalog(), service_prices()


def build_lines_model(m: ClaimModel) -> LinesModel:
    """The catalog pools (built once per process: they depend on the shipped catalog and the
    curated profiles only) bound to a region's claim model."""
    return LinesModel(m, *_catalog_pools(m.cfg.year))


def _is_operation(code: pd.Series) -> np.ndarray:
    """手术治疗 (33) and 介入 (32) items: billed only on a claim that records a procedure."""
    return code.str.startswith(("33", "32")).to_numpy()


@functools.cache
def _catalog_pools(year: int) -> tuple:
    cat, prices = _load_catalog()
    cat = cat.reset_index(drop=True)
    n = len(cat)
    kind = cat["kind"].map(KIND_CODES).fillna(SERVICE).to_numpy().astype(np.int8)
    cap = pd.to_numeric(cat["price_cap_fen"], errors="coerce")
    base = np.where(cap.notna() & (cap > 0), cap.fillna(0), [FALLBACK_PRICE[k] for k in kind]).astype(np.int64)
    price = np.repeat(base[:, None], 3, axis=1)
    if prices is not None and len(prices):
        pos = pd.Series(np.arange(n), index=cat["item_code"])
        p = prices[prices["item_code"].isin(pos.index)]
        col = p["level"].astype(str).map({"3": 0, "2": 1, "1": 2})
        p = p[col.notna() & (pd.to_numeric(p["price_fen"], errors="coerce") > 0)]
        rows = pos[p["item_code"]].to_numpy()
        cols = col[p.index].astype(int).to_numpy()
        price[rows, cols] = np.minimum(p["price_fen"].astype(np.int64).to_numpy(), base[rows])
    names = cat["name"].astype(str)
    code = cat["item_code"].astype(str)
    restricted = (cat["restrict_sex"].fillna("").astype(str) != "").to_numpy() \
        | cat["restrict_min_age"].notna().to_numpy() | cat["restrict_max_age"].notna().to_numpy()
    leveled = (cat["restrict_min_level"].fillna("").astype(str) != "").to_numpy()
    self_paid_mask = (cat["item_class"] == "C").to_numpy()
    limits = item_limits(cat)
    # an item a clean claim may carry: in force all year, without a catalog or 两库 restriction
    allowed = in_force_all_year(cat, year) & ~restricted & ~leveled & ~limits.restricted
    usable = allowed & ~self_paid_mask
    inpatient_only = cat["inpatient_only"].fillna(False).astype(bool).to_numpy()
    is_op = _is_operation(code)
    # pools not drawn by a profile's diagnosis hold no item with a 限定支付范围 diagnosis
    any_dx = (cat["required_dx"].fillna("").astype(str) == "").to_numpy()

    keyed = code + " " + names
    generic = {k: np.flatnonzero(_match(keyed, pat) & usable & any_dx & (kind == SERVICE) & (~is_op | (k == "anaesthesia")))
               for k, pat in GENERIC.items()}
    any_service = np.flatnonzero(usable & any_dx & ~is_op & (kind == SERVICE))
    for k in generic:
        if len(generic[k]) == 0:
            generic[k] = any_service
    generic["iv_drug"] = np.flatnonzero(_match(names, "|".join(data.drug_groups()["iv"])) & usable & any_dx & (kind == DRUG))
    all_drugs = np.flatnonzero(usable & any_dx & (kind == DRUG) & ~inpatient_only)
    all_cons = np.flatnonzero(usable & any_dx & (kind == CONSUMABLE))
    if len(all_cons) == 0:
        all_cons = any_service
    if len(generic["iv_drug"]) == 0:
        generic["iv_drug"] = all_drugs
    surgery = np.flatnonzero(usable & any_dx & (kind == SERVICE) & is_op)
    if len(surgery) == 0:
        surgery = any_service

    groups = data.drug_groups()
    group_mask = {g: _match(names, "|".join(map(re.escape, words))) & (kind == DRUG) & usable for g, words in groups.items()}

    profiles = []  # (icd10, drug groups, service pattern, consumable pattern, outpatient?)
    offsets = {}
    offsets[INPATIENT] = 0
    for r in data.conditions().itertuples():
        profiles.append((r.icd10, r.drugs, r.services, r.consumables, False))
    offsets[OUTPATIENT] = len(profiles)
    for r in data.outpatient_mix().itertuples():
        profiles.append((r.icd10, r.drugs, r.services, "", True))
    offsets[CHRONIC] = len(profiles)
    for r in data.chronic_diseases().itertuples():
        profiles.append((r.icd10, r.drugs, r.services, "", True))

    req = cat["required_dx"].fillna("").astype(str).tolist()
    required = [(i, tuple(p for p in r.split("|") if p)) for i, r in enumerate(req) if r]
    drug_l, svc_l, op_l, cons_l = [], [], [], []
    for icd, drug_groups, svc_pat, cons_pat, outpatient in profiles:
        ok = _dx_ok(required, n, icd) & usable
        if outpatient:
            ok &= ~inpatient_only
        dm = np.zeros(n, bool)
        for g in filter(None, drug_groups.split("|")):
            dm |= group_mask.get(g, np.zeros(n, bool))
        drug_l.append(np.flatnonzero(dm & ok))
        sm = _match(names, svc_pat) & ok & (kind == SERVICE)
        svc_l.append(np.flatnonzero(sm & ~is_op))
        op_l.append(np.flatnonzero(sm & is_op))
        cons_l.append(np.flatnonzero(_match(names, cons_pat) & ok & (kind == CONSUMABLE)))
    sex = cat["restrict_sex"].fillna("").astype(str).to_numpy()
    in_force = in_force_all_year(cat, year)
    max_age = pd.to_numeric(cat["restrict_max_age"], errors="coerce").to_numpy()
    min_age = pd.to_numeric(cat["restrict_min_age"], errors="coerce").to_numpy()
    svc_price = price[:, 0]
    services = np.flatnonzero(usable & any_dx & (kind == SERVICE))  # swapped-in dear items may be operations
    dear_cut = np.quantile(svc_price[services], 0.9) if len(services) else 0
    return (
        cat, pa.array(code.tolist(), pa.string()), kind, price, offsets,
        Pools.of(drug_l, all_drugs), Pools.of(svc_l, generic["lab"]), Pools.of(op_l, surgery),
        Pools.of(cons_l, all_cons), generic, np.flatnonzero(self_paid_mask & allowed & any_dx & ~is_op),
        services[svc_price[services] >= dear_cut],
        {"1": np.flatnonzero((sex == "1") & in_force), "2": np.flatnonzero((sex == "2") & in_force)},
        np.flatnonzero((np.nan_to_num(max_age, nan=999) < 18) & in_force),
        np.flatnonzero((np.nan_to_num(min_age, nan=-1) >= 18) & in_force), limits,
    )


@dataclass
class Lines:
    claim: np.ndarray
    item: np.ndarray
    qty: np.ndarray  # float64 (whole units)
    price: np.ndarray  # int64 fen
    amount: np.ndarray  # int64 fen
    date: np.ndarray  # int32 days
    is_drug: np.ndarray
    clashed: np.ndarray | None = None  # per claim: every line broke a limit (see make_lines)

    def table(self, claim_ids: pa.Array, lm: LinesModel) -> pa.Table:
        order = np.argsort(self.claim, kind="stable")
        claim = self.claim[order]
        starts = np.r_[0, np.flatnonzero(claim[1:] != claim[:-1]) + 1]
        first = np.repeat(starts, np.diff(np.r_[starts, len(claim)]))
        line_no = (np.arange(len(claim)) - first + 1).astype(np.int32)
        item = self.item[order]
        return pa.table({
            "claim_id": claim_ids.take(pa.array(claim)),
            "line_no": pa.array(line_no),
            "item_code": lm.codes.take(pa.array(item)),
            "kind": pa.array(["drug", "service", "consumable"]).take(pa.array(lm.kind[item].astype(np.int64))),
            "service_date": pa.array(self.date[order], pa.date32()),
            "qty": pa.array(self.qty[order]),
            "price_fen": pa.array(self.price[order]),
            "amount_fen": pa.array(self.amount[order]),
        })


class _Seg:
    """Accumulates line segments: claim, item, fixed quantity (0 = allocate from budget), group, date,
    and the sampler that drew the items (to redraw an item that does not fit its budget)."""

    def __init__(self, rng):
        self.rng = rng
        self.parts: list[tuple] = []
        self.samplers: list = []

    def add(self, claims, sampler, fixed_qty, group, dates):
        n = len(claims)
        self.parts.append((claims, sampler(claims), np.broadcast_to(fixed_qty, (n,)).astype(np.float64),
                           np.full(n, group, np.int8), dates))
        self.samplers.append(sampler)

    def arrays(self):
        return [np.concatenate([p[i] for p in self.parts]) for i in range(5)]

    def redraw(self, item: np.ndarray, claim: np.ndarray, bad: np.ndarray) -> None:
        """Redraw the items flagged ``bad`` with their own segment's sampler (in place)."""
        start = 0
        for (cl, *_), sampler in zip(self.parts, self.samplers):
            end = start + len(cl)
            idx = start + np.flatnonzero(bad[start:end])
            if len(idx):
                item[idx] = sampler(claim[idx])
            start = end


def _from(rng, pool: np.ndarray):
    return lambda cl: pool[rng.integers(0, len(pool), len(cl))]


def _profiled(rng, pools: Pools, prof: np.ndarray):
    return lambda cl: pools.draw(rng, prof[cl])


def make_lines(rng, lm: LinesModel, b: ClaimBatch) -> Lines:
    c = b.cols
    n = len(b)
    kind = c["kind"]
    prof = lm.global_profile(kind, c["profile"])
    ip = np.flatnonzero(kind == INPATIENT)
    hang = c["hanging"]
    seg = _Seg(rng)
    adm, los = c["adm"], c["los"]

    def repeat(idx, counts):
        return np.repeat(idx, counts)

    def stay_dates(cl):
        return (adm[cl] + (rng.random(len(cl)) * (los[cl] + 1)).astype(np.int32)).astype(np.int32)

    g = lm.generic
    # inpatient: bed, nursing and ward rounds every day; tests, treatment, operation, consumables, drugs
    days = np.maximum(los[ip], 1).astype(np.float64)
    for key in ("bed", "nursing", "ip_exam"):
        seg.add(ip, _from(rng, g[key]), days, SERVICE, adm[ip])
    active = ip[~hang[ip]]
    # a dear stay (ICU, transplant) bills more items, not implausible quantities of a few
    dear = np.clip(c["cost"] / DEAR_STAY_FEN, 1, MAX_LINE_FACTOR)
    cl = repeat(active, 2 + rng.poisson(2 * dear[active]))
    seg.add(cl, _from(rng, g["lab"]), 0, SERVICE, stay_dates(cl))
    cl = repeat(active, 1 + rng.poisson(dear[active]))
    seg.add(cl, _profiled(rng, lm.services, prof), 0, SERVICE, stay_dates(cl))
    # an operation or intervention only where the claim records a procedure; anaesthesia for surgery
    operated = active[c["proc"][active] != None]  # noqa: E711 - object column, None = no procedure
    seg.add(operated, _profiled(rng, lm.operations, prof), 1, SERVICE, adm[operated] + np.minimum(1, los[operated]))
    surg = active[c["surgical"][active]]
    anaesthetised = operated[c["surgical"][operated]]
    seg.add(anaesthetised, _from(rng, g["anaesthesia"]), 1, SERVICE, adm[anaesthetised] + np.minimum(1, los[anaesthetised]))
    cl = repeat(surg, 1 + rng.poisson(1.5 * dear[surg]))
    seg.add(cl, _profiled(rng, lm.consumables, prof), 0, CONSUMABLE, stay_dates(cl))
    cl = repeat(active, 3 + rng.poisson(3 * dear[active]))
    seg.add(cl, _profiled(rng, lm.drugs, prof), 0, DRUG, stay_dates(cl))
    cl = repeat(active, 1 + rng.poisson(dear[active]))
    seg.add(cl, _from(rng, g["iv_drug"]), 0, DRUG, stay_dates(cl))

    # outpatient and 慢特病 visits: consultation, some tests, drugs; pharmacy purchases: drugs only
    visits = np.flatnonzero((kind == OUTPATIENT) | (kind == CHRONIC))
    seg.add(visits, _from(rng, g["op_exam"]), 1, SERVICE, adm[visits])
    cl = repeat(visits, rng.poisson(np.where(kind[visits] == CHRONIC, 0.8, 0.5)))
    seg.add(cl, _profiled(rng, lm.services, prof), 0, SERVICE, adm[cl])
    cl = repeat(visits, rng.poisson(0.5, len(visits)))
    seg.add(cl, _from(rng, g["lab"]), 0, SERVICE, adm[cl])
    shop = np.flatnonzero(kind == PHARMACY)
    both = np.concatenate([visits, shop])
    cl = repeat(both, 1 + rng.poisson(np.where(kind[both] == PHARMACY, 0.8, 1.3)))
    seg.add(cl, _profiled(rng, lm.drugs, prof), 0, DRUG, adm[cl])
    # some 丙类 (self-paid) items
    if len(lm.self_paid):
        cl = np.flatnonzero((rng.random(n) < SELF_PAID_SHARE) & (kind != PHARMACY))
        seg.add(cl, _from(rng, lm.self_paid), 0, SERVICE, adm[cl])

    claim, item, fixed, group, date = seg.arrays()
    level = lm.m.inst.level[c["inst"]]
    alloc = fixed == 0
    # budgets per claim and group; a group without lines hands its share to the others
    share = np.zeros((n, 3))
    for k, s in SHARES.items():
        share[kind == k] = s
    cons = np.where(c["surgical"], IP_CONSUMABLE_SURGICAL, IP_CONSUMABLE_MEDICAL)
    share[ip, 0], share[ip, 2] = IP_DRUG, cons[ip]
    share[ip, 1] = 1 - IP_DRUG - cons[ip]
    boost = share_weights(lm.m.patterns, c["inst"])  # 药品/耗材占比虚高 at the institutions carrying it
    share[:, 0] *= boost
    share[:, 2] *= boost
    cg = claim * 3 + group
    present = np.bincount(cg[alloc], minlength=3 * n).reshape(n, 3)
    share = share * (present > 0)
    tot = share.sum(1, keepdims=True)
    share = np.divide(share, tot, out=np.zeros_like(share), where=tot > 0)
    budget = share * c["cost"][:, None].astype(np.float64)
    # daily charges, operations and consultations are fixed services: they come out of the service
    # budget first, then out of the drug and consumable budgets (down to a tenth of them)
    fixed_sum = np.bincount(claim, weights=np.where(fixed > 0, fixed * lm.price[item, level[claim]], 0), minlength=n)
    budget[:, 1] -= fixed_sum
    deficit = np.maximum(-budget[:, 1], 0)
    budget[:, 1] = np.maximum(budget[:, 1], 0)
    others = budget[:, 0] + budget[:, 2]
    cut = np.minimum(deficit, 0.9 * others)
    keep_share = 1 - np.divide(cut, others, out=np.zeros_like(cut), where=others > 0)
    budget[:, 0] *= keep_share
    budget[:, 2] *= keep_share
    budget[hang, :] = 0  # 挂床: no treatment beyond the daily charges
    w = rng.exponential(1.0, len(claim)) * alloc
    wsum = np.bincount(cg, weights=w, minlength=3 * n)[cg]
    share_line = np.divide(w, wsum, out=np.zeros_like(w), where=wsum > 0)
    want = budget[claim, group] * share_line
    # quantities stay plausible: an item too dear for its budget, or so cheap that it would need an
    # implausible quantity, is redrawn from the same pool a few times
    stay = kind == INPATIENT
    days = np.where(stay, np.maximum(los, 1), 1)[claim]
    base_max = np.where(stay[claim], days * MAX_DAILY_QTY, MAX_OUTPATIENT_QTY)
    line_level = level[claim]
    price = lm.price[item, line_level]
    person = c["person"]

    def unfit(idx):
        cap = np.minimum(base_max[idx], per_line_cap(lm.limits, item[idx], days[idx]))
        return alloc[idx] & ((price[idx] > 1.5 * want[idx]) | (want[idx] > cap * price[idx]))

    every = np.arange(len(claim))
    bad = unfit(every) | conflicts(lm.limits, lm.kind == DRUG, claim, item, date, ~alloc, person, stay)
    for r in range(REDRAWS):
        if not bad.any():
            break
        seg.redraw(item, claim, bad)
        idx = np.flatnonzero(bad)
        price[idx] = lm.price[item[idx], line_level[idx]]
        # limits are checked again in the first rounds only; a line still breaking one is dropped below
        bad = conflicts(lm.limits, lm.kind == DRUG, claim, item, date, ~alloc, person, stay) if r < CONFLICT_ROUNDS \
            else np.zeros(len(claim), bool)
        bad[idx] |= unfit(idx)
    max_qty = np.minimum(base_max, per_line_cap(lm.limits, item, days))
    qty = np.where(alloc, np.clip(np.round(want / price), 1, max_qty), fixed)
    # a test or device still far too dear for a small bill is left out, and so is a line that still
    # breaks a limit after its redraws
    clash = conflicts(lm.limits, lm.kind == DRUG, claim, item, date, ~alloc, person, stay)
    keep = ~(alloc & (group != DRUG) & (price > 3 * want)) & ~(hang[claim] & alloc)
    kept_clean = np.bincount(claim, weights=keep & ~(clash & alloc), minlength=n) > 0
    # a claim keeps its lines when every one clashes; such a claim is marked and not made (generate)
    clashed = ~kept_clean & (np.bincount(claim, weights=keep, minlength=n) > 0)
    keep &= ~(clash & alloc) | clashed[claim]
    # one rescaling pass brings each claim's total back towards its target cost
    amt = qty * price * keep
    fixed_amt = np.bincount(claim, weights=np.where(alloc, 0, amt), minlength=n)
    alloc_amt = np.bincount(claim, weights=np.where(alloc, amt, 0), minlength=n)
    room = np.maximum(c["cost"] - fixed_amt, 0)
    factor = np.divide(room, alloc_amt, out=np.ones(n), where=alloc_amt > 0)
    qty = np.where(alloc, np.clip(np.round(qty * factor[claim]), 1, max_qty), qty)
    qty = cap_rolling_supply(person[claim], item, date, qty, keep & (lm.kind[item] == DRUG) & ~stay[claim])
    clashed |= np.bincount(claim, weights=keep & (qty > 0), minlength=n) == 0
    keep &= (qty > 0) | clashed[claim]
    qty = np.maximum(qty, 1)
    qty, price, claim, item, date = qty[keep], price[keep], claim[keep], item[keep], date[keep]
    amount = (qty * price).astype(np.int64)
    return Lines(claim, item, qty.astype(np.float64), price.astype(np.int64), amount, date.astype(np.int32),
                 lm.kind[item] == DRUG, clashed)


def _append(lines: Lines, claim, item, qty, price, date) -> Lines:
    qty = np.asarray(qty, np.float64)
    return Lines(np.concatenate([lines.claim, claim]), np.concatenate([lines.item, item]),
                 np.concatenate([lines.qty, qty]), np.concatenate([lines.price, price]),
                 np.concatenate([lines.amount, (qty * price).astype(np.int64)]),
                 np.concatenate([lines.date, date]).astype(np.int32), np.concatenate([lines.is_drug, np.zeros(len(claim), bool)]),
                 lines.clashed)


def _one_line_per_claim(rng, lines: Lines, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each claim with a line in ``mask``, one such line at random: (claims, line positions)."""
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = pos[rng.permutation(len(pos))]
    claims, first = np.unique(lines.claim[pos], return_index=True)
    return claims, pos[first]


def _again_within(who, item, day, mask, window) -> np.ndarray:
    """Lines in ``mask`` whose (person, item) is billed again within ``window`` days after them."""
    idx = np.flatnonzero(mask)
    out = np.zeros(len(mask), bool)
    order = idx[np.lexsort((day[idx], item[idx], who[idx]))]
    a, b = order[:-1], order[1:]
    again = (who[a] == who[b]) & (item[a] == item[b]) & (day[b] - day[a] < window)
    out[a[again]] = True
    return out


def _weights(lm: LinesModel, b: ClaimBatch, claims: np.ndarray) -> np.ndarray:
    """Sampling weights of candidate claims: fraud concentrates on the fraudulent doctors."""
    return lm.m.propensity.weights(b.cols["inst"][claims], doctor_numbers(lm.m, b)[claims])


def inject_lines(rng, lm: LinesModel, b: ClaimBatch, lines: Lines, labels: Labels) -> Lines:
    """Line-level fraud: duplicate charges, swapped items, overdoses, sex / age restricted items."""
    cfg = lm.m.cfg
    pop = lm.m.pop
    c = b.cols
    level = lm.m.inst.level[c["inst"]]
    service = (lm.kind[lines.item] == SERVICE) & (lines.qty == 1)
    once_item = (lm.kind == SERVICE) & lm.catalog["item_code"].astype(str).str.startswith(ONCE_A_DAY).to_numpy()
    once = once_item[lines.item]
    # 重复收费: a once-a-day service line billed a second time on the same day
    claims, pos = _one_line_per_claim(rng, lines, once)
    pick = _choose(rng, np.arange(len(claims)), cfg.rate("duplicate_charge"), _weights(lm, b, claims))
    claims, pos = claims[pick], pos[pick]
    labels.add(claims, "duplicate_charge", lm.codes.take(pa.array(lines.item[pos])).to_numpy(zero_copy_only=False).astype(object))
    dup = (claims, lines.item[pos], lines.qty[pos], lines.price[pos], lines.date[pos])
    # 串换项目: a cheap service billed as a dear one
    taken = np.isin(lines.claim, claims)
    dear_min = lm.price[lm.dear_services].min() if len(lm.dear_services) else 0
    cheap = service & ~taken & (lines.price < dear_min)
    claims2, pos2 = _one_line_per_claim(rng, lines, cheap)
    pick = _choose(rng, np.arange(len(claims2)), cfg.rate("item_swap"), _weights(lm, b, claims2))
    claims2, pos2 = claims2[pick], pos2[pick]
    if len(pos2) and len(lm.dear_services):
        was = lm.codes.take(pa.array(lines.item[pos2])).to_numpy(zero_copy_only=False).astype(object)
        new = lm.dear_services[rng.integers(0, len(lm.dear_services), len(pos2))]
        lines.item[pos2] = new
        lines.price[pos2] = lm.price[new, level[claims2]]
        lines.amount[pos2] = (lines.qty[pos2] * lines.price[pos2]).astype(np.int64)
        labels.add(claims2, "item_swap", "billed for " + was)
    # 超量开药: one drug line at 5–10 times its quantity, and beyond a long prescription's supply; not
    # a drug the person gets again within the supply window (that later visit would break the
    # 30-day supply through this one, unlabelled)
    taken = np.isin(lines.claim, np.concatenate([claims, claims2]))
    visit_drug = lines.is_drug & (c["kind"][lines.claim] != INPATIENT)
    drug = visit_drug & ~taken & ~_again_within(c["person"][lines.claim], lines.item, lines.date, visit_drug, SUPPLY_WINDOW_DAYS)
    claims3, pos3 = _one_line_per_claim(rng, lines, drug)
    pick = _choose(rng, np.arange(len(claims3)), cfg.rate("overdose"), _weights(lm, b, claims3))
    claims3, pos3 = claims3[pick], pos3[pick]
    factor = rng.integers(5, 11, len(pos3))
    was = lines.qty[pos3].copy()
    floor = np.ceil(MAX_OUTPATIENT_QTY * (OVERDOSE_MIN_FACTOR + rng.random(len(pos3))))
    lines.qty[pos3] = np.maximum(was * factor, floor)
    lines.amount[pos3] = (lines.qty[pos3] * lines.price[pos3]).astype(np.int64)
    labels.add(claims3, "overdose", np.array([f"quantity {a:g} for {b:g}" for a, b in zip(lines.qty[pos3], was)], dtype=object))
    out = _append(lines, *dup)
    # 限性别 / 限年龄: an item restricted to the other sex, or to other ages, billed to the person
    eligible = np.flatnonzero(c["kind"] != PHARMACY)
    sex = pop.sex[c["person"]]
    for s, other in ((1, "2"), (2, "1")):
        pool = lm.sex_only[other]
        if len(pool) == 0:
            continue
        cand = eligible[sex[eligible] == s]
        v = _choose(rng, cand, cfg.rate("sex_violation"), _weights(lm, b, cand))
        items = pool[rng.integers(0, len(pool), len(v))]
        out = _append(out, v, items, np.ones(len(v)), lm.price[items, level[v]], c["adm"][v])
        labels.add(v, "sex_violation", lm.codes.take(pa.array(items)).to_numpy(zero_copy_only=False).astype(object))
    age = ((c["adm"] - pop.birth[c["person"]]) / 365.25).astype(np.int64)  # completed years at the visit
    for cand, pool in ((eligible[age[eligible] >= 18], lm.child_only), (eligible[age[eligible] < 17], lm.adult_only)):
        if len(pool) == 0:
            continue
        v = _choose(rng, cand, cfg.rate("age_violation"), _weights(lm, b, cand))
        items = pool[rng.integers(0, len(pool), len(v))]
        out = _append(out, v, items, np.ones(len(v)), lm.price[items, level[v]], c["adm"][v])
        labels.add(v, "age_violation", lm.codes.take(pa.array(items)).to_numpy(zero_copy_only=False).astype(object))
    out.is_drug = lm.kind[out.item] == DRUG
    return out


def safe_tests(lm: LinesModel) -> np.ndarray:
    """Laboratory tests any claim may bill once: in every profile's reach, without a 两库 daily,
    periodic or pair limit or restriction — the tests a doctor concentrating one item bills."""
    lim, lab = lm.limits, lm.generic["lab"]
    ok = (lim.period[lab] == 0) & np.isinf(lim.per_day[lab]) & ~lim.restricted[lab] \
        & ~lim.is_main[lim.base[lab]] & ~lim.is_sub[lim.base[lab]]
    return lab[ok][np.argsort(-lm.price[lab[ok], 0], kind="stable")]


def concentrated_items(lm: LinesModel) -> np.ndarray:
    """The test each item-concentrating doctor bills (catalog index per institution, −1: none): one of
    the four dearest safe tests, drawn from the seed."""
    pat = lm.m.patterns
    items = np.full(len(pat.doctor), -1, np.int64)
    tests = safe_tests(lm)[:4]
    chosen = np.flatnonzero(pat.doctor >= 0)
    if len(tests) and len(chosen):
        items[chosen] = tests[np.random.default_rng([lm.m.cfg.seed, 7]).integers(0, len(tests), len(chosen))]
    return items


def concentrate_items(lm: LinesModel, b: ClaimBatch, lines: Lines, items: np.ndarray, labelled: np.ndarray) -> Lines:
    """单一项目集中: the doctor's test (``items``) added once to each of their unlabelled claims that does
    not bill it already, on the admission day."""
    c = b.cols
    pat = lm.m.patterns
    doctor = pat.doctor[c["inst"]]
    on = (doctor >= 0) & (doctor_numbers(lm.m, b) == doctor) & (c["kind"] != PHARMACY)
    on[labelled] = False
    claims = np.flatnonzero(on)
    if not len(claims):
        return lines
    item = items[c["inst"][claims]]
    base = lm.limits.base
    width = int(base.max()) + 1
    billed = np.isin(claims * width + base[item], lines.claim * width + base[lines.item])
    claims, item = claims[~billed], item[~billed]
    level = lm.m.inst.level[c["inst"][claims]]
    out = _append(lines, claims, item, np.ones(len(claims)), lm.price[item, level], c["adm"][claims])
    out.is_drug = lm.kind[out.item] == DRUG
    return out

