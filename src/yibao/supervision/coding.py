"""高套诊断 (upcoding): a stay whose principal diagnosis is the severe one of a known pair (呼吸衰竭 for
肺炎, 急性心肌梗死 for 心绞痛 …) while its cost and length of stay sit at or below those of the stays
coded with the mild one at the same hospital level — severity recorded without the care it brings.

The judgement needs the year's peers, so the kind runs 事后 only (``per_claim = False``: the loader
refuses it a 事前 / 事中 scene). What is at stake is the DRG payment the coding gained: the stay is
grouped (CHS-DRG, :func:`yibao.payment.drg.group_many`) as billed and again with the mild principal
diagnosis the bill supports; each group's weight is fitted on the year's stays by the pack's rule
(:func:`yibao.payment.drg.payment.drg_weights`) and paid at the 费率 that makes the year's DRG payment
equal its cost (:func:`~yibao.payment.drg.payment.base_rate` with the stays' cost as budget: the pack
fixes the rate from a budget the lake does not carry). A stay whose regrouping lands in the same group
(or a heavier one) is no hit: 高套 is the heavier group paid.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao.errors import PolicyError
from yibao.money import div_round
from yibao.payment.common import W
from yibao.supervision.common import Kind, starts_with_any
from yibao.supervision.rules import ParamSpec

STAY_COLUMNS = ("claim_id", "psn_no", "fixmedins_code", "adm", "dscg", "adm_date", "los", "dscg_way",
                "newborn_weight_g", "dept", "diagnoses", "procedures", "total", "level", "sex", "birth_date")


class Pair(NamedTuple):
    severe: str  # prefix of the principal diagnosis billed
    mild: str  # the principal diagnosis the bill supports (a full ICD-10 code; peers start with it)


class Coding(NamedTuple):
    pairs: tuple[Pair, ...]
    drg: object  # DrgRules of the pack


def parse_pairs(texts, where: str) -> tuple[Pair, ...]:
    pairs = []
    for text in texts:
        severe, sep, mild = str(text).partition(">")
        if not sep or not severe.strip() or not mild.strip():
            raise PolicyError(f"{where}: params.pairs: {text!r} is not SEVERE>MILD (e.g. J96.9>J18.900)")
        pairs.append(Pair(severe.strip(), mild.strip()))
    return tuple(pairs)


class Upcoding(Kind):
    """高套诊断: the principal diagnosis starts with a pair's ``severe`` prefix while the cost and LOS of
    its episode (:func:`episodes`, ``episode_days``) are both at most the ``peer_quantile`` of the
    episodes of the stays whose principal is the pair's ``mild`` code, at the same institution level
    and with the same procedure status (:func:`peer_key`; the region's when the level has fewer than
    ``min_peers``), and the mild diagnosis groups the stay into a lighter DRG. Only stays (and peers)
    discharged one of ``discharge_ways`` are judged: a death, a transfer or a patient leaving cuts a
    stay short for a reason its bill does not show."""

    name, label = "upcoding", "高套诊断"
    per_claim = False
    params = ParamSpec({"pairs": "list of text", "peer_quantile": "rate", "min_peers": "int", "episode_days": "int",
                        "discharge_ways": "list of text", "pack": "text", "drg_version": "text",
                        "marker_share": "rate", "marker_mild_share": "rate"},
                       ("pairs", "peer_quantile", "min_peers", "episode_days", "discharge_ways", "pack"))

    def resolve(self, rule, catalog):
        from yibao.payment.drg.payment import DrgRules
        from yibao.policy import load_pack

        where = f"{rule.file}: rule {rule.id}"
        pairs = parse_pairs(rule.params["pairs"], where)
        if not 0 < rule.params["peer_quantile"] <= 1:
            raise PolicyError(f"{where}: params.peer_quantile: {rule.params['peer_quantile']} is not in (0, 1]")
        return Coding(pairs, DrgRules.from_params(load_pack(rule.params["pack"]).at(rule.since)))

    def batch(self, rule, data: Coding, t):
        stays = t.claims.filter(t.claims.is_stay)
        frame = t.backend.to_arrow(stays.select(*STAY_COLUMNS)).to_pandas()
        applies = t.backend.to_arrow(t.applies(rule, stays).select("claim_id")).column(0).to_pylist()
        paired = stays.filter(starts_with_any(stays.principal, [x for p in data.pairs for x in (p.severe, p.mild)]))
        items = t.lines.join(paired.select("claim_id"), "claim_id").select("claim_id", "item_code", "kind").distinct()
        found = upcoded(frame, frame["claim_id"].isin(applies), data, rule.params,
                        t.backend.to_arrow(items).to_pandas())
        return t.memtable(found)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code}，费用与住院日不高于轻症同级病例的 {float(rule.params['peer_quantile']):.0%} 分位数"


def principal(diagnoses: pd.Series) -> pd.Series:
    return diagnoses.fillna("").str.split("|").str[0]


def episodes(stays: pd.DataFrame, days: int) -> pd.DataFrame:
    """Each stay's episode: its person's stays at the same institution each admitted within ``days`` of
    the last discharge, one care episode (a stay split in two is judged whole). Adds ``ep_cost``,
    ``ep_los`` and ``ep_stays``."""
    s = stays.sort_values(["psn_no", "fixmedins_code", "adm", "claim_id"], kind="stable")
    same = (s["psn_no"] == s["psn_no"].shift()) & (s["fixmedins_code"] == s["fixmedins_code"].shift())
    new = ~same | (s["adm"] - s["dscg"].shift() > days)
    ep = new.cumsum()
    g = s.groupby(ep)
    s = s.assign(ep_cost=g["total"].transform("sum"), ep_los=g["los"].transform("sum").astype("float64"),
                 ep_stays=g["claim_id"].transform("size"))
    return s.reindex(stays.index)


def peer_key(stays: pd.DataFrame, region: bool = False) -> pd.Series:
    """The peer group of a stay: its institution level (``*`` the region's) and whether it records a
    procedure — an upcoded stay keeps the procedures of the mild one."""
    operated = stays["procedures"].fillna("").ne("").map({True: "手术操作", False: "无手术操作"})
    level = "*" if region else stays["level"].astype("string").fillna("?")
    return level + "/" + operated


def _peer_limits(peers: pd.DataFrame, q: float, min_peers: int) -> pd.DataFrame:
    """Per peer group (and the region's, ``*/…``), the peers' count and episode cost and LOS at ``q``."""
    parts = []
    for key in (peer_key(peers), peer_key(peers, region=True)):
        by = peers.groupby(key)
        parts.append(pd.DataFrame({"n": by.size(), "cost": by["ep_cost"].quantile(q), "los": by["ep_los"].quantile(q)}))
    per = pd.concat(parts)
    return per[per["n"] >= min_peers]


def marker_key(items: pd.DataFrame) -> pd.Series:
    """What a marker is counted by: a drug by its class (the first 6 characters of the national drug
    code, X + the ATC level-4 group: any heparin, not one brand), anything else by its 9-character
    base code (the item, whatever its price suffix)."""
    code = items["item_code"].astype(str)
    return code.str.slice(0, 6).where(items["kind"].eq("drug"), code.str.slice(0, 9))


def markers(severe: pd.DataFrame, mild: pd.DataFrame, items: pd.DataFrame, share: float, mild_share: float) -> list[str]:
    """The items that mark the severe diagnosis in the year's bills: billed on at least ``share`` of the
    stays coded severe and at most ``mild_share`` of those coded mild (the ventilator of 呼吸衰竭, the
    blood culture of 脓毒症). Upcoded stays are a few of the severe ones: they do not hide the markers."""
    if severe.empty or mild.empty or items is None or items.empty:
        return []
    on = items.assign(item_code=marker_key(items)).drop_duplicates(["claim_id", "item_code"])
    in_severe = on[on["claim_id"].isin(set(severe["claim_id"]))].groupby("item_code").size() / len(severe)
    in_mild = on[on["claim_id"].isin(set(mild["claim_id"]))].groupby("item_code").size() / len(mild)
    found = in_severe[(in_severe >= share) & (in_mild.reindex(in_severe.index).fillna(0.0) <= mild_share)]
    return sorted(found.index.astype(str))


def _candidates(stays: pd.DataFrame, first: pd.Series, scope: pd.Series, pairs, params: dict,
                items: pd.DataFrame | None) -> pd.DataFrame:
    """Stays coded severe whose cost and LOS are within the mild peers' limits and whose bill has none
    of the severe diagnosis's :func:`markers` (when the year shows some), with the pair."""
    q, min_peers = float(params["peer_quantile"]), params["min_peers"]
    share, mild_share = params.get("marker_share"), params.get("marker_mild_share")
    rows = []
    for pair in pairs:  # a handful of pairs
        severe = first.str.startswith(pair.severe) & ~first.str.startswith(pair.mild)
        coded = stays[scope & severe]
        mild = stays[first.str.startswith(pair.mild)]
        limits = _peer_limits(mild, q, min_peers)
        if coded.empty or limits.empty:
            continue
        marks = [] if share is None else markers(stays[severe], mild, items, float(share), float(mild_share or 0.0))
        if marks:  # a bill with the severe diagnosis's own treatment is no mild stay
            coded = coded[~coded["claim_id"].isin(set(items.loc[marker_key(items).isin(marks), "claim_id"]))]
            if coded.empty:
                continue
        key = peer_key(coded).where(peer_key(coded).isin(limits.index), peer_key(coded, region=True))
        lim = limits.reindex(key.to_numpy())
        low = (coded["ep_cost"].to_numpy() <= lim["cost"].to_numpy()) & (coded["ep_los"].to_numpy() <= lim["los"].to_numpy())
        picked = coded[low].assign(mild=pair.mild, peer_group=key[low].to_numpy(), peers=lim["n"].to_numpy()[low],
                                   max_cost=lim["cost"].to_numpy()[low], max_los=lim["los"].to_numpy()[low],
                                   markers="|".join(marks))
        rows.append(picked)
    return pd.concat(rows) if rows else stays.iloc[:0].assign(mild="", peer_group="", peers=0, max_cost=0.0, max_los=0.0,
                                                              markers="")


def _grouped(stays: pd.DataFrame, version: str) -> pd.DataFrame:
    from yibao.payment.drg.batch import cases_from_claims, group_many

    persons = stays[["psn_no", "sex", "birth_date"]]
    claims = stays.drop(columns=["sex", "birth_date"])
    return group_many(cases_from_claims(claims, persons), version).set_index("case_id")


def _weights(stays: pd.DataFrame, groups: pd.DataFrame, rules) -> tuple[dict[str, int], int]:
    """Each DRG's weight (×10 000) fitted on the year's stays, and the cost-neutral 费率 (fen)."""
    import ibis

    from yibao.payment.drg.payment import base_rate, drg_pay, drg_weights

    ok = groups[groups["status"] == "ok"]
    cost = stays.set_index("claim_id")["total"].reindex(ok.index).astype("int64")
    table = ibis.memtable(pa.table({"case_id": pa.array(ok.index.astype(str).tolist(), pa.string()),
                                    "fixmedins_code": pa.array([""] * len(ok), pa.string()),
                                    "drg": pa.array(ok["drg"].astype(str).tolist(), pa.string()),
                                    "cost_fen": pa.array(cost.tolist(), pa.int64())}))
    weights = drg_weights(table, rules)
    trial = drg_pay(table, weights, rules, 1)  # the cases set aside (特病单议) are paid apart: not in the budget
    payable = trial.filter(trial.kind != "review").cost_fen.sum().to_pyarrow().as_py() or 0
    rate = base_rate(table, weights, rules, int(payable))
    w = weights.to_pyarrow()
    return dict(zip(w["drg"].to_pylist(), w["weight_e4"].to_pylist())), rate


def upcoded(stays: pd.DataFrame, scope: pd.Series, data: Coding, params: dict,
            items: pd.DataFrame | None = None) -> pa.Table:
    """The Finding rows of the stays in ``scope`` coded up (``stays``: the year's, for peers and weights;
    ``items``: ``claim_id, item_code, kind`` of the stays' lines, for the markers)."""
    first = principal(stays["diagnoses"])
    stays = episodes(stays, params["episode_days"])
    judged = stays["dscg_way"].isin(params["discharge_ways"])
    found = _candidates(stays[judged], first[judged], scope[judged], data.pairs, params, items)
    if found.empty:
        return _findings(found, [], [])
    version = params.get("drg_version", "chs-1.1")
    weight, rate = _weights(stays, _grouped(stays, version), data.drg)
    billed = _grouped(found, version)["drg"].reindex(found["claim_id"]).to_numpy()
    supported = _grouped(found.assign(diagnoses=_recoded(found)), version)["drg"].reindex(found["claim_id"]).to_numpy()
    evidence, gains = [], []
    for row, b, s in zip(found.itertuples(index=False), billed, supported):  # the few stays found, not the year
        wb, ws = weight.get(b) if isinstance(b, str) else None, weight.get(s) if isinstance(s, str) else None
        gain = div_round(wb * rate, W) - div_round(ws * rate, W) if wb is not None and ws is not None else 0
        gains.append(gain)
        evidence.append({
            "billed_dx": row.diagnoses.split("|")[0], "supported_dx": row.mild, "billed_drg": b, "supported_drg": s,
            "weight_billed": None if wb is None else wb / W, "weight_supported": None if ws is None else ws / W,
            "base_rate_fen": rate, "cost_fen": int(row.total), "episode_cost_fen": int(row.ep_cost),
            "episode_los": int(row.ep_los), "episode_stays": int(row.ep_stays),
            "peer_cost_fen": int(round(row.max_cost)), "peer_los": float(row.max_los), "peers": int(row.peers),
            "peer_group": str(row.peer_group), "quantile": float(params["peer_quantile"]),
            "missing_markers": [m for m in row.markers.split("|") if m]})
    keep = np.array(gains) > 0  # the same group (or a heavier one): a coding error the DRG does not pay for
    return _findings(found[keep], list(np.array(gains)[keep]), [e for e, k in zip(evidence, keep) if k])


def _findings(found: pd.DataFrame, gains: list[int], evidence: list[dict]) -> pa.Table:
    items = [f"{e['billed_dx']}→{e['supported_dx']}（{e['billed_drg']}→{e['supported_drg']}）" for e in evidence]
    return pa.table({
        "claim_id": pa.array(found["claim_id"].astype(str).tolist(), pa.string()),
        "line_nos": pa.array([[] for _ in gains], pa.list_(pa.int64())),
        "item_code": pa.array(items, pa.string()),
        "observed": pa.array(found["ep_cost"].astype("float64").tolist(), pa.float64()),
        "limit": pa.array(found["max_cost"].astype("float64").tolist(), pa.float64()),
        "vola_amt": pa.array([int(g) for g in gains], pa.int64()),
        "ref_claim_id": pa.nulls(len(gains), pa.string()),
        "detail": pa.array([json.dumps(e, ensure_ascii=False, sort_keys=True) for e in evidence], pa.string()),
    })


def _recoded(found: pd.DataFrame) -> pd.Series:
    """The diagnoses with the principal replaced by the mild one the bill supports."""
    rest = found["diagnoses"].fillna("").str.partition("|")[2]
    return found["mild"].where(rest == "", found["mild"] + "|" + rest)


__all__ = ["Upcoding", "marker_key", "markers", "upcoded"]
