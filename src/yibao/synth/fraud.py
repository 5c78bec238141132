"""Injected fraud and abuse (欺诈骗保 and 违规) with ground-truth labels.

Stay-level patterns change the claims before their lines are drawn (分解住院, 挂床住院, 高套诊断,
住院期间重叠结算, 死亡后就医); line-level patterns change the lines afterwards (重复收费, 串换项目,
超量开药, 限性别 / 限年龄). Each returns the label rows as (claim index, label, detail) arrays; claim
indices are turned into claim ids when the chunk is written.
"""

from __future__ import annotations

import numpy as np

from yibao import vocab
from yibao.synth.claims import INPATIENT, OUTPATIENT, PHARMACY, ClaimBatch, ClaimModel, _base, _pick
from yibao.synth.patterns import READMIT_SHARE
from yibao.synth.population import NONE_DAY
from yibao.synth.propensity import doctor_of

RING_SIZE = (5, 15)  # persons in a ring (团伙 of 5–15: assumption)
RING_DAYS = (6, 12)  # days on which a ring visits together (assumption)
RING_ATTENDANCE = 0.8  # chance that a member comes on each ring day (assumption)
RING_COST = 1.5  # a ring visit bills half as much again as an ordinary one (assumption)


class Labels:
    """Collects (claim index, label, detail) rows; ``detail`` may name another claim by index."""

    def __init__(self):
        self.claim: list[np.ndarray] = []
        self.label: list[np.ndarray] = []
        self.detail: list[np.ndarray] = []
        self.ref: list[np.ndarray] = []  # other claim index to name in the detail, or -1
        self.persons: list[tuple[np.ndarray, str, np.ndarray]] = []  # person-level labels: (person, label, detail)

    def add_persons(self, person, label: str, detail) -> None:
        person = np.asarray(person, dtype=np.int64)
        self.persons.append((person, label, np.broadcast_to(np.asarray(detail, dtype=object), (len(person),)).copy()))

    def add(self, claim, label: str, detail, ref=None):
        claim = np.asarray(claim, dtype=np.int64)
        n = len(claim)
        self.claim.append(claim)
        self.label.append(np.full(n, label, dtype=object))
        self.detail.append(np.broadcast_to(np.asarray(detail, dtype=object), (n,)).copy())
        self.ref.append(np.full(n, -1, np.int64) if ref is None else np.asarray(ref, dtype=np.int64))

    def renumber(self, new: np.ndarray) -> None:
        """Claim indices mapped through ``new`` (old index → new index; labelled claims are kept)."""
        self.claim = [new[c] for c in self.claim]
        self.ref = [np.where(r >= 0, new[np.maximum(r, 0)], -1) for r in self.ref]

    def arrays(self):
        if not self.claim:
            e = np.zeros(0, np.int64)
            return e, np.zeros(0, object), np.zeros(0, object), e
        return (np.concatenate(self.claim), np.concatenate(self.label), np.concatenate(self.detail),
                np.concatenate(self.ref))


def _choose(rng, candidates: np.ndarray, rate: float, weight: np.ndarray | None = None) -> np.ndarray:
    """A binomial number of the candidates, uniformly or (``weight``) weighted without replacement."""
    k = int(rng.binomial(len(candidates), rate)) if len(candidates) else 0
    if not k:
        return np.zeros(0, np.int64)
    if weight is None:
        return np.sort(rng.choice(candidates, size=k, replace=False))
    keys = np.log(rng.random(len(candidates))) / weight  # Efraimidis–Spirakis: the k largest keys
    return np.sort(candidates[np.argpartition(-keys, k - 1)[:k]])


def doctor_numbers(m: ClaimModel, b: ClaimBatch) -> np.ndarray:
    """Each claim's doctor number at its institution."""
    c = b.cols
    return np.where(c["doctor"] >= 0, c["doctor"], doctor_of(m.inst, c["person"], c["inst"]))


def _chosen(rng, m: ClaimModel, b: ClaimBatch, candidates: np.ndarray, label: str) -> np.ndarray:
    """Claims for an institution-driven pattern, concentrated on the fraudulent doctors."""
    doc = doctor_numbers(m, b)[candidates]
    return _choose(rng, candidates, m.cfg.rate(label), m.propensity.weights(b.cols["inst"][candidates], doc))


def inject_stays(rng, m: ClaimModel, b: ClaimBatch, labels: Labels) -> ClaimBatch:
    """Stay-level patterns; returns the batch with split and added claims appended."""
    cfg = m.cfg
    c = b.cols
    n0 = len(b)
    # stays that leave room before the year's end (or death) for a follow-on part or an overlap
    room = m.pop.end[c["person"]] - (c["adm"] + c["los"])
    ordinary = np.flatnonzero((c["kind"] == INPATIENT) & (c["med_type"] == vocab.MED_ORDINARY_INPATIENT) & (c["dscg_way"] != vocab.DISCHARGE_DIED)
                              & (c["newborn_weight"] == 0) & (room >= 4))
    # 分解住院: the stay becomes two at the same hospital with a gap of 1–3 days; more often at the
    # institutions where it is concentrated (patterns.READMIT_SHARE)
    long = ordinary[c["los"][ordinary] >= 6]
    split = _chosen(rng, m, b, long, "split_stay")
    if m.patterns.any("readmission"):
        there = long[m.patterns.at("readmission", c["inst"][long]) & ~np.isin(long, split)]
        split = np.union1d(split, _choose(rng, there, READMIT_SHARE))
    taken = split
    second = b.take(split)
    first_los = (c["los"][split] // 2).astype(np.int32)
    gap = rng.integers(1, 4, len(split)).astype(np.int32)
    second.cols["adm"] = c["adm"][split] + first_los + gap
    second.cols["los"] = (c["los"][split] - first_los).astype(np.int32)
    share = first_los / c["los"][split]
    second.cols["cost"] = np.maximum(100, (c["cost"][split] * (1 - share))).astype(np.int64)
    c["cost"][split] = np.maximum(100, c["cost"][split] * share).astype(np.int64)
    c["los"][split] = first_los
    second_idx = n0 + np.arange(len(split))
    labels.add(split, "split_stay", "first part", ref=second_idx)
    labels.add(second_idx, "split_stay", "second part", ref=split)

    # 挂床住院: a stay with beds and nursing billed but almost no treatment
    rest = ordinary[~np.isin(ordinary, taken) & (c["los"][ordinary] >= 4)]
    hang = _chosen(rng, m, b, rest, "bed_hanging")
    c["hanging"][hang] = True
    c["proc"][hang] = None
    c["surgical"][hang] = False
    labels.add(hang, "bed_hanging", "stay without treatment lines")
    taken = np.concatenate([taken, hang])

    # 高套诊断: a mild principal diagnosis recorded as a severe one, the bill staying that of the mild
    keys = list(m.cond["key"])
    target = np.array([keys.index(t) if t else -1 for t in m.cond["upcode_to"]])
    up_ok = ordinary[~np.isin(ordinary, taken) & (target[c["profile"][ordinary]] >= 0)]
    up = _chosen(rng, m, b, up_ok, "upcoding")
    if len(up):
        mild = c["profile"][up]
        severe = target[mild]
        icd = m.cond["icd10"].to_numpy(dtype=object)
        rest_dx = np.array([d.partition("|")[2] for d in c["dx"][up]], dtype=object)
        c["dx"][up] = np.where(rest_dx != "", icd[severe] + "|" + rest_dx, icd[severe])
        labels.add(up, "upcoding", "coded " + icd[severe] + " for " + icd[mild])
    taken = np.concatenate([taken, up])

    # 住院期间重叠结算: another stay at another hospital while the first one runs
    ov_ok = ordinary[~np.isin(ordinary, taken) & (c["los"][ordinary] >= 4)]
    ov = _choose(rng, ov_ok, cfg.rate("overlapping_stay"))
    extra = b.take(ov)
    offset = (1 + rng.random(len(ov)) * (c["los"][ov] - 2)).astype(np.int32)
    extra.cols["adm"] = c["adm"][ov] + offset
    extra.cols["los"] = rng.integers(2, 5, len(ov)).astype(np.int32)
    extra.cols["cost"] = (c["cost"][ov] * 0.5).astype(np.int64)
    hospitals = np.flatnonzero(~m.inst.pharmacy & m.inst.local)
    other = hospitals[rng.integers(0, len(hospitals), len(ov))]
    same = other == c["inst"][ov]
    other[same] = hospitals[(np.searchsorted(hospitals, other[same]) + 1) % len(hospitals)]
    extra.cols["inst"] = other
    extra_idx = n0 + len(split) + np.arange(len(ov))
    labels.add(extra_idx, "overlapping_stay", "overlaps stay", ref=ov)

    # 死亡后就医: a visit or purchase dated after the person's death
    pop = m.pop
    persons = np.unique(c["person"])
    dead = persons[(pop.death[persons] != NONE_DAY) & (pop.death[persons] < pop.end.max() - 3)]
    ghosts = _choose(rng, dead, cfg.rate("after_death"))
    src = np.flatnonzero(np.isin(c["kind"], [OUTPATIENT, PHARMACY]))
    posthumous = b.take(np.zeros(0, np.int64))
    if len(ghosts) and len(src):
        tmpl = src[rng.integers(0, len(src), len(ghosts))]
        posthumous = b.take(tmpl)
        posthumous.cols["person"] = ghosts
        # the visit fits the deceased person's age and sex
        dx = _pick(rng, m.cum_op[pop.sex[ghosts] - 1, pop.age[ghosts]])
        posthumous.cols["profile"] = dx
        posthumous.cols["dx"] = m.out["icd10"].to_numpy(dtype=object)[dx]
        posthumous.cols["dept"] = np.where(posthumous.cols["kind"] == OUTPATIENT, m.out["dept"].to_numpy(dtype=object)[dx], None)
        year_end = pop.end.max()
        posthumous.cols["adm"] = np.minimum(pop.death[ghosts] + rng.integers(1, 60, len(ghosts)), year_end).astype(np.int32)
        labels.add(n0 + len(split) + len(ov) + np.arange(len(ghosts)), "after_death", "dated after death")
        labels.add_persons(ghosts, "after_death", "a claim in the name of a deceased person")
    out = ClaimBatch.concat([b, second, extra, posthumous])
    return ClaimBatch.concat([out, rings(rng, m, out, labels, len(out))])


def rings(rng, m: ClaimModel, b: ClaimBatch, labels: Labels, first: int) -> ClaimBatch:
    """结伙骗保: rings of ``RING_SIZE`` persons enrolled all year who visit one fraudulent institution's
    one or two doctors together on ``RING_DAYS`` days (the ring meets one of them on each day); each visit is labelled ``ring``, each member at
    person level with the ring id. The new claims are numbered from ``first``."""
    pop, cfg = m.pop, m.cfg
    persons = np.unique(b.cols["person"])
    year_start, year_end = pop.start.min(), pop.end.max()
    adults = persons[(pop.start[persons] == year_start) & (pop.end[persons] == year_end) & (pop.age[persons] >= 18)]
    recruits = rng.permutation(adults)[: int(rng.binomial(len(adults), cfg.rate("ring")))]
    hospitals = np.flatnonzero(m.propensity.institution & ~m.inst.pharmacy)
    if len(hospitals) == 0:
        hospitals = np.flatnonzero(~m.inst.pharmacy & m.inst.local)
    parts, at = [], 0
    while len(recruits) - at >= RING_SIZE[0]:
        size = min(int(rng.integers(RING_SIZE[0], RING_SIZE[1] + 1)), len(recruits) - at)
        members = recruits[at:at + size]
        at += size
        where = hospitals[rng.integers(0, len(hospitals))]
        ndoc = max(int(m.inst.doctors[where]), 1)
        own = np.flatnonzero(m.propensity.doctor(np.full(min(ndoc, 1000), where), np.arange(min(ndoc, 1000))))
        pool = own if len(own) else np.arange(ndoc)
        docs = rng.choice(pool, size=min(int(rng.integers(1, 3)), len(pool)), replace=False)
        days = np.sort(rng.choice(np.arange(year_start, year_end + 1), size=int(rng.integers(*RING_DAYS)), replace=False))
        who, day = np.meshgrid(members, days, indexing="ij")
        day_doctor = np.broadcast_to(docs[rng.integers(0, len(docs), len(days))], who.shape)  # a session a day
        come = rng.random(who.shape) < RING_ATTENDANCE
        who, day, doctor = who[come], day[come], day_doctor[come]
        dx = _pick(rng, m.cum_op[pop.sex[who] - 1, pop.age[who]])
        cost = m.op_scale[pop.scheme[who]] * m.op_level_ratio[m.inst.cat[where]] * m.out["cost_rel"].to_numpy()[dx] * RING_COST
        v = _base(who, OUTPATIENT, np.full(len(who), vocab.MED_OUTPATIENT, object), day, np.zeros(len(who)), dx,
                  np.full(len(who), where), cost)
        v.cols["dx"] = m.out["icd10"].to_numpy(dtype=object)[dx]
        v.cols["dept"] = m.out["dept"].to_numpy(dtype=object)[dx]
        v.cols["doctor"] = doctor.astype(np.int64)
        ring_id = f"R{cfg.seed}-{int(members.min())}"
        labels.add(first + sum(len(p) for p in parts) + np.arange(len(who)), "ring", ring_id)
        labels.add_persons(members, "ring", ring_id)
        parts.append(v)
    return ClaimBatch.concat(parts) if parts else b.take(np.zeros(0, np.int64))
