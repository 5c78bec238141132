"""Rings (团伙 / 结伙骗保): persons who keep turning up on the same day with the same doctor at the
same institution, far more often than chance allows. Two steps: pairs propose, groups are tested.

- **Pairs propose.** Two regular patients of an institution (at least ``min_shared`` visits there)
  share a session when they see the same doctor on the same day. For a doctor who worked ``D`` days
  and two patients seen on ``n_a`` and ``n_b`` of them, chance gives ``n_a·n_b / D`` shared days; summed
  over the institution's doctors this is ``λ`` (a ring that splits its days between two doctors keeps
  its evidence whole), and ``k`` shared sessions have the Poisson tail ``p = P(X ≥ k | λ)``. Pairs with
  ``p`` at most ``propose`` are the edges (weight ``−log10 p``) of a networkx graph, a node for each
  person at each institution, whose Louvain communities (seeded) of at least ``min_persons`` persons
  are the proposals. A proposal is not yet a finding, so the bar is low: more shared sessions than
  chance gives as often as not.
- **A group is tested whole.** If each member came on random days of their doctor's ``D`` days, the
  chance that ``g`` members with ``n_1 … n_g`` visits fall inside some ``v`` of those days is at most
  ``C(D, v) · Π C(v, n_i) / C(D, n_i)`` (the choice of the days times each member's chance of falling
  inside them). Taken at the days the members cover (or more, if that bound is smaller), combined over
  their doctors (Fisher) and multiplied by ``C(R, g)``, the ways of choosing ``g`` of the
  institution's ``R`` regular patients, it bounds the chance that *any* group of that size crowds its
  visits onto so few days — so it holds however the group was found, and a pair cannot ask it: at a
  doctor who bills on thirty days a year a pair sharing seven of them is ordinary, nine persons who
  all come on the same eleven are not. A proposal is pruned while leaving one member out lowers the
  bound (a person who shares a doctor with the ring by chance widens its days); the groups then pass
  the Benjamini–Hochberg procedure at a 1% false discovery rate over every institution and group size
  that could have been tested. Each kept group is a ring candidate, with its institution, doctors and
  the sessions where two or more of them met. (A Bonferroni bound on single pairs over the millions
  of pairs of a busy region would keep only a ring's strongest pairs, too few to see the ring.)

Both steps assume that each person decides alone when to come. Two kinds of meeting break that
assumption without any fraud, and are left out of the evidence on principle:

- **Scheduled treatment.** A 门诊慢特病 / 门诊两病 visit (``med_type`` 14 or 9901, when the claims carry
  the column) follows a treatment plan registered with the fund at one institution: a dialysis shift
  brings the same patients to the same nephrologist three days a week, a monthly refill day the same
  patients to their doctor. The plan sets their days, so sharing them is no evidence that the patients
  chose to meet; these visits are not encounters. (A ring billing through 慢特病 registrations is for
  the registration checks and the rules, not for this test.)
- **Households.** Members of one household (``household_id``, when the claims carry it) go to the
  doctor together: a household is one node, its members' visits one person's, so a family seen on the
  same day is one encounter. A ring that recruits two members of a family is still found through its
  other members; its persons are listed one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError

ENCOUNTER_COLUMNS = ("psn_no", "doctor_code", "fixmedins_code", "adm_date")
SCHEDULED = frozenset({vocab.MED_CHRONIC, vocab.MED_TWO_DISEASES})  # visits on a treatment plan's days
KEY = ["fixmedins_code", "doctor_code"]
LN10 = np.log(10.0)
IMPOSSIBLE = -1e9  # log10 of a chance that is 0
COLUMNS = ["ring_id", "fixmedins_code", "doctors", "persons", "n_persons", "pairs", "density", "sessions", "days",
           "weight", "p", "evidence"]


@dataclass(frozen=True)
class RingParams:
    """``min_shared``: the fewest shared sessions a pair needs (and the fewest visits that make a
    regular patient); ``propose``: the largest pair ``p`` that proposes; ``fdr``: the false discovery
    rate of the group test; ``min_persons``: the smallest ring reported."""

    min_shared: int = 3
    propose: float = 0.5
    fdr: float = 0.01
    min_persons: int = 3
    seed: int = 0

    def __post_init__(self):
        for name in ("propose", "fdr"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValidationError(name, f"{getattr(self, name)!r} is not a probability in (0, 1]")
        if self.min_shared < 1 or self.min_persons < 3:
            raise ValidationError("min_persons" if self.min_persons < 3 else "min_shared",
                                  "a ring needs at least 3 persons and a pair at least 1 shared session")


def _encounters(claims: pd.DataFrame) -> pd.DataFrame:
    """One row a (node, doctor, institution, day) of :func:`_visits`."""
    return _visits(claims)[list(ENCOUNTER_COLUMNS)].drop_duplicates()


def _visits(claims: pd.DataFrame) -> pd.DataFrame:
    """The unscheduled visits with a doctor, one row a (node, doctor, institution, day, patient):
    ``psn_no`` is the node (the household when the claims carry ``household_id``), ``person`` the patient."""
    missing = [c for c in ENCOUNTER_COLUMNS if c not in claims.columns]
    if missing:
        raise ValidationError(missing[0], f"column missing from claims (needs {', '.join(ENCOUNTER_COLUMNS)})",
                              "claims")
    seen = claims["doctor_code"].notna() & claims["doctor_code"].ne("")
    if "med_type" in claims.columns:
        seen &= ~claims["med_type"].isin(sorted(SCHEDULED))
    e = claims.loc[seen, list(ENCOUNTER_COLUMNS)].assign(person=claims.loc[seen, "psn_no"])
    if "household_id" in claims.columns:
        household = claims.loc[seen, "household_id"]
        e["psn_no"] = ("household " + household.astype(str)).where(household.notna() & household.ne(""), e["person"])
    return e.drop_duplicates()


def _workload(e: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Each doctor's days, and each patient's visits to each doctor (``fixmedins_code, doctor_code,
    psn_no, visits``)."""
    days = e.groupby(KEY)["adm_date"].nunique().rename("doctor_days")
    visits = e.groupby([*KEY, "psn_no"]).size().rename("visits").reset_index()
    return days, visits


def _regulars(visits: pd.DataFrame, min_shared: int) -> pd.DataFrame:
    """``fixmedins_code, psn_no`` of the patients with at least ``min_shared`` visits there."""
    at = visits.groupby(["fixmedins_code", "psn_no"])["visits"].sum()
    return at[at >= min_shared].reset_index()[["fixmedins_code", "psn_no"]]


def improbable_pairs(claims: pd.DataFrame, params: RingParams = RingParams()) -> tuple[pd.DataFrame, pd.Series]:
    """Pairs of an institution's regular patients sharing more sessions (same doctor, same day) there
    than chance makes likely: ``fixmedins_code, a, b, doctors, shared, expected, weight`` (−log10 p;
    ``p`` at most ``propose``), and the count of regular patients per institution, every one of whom
    could be a ring member."""
    return _pairs(_encounters(claims), params)


def _pairs(e: pd.DataFrame, params: RingParams) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`improbable_pairs` of the encounters ``e`` (:func:`_encounters`)."""
    from scipy.stats import poisson

    days, visits = _workload(e)
    regular = _regulars(visits, params.min_shared)
    counts = regular.groupby("fixmedins_code").size().rename("regular")
    empty = pd.DataFrame(columns=["fixmedins_code", "a", "b", "doctors", "shared", "expected", "weight"])
    if regular.empty:
        return empty, counts
    enc = e.merge(regular, on=["fixmedins_code", "psn_no"])
    pairs = enc.merge(enc, on=[*KEY, "adm_date"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["psn_no_a"] < pairs["psn_no_b"]].rename(columns={"psn_no_a": "a", "psn_no_b": "b"})
    inst = ["fixmedins_code", "a", "b"]
    by_doctor = pairs.groupby([*inst, "doctor_code"]).size().rename("shared").reset_index()
    shared = by_doctor.groupby(inst).agg(shared=("shared", "sum"),
                                         doctors=("doctor_code", lambda d: "|".join(sorted(d)))).reset_index()
    shared = shared[shared["shared"] >= params.min_shared]
    if shared.empty:
        return empty, counts
    shared["expected"] = _chance(shared[inst], days, visits).to_numpy()
    shared["weight"] = -poisson.logsf(shared["shared"].to_numpy() - 1, shared["expected"].to_numpy()) / LN10
    kept = shared[shared["weight"] >= -np.log10(params.propose)]
    return kept[empty.columns].reset_index(drop=True), counts


def _chance(pairs: pd.DataFrame, days: pd.Series, visits: pd.DataFrame) -> pd.Series:
    """``λ = Σ n_a·n_b / D`` over the doctors of the institution both persons of a pair saw."""
    va = visits.rename(columns={"psn_no": "a", "visits": "n_a"})
    vb = visits.rename(columns={"psn_no": "b", "visits": "n_b"})
    both = pairs.merge(va, on=["fixmedins_code", "a"]).merge(vb, on=[*KEY, "b"])
    d = days.reindex(pd.MultiIndex.from_frame(both[KEY])).to_numpy()
    lam = (both["n_a"] * both["n_b"] / d).groupby([both["fixmedins_code"], both["a"], both["b"]]).sum()
    return lam.reindex(pd.MultiIndex.from_frame(pairs)).fillna(0.0)


def _discoveries(weight: np.ndarray, tested: int, fdr: float) -> np.ndarray:
    """Benjamini–Hochberg over ``tested`` hypotheses (the untested ones have p near 1 and are never
    kept): keep the k strongest, k the largest rank whose p is at most k × fdr / tested."""
    order = np.argsort(-weight, kind="stable")
    ranks = np.arange(1, len(weight) + 1)
    passing = np.flatnonzero(-weight[order] <= np.log10(ranks * fdr / tested))
    keep = np.zeros(len(weight), dtype=bool)
    if len(passing):
        keep[order[: passing[-1] + 1]] = True
    return keep


def ring_graph(pairs: pd.DataFrame):
    """The networkx graph: person–person edges (weight −log10 p, summed over institutions), person–doctor
    and doctor–institution edges (weight: shared sessions); node attribute ``kind``."""
    import networkx as nx

    g = nx.Graph()
    pp = pairs.groupby(["a", "b"], as_index=False)["weight"].sum()
    g.add_nodes_from(pd.unique(pairs[["a", "b"]].to_numpy().ravel()), kind="person")
    g.add_weighted_edges_from(pp.itertuples(index=False, name=None), kind="co-encounter")
    seen = pairs.assign(doctor_code=pairs["doctors"].str.split("|")).explode("doctor_code")
    pd_edges = pd.concat([seen[["a", "doctor_code", "shared"]].set_axis(["p", "d", "s"], axis=1),
                          seen[["b", "doctor_code", "shared"]].set_axis(["p", "d", "s"], axis=1)])
    pd_edges = pd_edges.groupby(["p", "d"], as_index=False)["s"].max()
    g.add_nodes_from(pd.unique(seen["doctor_code"]), kind="doctor")
    g.add_nodes_from(pd.unique(pairs["fixmedins_code"]), kind="institution")
    g.add_weighted_edges_from(pd_edges.itertuples(index=False, name=None), kind="sees")
    di = seen.groupby(["doctor_code", "fixmedins_code"], as_index=False)["shared"].sum()
    g.add_weighted_edges_from(di.itertuples(index=False, name=None), kind="works at")
    return g


def _communities(pairs: pd.DataFrame, seed: int) -> list[tuple[str, set[str]]]:
    """Louvain communities (seeded) of persons at an institution: a person is one node at each
    institution, so that two members who also meet elsewhere do not pull the ring apart."""
    import networkx as nx

    g = nx.Graph()
    g.add_weighted_edges_from(zip(zip(pairs["fixmedins_code"], pairs["a"]), zip(pairs["fixmedins_code"], pairs["b"]),
                                  pairs["weight"]))
    out = []
    for nodes in nx.community.louvain_communities(g, weight="weight", seed=seed):
        for inst, members in pd.DataFrame(list(nodes), columns=["inst", "psn"]).groupby("inst")["psn"]:
            out.append((inst, set(members)))  # an edge joins persons of one institution: one group a community
    return out


def _log10_choose(n, k):
    from scipy.special import gammaln

    return (gammaln(np.asarray(n) + 1.0) - gammaln(np.asarray(k) + 1.0) - gammaln(np.asarray(n) - k + 1.0)) / LN10


def _doctor_bounds(doctor_days: int, at: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
    """One doctor's terms of the bound on a group's days (``at``: the members' encounters with the
    doctor). ``bound[v] = log10 C(D, v) + Σ_i log10 [C(v, n_i) / C(D, n_i)]`` bounds the chance that
    members coming on random days (``n_i`` each) all fall inside some ``v`` of the doctor's ``D`` days.
    Returns the members, ``bound`` and the days they cover, and the same without each member (one row
    a member)."""
    present = at.groupby("adm_date")["psn_no"].transform("size")
    members = np.unique(at["psn_no"])
    alone = (present == 1).groupby(at["psn_no"]).sum().reindex(members).to_numpy()
    n = at.groupby("psn_no").size().reindex(members).to_numpy()[:, None]
    v = np.arange(doctor_days + 1)[None, :]
    # fewer days than a member's visits cannot hold them: a finite stand-in for log 0 keeps bound − own exact
    own = np.where(v >= n, _log10_choose(np.maximum(v, n), n), IMPOSSIBLE) - _log10_choose(doctor_days, n)
    bound = _log10_choose(doctor_days, v[0]) + own.sum(axis=0)
    covered = at["adm_date"].nunique()
    return members, bound, covered, bound - own, covered - alone


def _least_from(bound: np.ndarray, covered) -> np.ndarray:
    """The least bound over ``v ≥ covered`` (each bounds the chance of covering at most ``v`` days, so
    at most ``covered`` too), at most 0."""
    v = np.arange(bound.shape[-1])
    return np.minimum(np.where(v >= np.asarray(covered)[..., None], bound, np.inf).min(axis=-1), 0.0)


def _fisher_log10(log10_product: np.ndarray, k: int) -> np.ndarray:
    """log10 of the chance that the product of ``k`` independent uniform p-values is at most the given
    one, ``t · Σ_{j<k} (−ln t)^j / j!`` with ``t`` the product (a ring's doctors each give one)."""
    x = np.maximum(-np.asarray(log10_product, dtype=float) * LN10, 1e-300)
    terms = np.stack([j * np.log(x) - np.log(np.arange(1, j + 1)).sum() for j in range(k)])
    return np.minimum(log10_product + np.logaddexp.reduce(terms, axis=0) / LN10, 0.0)


def group_log10_p(seen: pd.DataFrame, days: pd.Series, inst: str, members: set[str], regular: int
                  ) -> tuple[float, pd.Series]:
    """log10 of the chance that any ``g`` of the institution's ``regular`` patients, coming on random
    days of their doctors, would crowd their visits onto as few of the doctors' days as these members
    do: per doctor the least of the bounds ``C(D, v) · Π C(v, n) / C(D, n)`` over ``v`` at least the days
    the members cover (the choice of ``v`` days, times each member's chance of falling inside them),
    the doctors combined (Fisher), times ``C(regular, g)`` for the choice of the group, so that the
    figure holds however the group was found. ``seen``: the encounters at the institution. Also the
    same figure without each member (index ``psn_no``)."""
    mine = seen[seen["psn_no"].isin(members)]
    names = np.array(sorted(members))
    full, without, doctors = 0.0, np.zeros(len(names)), 0
    for doctor, at in mine.groupby("doctor_code"):  # the ring's doctors: a handful at most
        who, bound, covered, bound_without, covered_without = _doctor_bounds(int(days[(inst, doctor)]), at)
        here = float(_least_from(bound, covered))
        left = np.full(len(names), here)  # a member this doctor did not see leaves the doctor's figure as it is
        left[np.searchsorted(names, who)] = _least_from(bound_without, covered_without)
        full += here
        without += left
        doctors += 1
    g = len(names)
    total = min(float(_log10_choose(regular, g)) + float(_fisher_log10(full, doctors)), 0.0)
    left = np.minimum(_log10_choose(regular, g - 1) + _fisher_log10(without, doctors), 0.0)
    return total, pd.Series(left, index=names)


def _tightest(seen: pd.DataFrame, days: pd.Series, inst: str, members: set[str], regular: int,
              min_persons: int) -> tuple[set[str], float]:
    """The proposal pruned to its strongest group: while leaving out one member lowers the group's
    ``p`` (a person who shares a doctor with the ring by chance widens its days), the one that lowers
    it most leaves."""
    best, without = group_log10_p(seen, days, inst, members, regular)
    while len(members) > min_persons and without.min() < best:
        members = members - {without.idxmin()}
        best, without = group_log10_p(seen, days, inst, members, regular)
    return members, best


def _proposals(pairs: pd.DataFrame, seed: int, min_persons: int) -> list[tuple[str, set[str]]]:
    """The communities of at least ``min_persons``, each with its institution."""
    return [(inst, members) for inst, members in _communities(pairs, seed) if len(members) >= min_persons]


def find_rings(claims: pd.DataFrame, params: RingParams = RingParams()) -> pd.DataFrame:
    """Ring candidates, strongest first: ``ring_id, fixmedins_code, doctors, persons, n_persons,
    pairs, density, sessions, days, weight, p, evidence`` (persons and doctors ``|``-joined; ``p`` the
    group's bound, :func:`group_log10_p`, and ``weight`` its −log10)."""
    visits = _visits(claims)
    e = visits[list(ENCOUNTER_COLUMNS)].drop_duplicates()
    pairs, regular = _pairs(e, params)
    if pairs.empty:
        return pd.DataFrame(columns=COLUMNS)
    days, _ = _workload(e)
    hypotheses = int((regular - params.min_persons + 1).clip(lower=0).sum())  # an institution, a group size
    groups = []
    for inst, members in _proposals(pairs, params.seed, params.min_persons):
        seen = e[e["fixmedins_code"] == inst]
        groups.append((inst, *_tightest(seen, days, inst, members, int(regular[inst]), params.min_persons)))
    keep = _discoveries(-np.array([log10_p for *_, log10_p in groups]), max(hypotheses, len(groups)), params.fdr)
    rows = [_ring_row(inst, members, log10_p, pairs, e, hypotheses, visits)
            for (inst, members, log10_p), kept in zip(groups, keep) if kept]
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.DataFrame(rows).sort_values(["weight", "persons"], ascending=[False, True], kind="stable")
    out.insert(0, "ring_id", [f"R{i:03d}" for i in range(1, len(out) + 1)])
    return out[COLUMNS].reset_index(drop=True)


def _ring_row(inst: str, members: set[str], log10_p: float, pairs: pd.DataFrame, e: pd.DataFrame,
              hypotheses: int, visits: pd.DataFrame) -> dict:
    """A candidate's row: its nodes' persons (a household's members one by one) and its evidence."""
    persons = sorted(visits.loc[(visits["fixmedins_code"] == inst) & visits["psn_no"].isin(members), "person"].unique())
    inside = pairs[pairs["a"].isin(members) & pairs["b"].isin(members) & (pairs["fixmedins_code"] == inst)]
    seen = e[(e["fixmedins_code"] == inst) & e["psn_no"].isin(members)]
    per_session = seen.groupby(["doctor_code", "adm_date"])["psn_no"].nunique()
    sessions = per_session[per_session >= 2]
    doctors = sorted(sessions.index.get_level_values("doctor_code").unique())
    days = sorted(pd.to_datetime(pd.Series(sessions.index.get_level_values("adm_date").unique())).dt.date)
    g, n, n_pairs = len(members), len(persons), len(inside)
    chosen = f"{g} 人" if g == n else f"{g} 户（{n} 人）"
    evidence = (f"{n} 人在 {len(sessions)} 个同日同医生就诊中同时出现（{len(days)} 天，首日 {days[0]}，"
                f"末日 {days[-1]}）；其在该机构的 {len(seen)} 次就诊只落在 {len(per_session)} 个医生接诊日，"
                f"随机就诊如此集中的概率至多 {_power_of_ten(log10_p)}（已计入从常客中选出这 {chosen}的选法，"
                f"按 {hypotheses:,} 个机构×人数检验校正）")
    return {"fixmedins_code": inst, "doctors": "|".join(doctors), "persons": "|".join(persons),
            "n_persons": n, "pairs": n_pairs, "density": round(n_pairs / (g * (g - 1) / 2), 3),
            "sessions": len(sessions), "days": len(days), "weight": -log10_p, "p": 10.0 ** log10_p,
            "evidence": evidence}


def _power_of_ten(log10_p: float) -> str:
    """``3.2e-145`` from its log10, also below the smallest float."""
    exponent = int(np.floor(log10_p))
    return f"{10 ** (log10_p - exponent):.1f}e{exponent}"


__all__ = ["ENCOUNTER_COLUMNS", "RingParams", "find_rings", "group_log10_p", "improbable_pairs", "ring_graph"]
