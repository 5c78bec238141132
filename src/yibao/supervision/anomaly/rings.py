"""Rings (团伙 / 结伙骗保): persons who keep turning up on the same day with the same doctor at the
same institution, far more often than chance allows.

For a doctor who worked ``D`` days and two of their patients seen on ``n_a`` and ``n_b`` of those
days, chance gives about ``λ = n_a·n_b / D`` shared days; ``k`` shared days have the Poisson tail
probability ``p = P(X ≥ k | λ)``. A pair is an edge of the graph, weighted ``−log10 p``, when it is a
discovery of the Benjamini–Hochberg procedure over every pair that was tested, at a false discovery
rate of 1%: of the pairs kept, about one in a hundred is chance. (A Bonferroni bound over millions of
pairs would keep only the strongest pairs of a ring, too few to see the ring.) The graph (networkx) holds
persons, doctors and institutions; its dense communities of persons (Louvain, seeded) are the ring
candidates, with the doctors and institution they met at and the shared days as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao.errors import ValidationError

ENCOUNTER_COLUMNS = ("psn_no", "doctor_code", "fixmedins_code", "adm_date")


@dataclass(frozen=True)
class RingParams:
    """``min_shared``: the fewest shared days a pair needs; ``fdr``: the false discovery rate of the
    pair test; ``min_persons``: the smallest ring reported."""

    min_shared: int = 3
    fdr: float = 0.01
    min_persons: int = 3
    seed: int = 0


def _encounters(claims: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ENCOUNTER_COLUMNS if c not in claims.columns]
    if missing:
        raise ValidationError(missing[0], f"column missing from claims (needs {', '.join(ENCOUNTER_COLUMNS)})",
                              "claims")
    e = claims.loc[claims["doctor_code"].notna() & claims["doctor_code"].ne(""), list(ENCOUNTER_COLUMNS)]
    return e.drop_duplicates()


def improbable_pairs(claims: pd.DataFrame, params: RingParams = RingParams()) -> tuple[pd.DataFrame, int]:
    """Pairs of persons sharing improbably many same-day encounters with one doctor at one institution:
    ``fixmedins_code, doctor_code, a, b, shared, expected, weight`` (−log10 p), and the count of pairs
    tested (the Bonferroni denominator)."""
    from scipy.stats import poisson

    e = _encounters(claims)
    key = ["fixmedins_code", "doctor_code"]
    days = e.groupby(key)["adm_date"].nunique().rename("doctor_days")
    visits = e.groupby([*key, "psn_no"]).size().rename("visits").reset_index()
    regular = visits[visits["visits"] >= params.min_shared]
    per_doctor = regular.groupby(key).size()
    tested = int((per_doctor * (per_doctor - 1) // 2).sum())
    cols = [*key, "adm_date", "psn_no"]
    empty = pd.DataFrame(columns=[*key, "a", "b", "shared", "expected", "weight"])
    if tested == 0:
        return empty, 0
    enc = e.merge(regular[[*key, "psn_no"]], on=[*key, "psn_no"])[cols]
    pairs = enc.merge(enc, on=[*key, "adm_date"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["psn_no_a"] < pairs["psn_no_b"]]
    shared = pairs.groupby([*key, "psn_no_a", "psn_no_b"]).size().rename("shared").reset_index()
    shared = shared[shared["shared"] >= params.min_shared]
    if shared.empty:
        return empty, tested
    n = visits.set_index([*key, "psn_no"])["visits"]
    na = n.reindex(pd.MultiIndex.from_frame(shared[[*key, "psn_no_a"]])).to_numpy()
    nb = n.reindex(pd.MultiIndex.from_frame(shared[[*key, "psn_no_b"]])).to_numpy()
    d = days.reindex(pd.MultiIndex.from_frame(shared[key])).to_numpy()
    expected = na * nb / d
    weight = -poisson.logsf(shared["shared"].to_numpy() - 1, expected) / np.log(10)
    out = shared.rename(columns={"psn_no_a": "a", "psn_no_b": "b"}).assign(expected=expected, weight=weight)
    return out[_discoveries(weight, tested, params.fdr)].reset_index(drop=True), tested


def _discoveries(weight: np.ndarray, tested: int, fdr: float) -> np.ndarray:
    """Benjamini–Hochberg over ``tested`` pairs (the untested ones have p near 1 and are never kept):
    keep the k strongest, k the largest rank whose p is at most k × fdr / tested."""
    order = np.argsort(-weight, kind="stable")
    ranks = np.arange(1, len(weight) + 1)
    passing = np.flatnonzero(-weight[order] <= np.log10(ranks * fdr / tested))
    keep = np.zeros(len(weight), dtype=bool)
    if len(passing):
        keep[order[: passing[-1] + 1]] = True
    return keep


def ring_graph(pairs: pd.DataFrame):
    """The networkx graph: person–person edges (weight −log10 p, summed over doctors), person–doctor
    and doctor–institution edges (weight: shared days); node attribute ``kind``."""
    import networkx as nx

    g = nx.Graph()
    pp = pairs.groupby(["a", "b"], as_index=False)["weight"].sum()
    g.add_nodes_from(pd.unique(pairs[["a", "b"]].to_numpy().ravel()), kind="person")
    g.add_weighted_edges_from(pp.itertuples(index=False, name=None), kind="co-encounter")
    pd_edges = pd.concat([pairs[["a", "doctor_code", "shared"]].set_axis(["p", "d", "s"], axis=1),
                          pairs[["b", "doctor_code", "shared"]].set_axis(["p", "d", "s"], axis=1)])
    pd_edges = pd_edges.groupby(["p", "d"], as_index=False)["s"].max()
    g.add_nodes_from(pd.unique(pairs["doctor_code"]), kind="doctor")
    g.add_nodes_from(pd.unique(pairs["fixmedins_code"]), kind="institution")
    g.add_weighted_edges_from(pd_edges.itertuples(index=False, name=None), kind="sees")
    di = pairs.groupby(["doctor_code", "fixmedins_code"], as_index=False)["shared"].sum()
    g.add_weighted_edges_from(di.itertuples(index=False, name=None), kind="works at")
    return g


def _communities(g, seed: int) -> list[set[str]]:
    import networkx as nx

    persons = g.subgraph([n for n, k in g.nodes(data="kind") if k == "person"])
    return [set(c) for c in nx.community.louvain_communities(persons, weight="weight", seed=seed)]


def find_rings(claims: pd.DataFrame, params: RingParams = RingParams()) -> pd.DataFrame:
    """Ring candidates, strongest first: ``ring_id, fixmedins_code, doctors, persons, n_persons,
    pairs, density, sessions, days, weight, evidence`` (persons and doctors ``|``-joined)."""
    pairs, tested = improbable_pairs(claims, params)
    columns = ["ring_id", "fixmedins_code", "doctors", "persons", "n_persons", "pairs", "density", "sessions",
               "days", "weight", "evidence"]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    g = ring_graph(pairs)
    e = _encounters(claims)
    rows = []
    for members in _communities(g, params.seed):  # one community a row: few, not one per claim
        if len(members) < params.min_persons:
            continue
        rows.append(_ring_row(members, pairs, e, tested))
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows).sort_values(["weight", "persons"], ascending=[False, True], kind="stable")
    out.insert(0, "ring_id", [f"R{i:03d}" for i in range(1, len(out) + 1)])
    return out[columns].reset_index(drop=True)


def _ring_row(members: set[str], pairs: pd.DataFrame, e: pd.DataFrame, tested: int) -> dict:
    inside = pairs[pairs["a"].isin(members) & pairs["b"].isin(members)]
    doctors = sorted(inside["doctor_code"].unique())
    inst = inside.groupby("fixmedins_code")["weight"].sum().idxmax()
    seen = e[e["psn_no"].isin(members) & e["doctor_code"].isin(doctors)]
    per_session = seen.groupby(["fixmedins_code", "doctor_code", "adm_date"])["psn_no"].nunique()
    sessions = per_session[per_session >= 2]
    days = sorted(pd.to_datetime(pd.Series(sessions.index.get_level_values("adm_date").unique())).dt.date)
    n = len(members)
    n_pairs = len(inside[["a", "b"]].drop_duplicates())
    density = n_pairs / (n * (n - 1) / 2)
    min_p = 10 ** -inside["weight"].max()
    evidence = (f"{n} 人在 {len(sessions)} 个同日同医生就诊中同时出现（{len(days)} 天，"
                f"首日 {days[0]}，末日 {days[-1]}）；{n_pairs} 对人员同日就诊次数远超随机"
                f"（最小 p={min_p:.1e}，已按 {tested:,} 对检验校正）")
    return {"fixmedins_code": inst, "doctors": "|".join(doctors), "persons": "|".join(sorted(members)),
            "n_persons": n, "pairs": n_pairs, "density": round(density, 3), "sessions": len(sessions),
            "days": len(days), "weight": float(inside["weight"].sum()), "evidence": evidence}


__all__ = ["ENCOUNTER_COLUMNS", "RingParams", "find_rings", "improbable_pairs", "ring_graph"]
