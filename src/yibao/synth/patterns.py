"""Patterns above the claim, injected into chosen institutions and doctors and labelled in
``fraud_entities`` (the pattern as the label, what was done in ``detail``). No claim of them breaks a
supervision rule by itself (a 分解住院 pair excepted, labelled at claim level as usual): they are what
anomaly detection is for.

- 次均费用虚高 (``cost_inflation``): every stay of the institution billed ``COST_INFLATION`` times its
  cost — more units and more items, drawn inside the same limits as any clean stay;
- 分解住院集中 (``readmission``): ``READMIT_SHARE`` of its ordinary stays split in two, 1–3 days apart;
- 药品/耗材占比虚高 (``drug_share``): the drug and consumable budgets of its stays and visits weighed
  ``SHARE_BOOST`` times against the services when the bill is split;
- 单一项目集中 (``item_concentration``): one doctor of the institution bills one laboratory test on
  every claim (level doctor; the test in ``detail``).

``SynthConfig.institution_patterns`` gives each pattern's share of the local hospitals that admit
stays (the two stay patterns: a primary institution has too few stays to show them, a 未定级 clinic none) or of the local hospitals and
primary institutions (the other two), rounded down, so a region with few of them gets none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from yibao.lake.schema import TABLES
from yibao.synth.institutions import Institutions
from yibao.synth.propensity import DOCTOR_CODES, doctor_codes

PATTERNS = {"cost_inflation": "次均费用虚高", "readmission": "分解住院集中", "drug_share": "药品耗材占比虚高",
            "item_concentration": "单一项目集中"}
STAY_PATTERNS = ("cost_inflation", "readmission")  # seen in stays: carried by hospitals, not primary care
COST_INFLATION = 1.5  # assumption: the excess 飞行检查 reports find in 过度诊疗 hospitals is of this order
READMIT_SHARE = 0.15  # assumption: the region's injected rate is 1%
SHARE_BOOST = 2.5  # assumption: lifts an inpatient drug share of about 24% to about 45%


@dataclass(frozen=True)
class Patterns:
    """Per pattern, which institutions carry it; for ``item_concentration`` the doctor number (−1: none)."""

    institution: dict[str, np.ndarray]  # pattern → bool per institution
    doctor: np.ndarray  # int64 per institution

    def at(self, pattern: str, where: np.ndarray) -> np.ndarray:
        return self.institution[pattern][where]

    def any(self, pattern: str) -> bool:
        return bool(self.institution[pattern].any())

    def entities(self, inst: Institutions, items: np.ndarray | None = None, codes: pa.Array | None = None) -> pa.Table:
        """``fraud_entities`` rows: institutions by pattern, and each doctor concentrating an item
        (``items``: the catalog item index per institution, ``codes`` the catalog's item codes; a
        region without lines has none)."""
        level, ids, label, detail = [], [], [], []
        for pattern, on in self.institution.items():
            where = np.flatnonzero(on)
            if pattern == "item_concentration":
                if items is None:
                    continue
                docs = doctor_codes(inst, where, self.doctor[where]).to_pylist()
                for w, d in zip(where, docs):
                    level.append("doctor"), ids.append(d), label.append(pattern)
                    detail.append(f"{PATTERNS[pattern]}: {codes[int(items[w])].as_py()} on every claim at "
                                  f"{inst.code[int(w)].as_py()}")
                continue
            for w in where:
                level.append("institution"), ids.append(inst.code[int(w)].as_py()), label.append(pattern)
                detail.append(f"{PATTERNS[pattern]}: {_what(pattern)}")
        return pa.table({"level": level, "entity_id": ids, "label": label, "detail": detail},
                        schema=TABLES["fraud_entities"])


def _what(pattern: str) -> str:
    return {"cost_inflation": f"every stay billed {COST_INFLATION:g}× its cost",
            "readmission": f"{READMIT_SHARE:.0%} of ordinary stays split in two",
            "drug_share": f"drug and consumable budgets weighed {SHARE_BOOST:g}× on every claim"}[pattern]


def build_patterns(cfg, inst: Institutions) -> Patterns:
    """Each pattern's institutions, drawn apart from one another from the seed — the stay patterns'
    from the hospitals, the others' from hospitals and primary institutions; a doctor number for each
    item-concentrating one."""
    rng = np.random.default_rng([cfg.seed, 6])
    local = inst.local & ~inst.pharmacy
    pools = {True: rng.permutation(np.flatnonzero(local & admitting_hospitals(inst))),
             False: rng.permutation(np.flatnonzero(local))}
    out, taken = {}, np.zeros(len(inst.local), bool)
    for pattern in PATTERNS:
        pool = pools[pattern in STAY_PATTERNS]
        k = int(cfg.institution_patterns.get(pattern, 0.0) * len(pool))
        on = np.zeros(len(inst.local), bool)
        on[pool[~taken[pool]][:k]] = True
        taken |= on
        out[pattern] = on
    doctor = np.full(len(inst.local), -1, np.int64)
    chosen = np.flatnonzero(out["item_concentration"])
    n = np.minimum(np.maximum(inst.doctors[chosen], 1), DOCTOR_CODES)
    doctor[chosen] = (rng.random(len(chosen)) * n).astype(np.int64)
    return Patterns(out, doctor)


def admitting_hospitals(inst: Institutions) -> np.ndarray:
    """Hospitals of a level that admits stays (the calibration's inpatient level mix above 0: 未定级
    clinics admit none), primary institutions left out: a stay pattern elsewhere would change nothing."""
    from yibao.synth import data
    from yibao.synth.institutions import CATS

    mix = data.target("utilisation.inpatient_level_mix")
    admits = [c for c in CATS if c != "primary" and float(mix.get(c, 0.0)) > 0]
    return np.isin(inst.cat, [CATS.index(c) for c in admits])


def inflate_costs(patterns: Patterns, cols: dict) -> None:
    """次均费用虚高: the stays of the institutions carrying it cost ``COST_INFLATION`` times more."""
    if not patterns.any("cost_inflation"):
        return
    from yibao.synth.claims import INPATIENT

    on = (cols["kind"] == INPATIENT) & patterns.at("cost_inflation", cols["inst"])
    cols["cost"][on] = (cols["cost"][on] * COST_INFLATION).astype(cols["cost"].dtype)


def share_weights(patterns: Patterns, inst: np.ndarray) -> np.ndarray:
    """The weight of each claim's drug and consumable budgets against its services (1 for most)."""
    return np.where(patterns.at("drug_share", inst), SHARE_BOOST, 1.0)


__all__ = ["PATTERNS", "Patterns", "admitting_hospitals", "build_patterns", "inflate_costs", "share_weights"]
