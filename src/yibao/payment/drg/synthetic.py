"""Synthetic 结算清单 cases drawn from a grouper version's own tables, so that they group.

For benchmarks and property tests: principal diagnoses come from the MDC tables, main procedures
from the surgical and operation ADRG lists (with a principal diagnosis of the same MDC), other
diagnoses from the whole diagnosis list with a share of MCC/CC codes, and a few newborns with ages
in days and birth weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yibao.payment.drg.grouper import PRE_MDC, _PROC, Grouper

__all__ = ["synthetic_cases"]


def _pools(g: Grouper):
    mdc_members = {m: np.array(sorted(c for c, ms in g.mdc_of.items() if m in ms)) for m in g.by_mdc}
    surg_procs, surg_mdc = [], []
    for a in g.adrgs.values():
        if a.mdc in PRE_MDC or a.kind == "medical" or a.mdc not in mdc_members or not len(mdc_members[a.mdc]):
            continue
        for alt in a.alts:
            for kind, codes in alt:
                if kind == _PROC and len(alt) == 1:
                    surg_procs.append(np.array(sorted(codes)))
                    surg_mdc.append(a.mdc)
    return mdc_members, surg_procs, surg_mdc


def synthetic_cases(n: int, seed: int = 0, version: str = "chs-1.1", surgical_share: float = 0.4,
                    newborn_share: float = 0.02) -> pd.DataFrame:
    """``n`` cases with the grouper's input columns (codes ``|``-joined, principal / main first)."""
    g = Grouper.load(version)
    rng = np.random.default_rng(seed)
    mdc_members, surg_procs, surg_mdc = _pools(g)
    principal_pool = np.array(sorted(g.mdc_of))
    newborn_pool = np.array(sorted(g.members.get("MDCP", ())) or ["P07.200"])
    other_pool = np.array(sorted(g.dx_names))
    cc_pool = np.array(sorted(g.cc))

    kind = rng.random(n)
    surgical = kind < surgical_share
    newborn = kind > 1 - newborn_share
    pdx = principal_pool[rng.integers(0, len(principal_pool), n)].astype(object)
    main = np.full(n, "", dtype=object)
    idx = np.flatnonzero(surgical)
    which = rng.integers(0, len(surg_procs), len(idx))
    for k in np.unique(which):  # per ADRG list: vectorised draws of procedure and same-MDC principal
        rows = idx[which == k]
        procs = surg_procs[k]
        members = mdc_members[surg_mdc[k]]
        main[rows] = procs[rng.integers(0, len(procs), len(rows))]
        pdx[rows] = members[rng.integers(0, len(members), len(rows))]
    nb = np.flatnonzero(newborn)
    pdx[nb] = newborn_pool[rng.integers(0, len(newborn_pool), len(nb))]
    main[nb] = ""

    n_other = rng.integers(0, 6, n)
    total = int(n_other.sum())
    others = np.where(rng.random(total) < 0.3, cc_pool[rng.integers(0, len(cc_pool), total)],
                      other_pool[rng.integers(0, len(other_pool), total)])
    bounds = np.concatenate([[0], np.cumsum(n_other)])
    others_l = others.tolist()
    pdx_l = pdx.tolist()
    diagnoses = ["|".join([pdx_l[i], *others_l[bounds[i]:bounds[i + 1]]]) for i in range(n)]

    sex = rng.integers(1, 3, n)
    fixed = {c: int(g.mdc_sex[m]) for c, ms in g.mdc_of.items() for m in ms if m in g.mdc_sex}
    sex = np.array([fixed.get(c, s) for c, s in zip(pdx_l, sex.tolist())])  # 男/女 only MDCs
    age = rng.integers(1, 91, n)
    age[nb] = 0
    age_days = np.full(n, np.nan)
    age_days[nb] = rng.integers(0, 29, len(nb))
    weight = np.full(n, np.nan)
    weight[nb] = rng.integers(800, 4500, len(nb))
    return pd.DataFrame({
        "case_id": np.char.add("S", np.arange(n).astype(str)),
        "sex": sex,
        "age": age,
        "age_days": pd.array(age_days, dtype="Float64").astype("Int64"),
        "birth_weight_g": pd.array(weight, dtype="Float64").astype("Int64"),
        "dept": "",
        "los_days": rng.integers(1, 30, n),
        "discharge_way": "1",
        "diagnoses": diagnoses,
        "procedures": main,
    })
