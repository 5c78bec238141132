"""A year of encounters (结算清单-shaped claims) for a chunk of persons, drawn with vectorised numpy.

Rates, costs and lengths of stay are calibrated to CALIBRATION.md (rows cited in
``synth/data/calibration.yaml``): the expected value of every relative factor (age profile, case
mix, hospital level) is computed once over the whole population and divided out, so the generated
means meet the targets whatever the region's age structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.synth import data
from yibao.synth.config import SynthConfig
from yibao.synth.institutions import CATS, Institutions
from yibao.synth.population import NONE_DAY, Population, age_shape_masked
from yibao.synth.patterns import Patterns, build_patterns
from yibao.synth.propensity import DOCTOR_CODES, Propensity, build_propensity, doctor_of

# Relative use by age for ordinary outpatient visits and for admissions (assumption: U-shaped, rising
# with age as the bulletins' 在职/退休 split shows — CALIBRATION.md §3, 住院率 在职 11.93% vs 退休 49.02%).
_AGE = np.arange(101)
OUTPATIENT_AGE = np.select([_AGE < 5, _AGE < 15, _AGE < 45, _AGE < 60, _AGE < 75], [1.5, 0.9, 0.8, 1.2, 1.8], 2.1)
ADMISSION_AGE = np.select([_AGE < 1, _AGE < 5, _AGE < 15, _AGE < 45, _AGE < 60, _AGE < 75], [1.6, 0.9, 0.35, 0.5, 0.9, 1.8], 2.8)
PHARMACY_AGE = np.select([_AGE < 15, _AGE < 45, _AGE < 60], [0.3, 1.0, 1.3], 1.5)
# Relative fertility by age of the mother (assumption: peak at 29).
FERTILITY = np.where((_AGE >= 18) & (_AGE <= 48), np.exp(-0.5 * ((_AGE - 29) / 5.0) ** 2), 0.0)
TERMINAL_STAY_SHARE = 0.3  # deaths that end an inpatient stay (assumption)
TERMINAL_CONDITIONS = ["stroke", "ami", "hf", "resp_failure", "lung_cancer", "sepsis", "ich", "copd"]
FILINGS = np.array(["filed", "referred", "emergency", "unfiled"])
FILING_P = np.array([0.6, 0.2, 0.1, 0.1])  # assumption
SECONDARY_DX_P = (0.3, 0.55)  # chance of each comorbidity slot: under 60, 60+ (assumption)
# A patient up to 28 days old is a newborn: the 结算清单 then needs a birth weight and the DRG grouper
# places the stay in MDCP. Newborn stays come from ``newborns()``; a general admission starts later.
NEWBORN_DAYS = 28

# 血液透析 (assumptions): a patient dialyses at one centre all year on a fixed shift, Mon/Wed/Fri or
# Tue/Thu/Sat, and misses some of its 156 days (chronic.csv's ~110 sessions: many patients dialyse
# twice a week or five times a fortnight); a centre is a local 三级 or 二级 hospital whose one or two
# nephrologists take the shifts week about; the region's patients fill centres of about
# DIALYSIS_CENTRE_PATIENTS each (so a region drawn at institution_scale > 1 still has full shifts).
DIALYSIS = "uraemia_dialysis"
DIALYSIS_SHIFTS = np.array([[0, 2, 4], [1, 3, 5]])  # weekdays, Monday 0
DIALYSIS_CENTRE_PATIENTS = 30
DIALYSIS_DEPT = "血液净化中心"
# Household co-visits (assumptions): a family's primary-care visits go to its home clinic (家庭医生签约
# signs the household) and its family doctor there; of each household's visits to one department,
# paired at random, COVISIT_P of the pairs of two members are made together — the second member's visit
# moved to the first's day, institution and doctor.
COVISIT_P = 0.3

# Claim kinds (one profile table each)
OUTPATIENT, CHRONIC, PHARMACY, INPATIENT = 0, 1, 2, 3


def _lognormal_mean1(rng, sigma, n):
    return np.exp(rng.normal(-0.5 * sigma * sigma, sigma, n))


@dataclass
class ClaimModel:
    """Everything the per-chunk generator needs, computed once per region."""

    cfg: SynthConfig
    pop: Population
    inst: Institutions
    cond: pd.DataFrame
    out: pd.DataFrame
    chronic: pd.DataFrame
    cum_ip: np.ndarray  # [sex, age, C] cumulative condition choice for general admissions
    cum_op: np.ndarray  # [sex, age, O]
    rate_ip: np.ndarray  # per person general admission rate (per year)
    rate_op: np.ndarray
    rate_ph: np.ndarray
    birth_p: np.ndarray  # per person probability of giving birth in the year
    ip_scale: np.ndarray  # [scheme] cost scale (fen) for relative cost 1 at level ratio 1
    los_scale: np.ndarray  # [scheme]
    op_scale: np.ndarray
    ch_scale: np.ndarray
    ph_cost: np.ndarray
    ip_level_ratio: np.ndarray  # [cat] cost ratio between levels within a condition
    op_level_ratio: np.ndarray
    los_level_ratio: np.ndarray  # [cat] within a condition
    ip_mix: np.ndarray  # [cat] probabilities
    op_mix: np.ndarray
    cum_level: np.ndarray  # [C, cat] cumulative level choice of a stay, by condition (case mix by level)
    complexity: np.ndarray  # [C] expected relative cost of a condition's stay ÷ the mean stay's
    comorbid: np.ndarray  # [C, 4] object codes ('' padding)
    n_comorbid: np.ndarray
    procs: np.ndarray  # [C, 3] object
    n_procs: np.ndarray
    sigma: float
    ip_level_target: np.ndarray  # [cat] cost per stay by level ÷ the mean (case mix included)
    propensity: Propensity  # where injected fraud concentrates
    patterns: Patterns  # the institutions and doctors carrying a pattern above the claim
    home_clinic: np.ndarray  # per person: the household's primary institution
    family_doctor: np.ndarray  # per person: the household's doctor number there
    dialysis_centres: np.ndarray  # institutions with a dialysis centre
    nephrologists: np.ndarray  # [centre, 2] doctor numbers, taking the shifts week about (one: twice)


def _choice_matrix(df: pd.DataFrame) -> np.ndarray:
    """Cumulative choice probabilities [sex(1,2 → 0,1), age, rows] from weights, age shapes and limits."""
    shape = np.stack([age_shape_masked(r.age_shape, r.min_age, r.max_age) * r.weight for r in df.itertuples()], axis=1)
    out = np.zeros((2, 101, len(df)))
    for s, code in ((0, "1"), (1, "2")):
        ok = ((df["sex"] == "") | (df["sex"] == code)).to_numpy()
        w = shape * ok[None, :]
        tot = w.sum(1, keepdims=True)
        out[s] = np.cumsum(np.divide(w, tot, out=np.zeros_like(w), where=tot > 0), axis=1)
    return out


def _pad(lists, width):
    arr = np.full((len(lists), width), "", dtype=object)
    n = np.zeros(len(lists), dtype=np.int64)
    for i, items in enumerate(lists):
        items = [x for x in items if x][:width]
        arr[i, : len(items)] = items
        n[i] = len(items)
    return arr, n


def _mix(path: str) -> np.ndarray:
    m = data.target(path)
    p = np.array([float(m.get(c, 0.0)) for c in CATS])
    return p / p.sum()


def _ratio(path: str) -> np.ndarray:
    m = data.target(path)
    return np.array([float(m[c]) for c in CATS])


def build_model(cfg: SynthConfig, pop: Population, inst: Institutions) -> ClaimModel:
    cond = data.conditions()
    general = cond[~cond["setting"].isin(["obstetric", "newborn"])].copy()
    general_mask = ~cond["setting"].isin(["obstetric", "newborn"]).to_numpy()
    cum_ip = np.zeros((2, 101, len(cond)))
    cum_ip[:, :, general_mask] = np.diff(_choice_matrix(general), axis=2, prepend=0)
    cum_ip = np.cumsum(cum_ip, axis=2)
    out = data.outpatient_mix()
    cum_op = _choice_matrix(out)
    chronic = data.chronic_diseases()

    year_days = 366 if cfg.year % 4 == 0 else 365
    exposure = (pop.end - pop.start + 1).clip(0) / year_days
    age, scheme = pop.age, pop.scheme
    emp, res = scheme == 0, scheme == 1

    # births and newborn stays are admissions too: the general rate makes up the rest of the target
    births_target = data.target("population.birth_rate") * pop.n
    fert = FERTILITY[age] * (pop.sex == 2) * exposure
    birth_p = np.minimum(fert * births_target / max(fert.sum(), 1e-9), 0.5)
    newborn = (pop.birth >= pop.start.min()) & (pop.age == 0)
    extra = birth_p + newborn * data.target("utilisation.newborn_stay_share")
    extra = extra + (pop.death != NONE_DAY) * TERMINAL_STAY_SHARE

    # a course (chemotherapy) admission brings its repeat stays: the event rate makes up the rest
    stays_per_event = 1 + expected_courses(cond["courses"].to_numpy(), cond["los"].to_numpy())
    p_ip = np.diff(cum_ip, axis=2, prepend=0)  # [2, 101, C]
    sx = pop.sex - 1
    e_stays = (p_ip @ stays_per_event)[sx, age]
    rate_ip = np.zeros(pop.n)
    ip_target = np.where(emp, np.where(pop.retired, data.target("utilisation.admission_rate_retired"),
                                       data.target("utilisation.admission_rate_active")),
                         data.target("utilisation.admission_rate_resident"))
    for grp in (emp & pop.retired, emp & ~pop.retired, res):
        if grp.any():
            f = ADMISSION_AGE[age[grp]]
            need = (ip_target[grp] * exposure[grp]).sum() - extra[grp].sum()
            rate_ip[grp] = f * max(need, 0) / max((f * e_stays[grp] * exposure[grp]).sum(), 1e-9)
    rate_op = np.zeros(pop.n)
    rate_ph = np.zeros(pop.n)
    for grp, op_t, ph_t in ((emp, "outpatient_visits_employee", "pharmacy_visits_employee"),
                            (res, "outpatient_visits_resident", "pharmacy_visits_resident")):
        if grp.any():
            f = OUTPATIENT_AGE[age[grp]]
            rate_op[grp] = f * data.target(f"utilisation.{op_t}") / (f * exposure[grp]).sum() * exposure[grp].sum()
            g = PHARMACY_AGE[age[grp]]
            rate_ph[grp] = g * data.target(f"utilisation.{ph_t}") / (g * exposure[grp]).sum() * exposure[grp].sum()

    ip_mix, op_mix = _mix("utilisation.inpatient_level_mix"), _mix("utilisation.outpatient_level_mix")
    ip_lr, op_lr = _ratio("cost.inpatient_level_ratio"), _ratio("cost.outpatient_level_ratio")
    los_lr = _ratio("cost.los_level_ratio")
    ip_lr, op_lr, los_lr = ip_lr / (ip_mix @ ip_lr), op_lr / (op_mix @ op_lr), los_lr / (ip_mix @ los_lr)

    # stays by condition over the region; complex conditions go to the higher levels
    pm = 1 + cond["proc_share"].to_numpy() * (cond["proc_cost"].to_numpy() - 1)
    rel_cost = cond["cost_rel"].to_numpy() * pm
    rel_los = cond["los"].to_numpy()
    stays = (rate_ip * exposure) @ p_ip[sx, age] * stays_per_event  # [C]
    complexity = rel_cost / np.average(rel_cost, weights=stays)
    level_p = level_choice(complexity, stays, ip_mix, _ratio("case_mix.level_tilt"))
    # the bulletins' cost and LOS by level include each level's case mix: within a condition the
    # ratio between levels is what remains once that mix is divided out
    ip_lr_within = _within_level(ip_lr, level_p, stays, rel_cost)
    los_lr = _within_level(los_lr, level_p, stays, rel_los)
    level_factor = level_p @ ip_lr_within  # [C] expected level cost factor of a condition's stay
    los_factor = level_p @ los_lr

    # expected relative cost and LOS of a general admission (its courses included), by person, then by scheme
    e_cost = (p_ip @ (rel_cost * level_factor * stays_per_event))[sx, age] / e_stays
    e_los = (p_ip @ (rel_los * los_factor * stays_per_event))[sx, age] / e_stays
    p_op = np.diff(cum_op, axis=2, prepend=0)
    e_op = (p_op @ out["cost_rel"].to_numpy())[sx, age]
    ch_rel = chronic["cost_rel"].to_numpy()
    ch_vis = chronic["visits"].to_numpy()
    has_ch = pop.chronic >= 0
    ip_scale, los_scale, op_scale, ch_scale, ph_cost = (np.zeros(2) for _ in range(5))
    for s, tag in ((0, "employee"), (1, "resident")):
        g = scheme == s
        w = rate_ip[g] * exposure[g] * e_stays[g]
        if w.sum() > 0:
            ip_scale[s] = data.target(f"cost.inpatient_cost_{tag}") * 100 / np.average(e_cost[g], weights=w)
            los_scale[s] = data.target(f"cost.los_{tag}") / np.average(e_los[g], weights=w)
        wo = rate_op[g] * exposure[g]
        if wo.sum() > 0:
            op_scale[s] = data.target(f"cost.outpatient_cost_{tag}") * 100 / np.average(e_op[g], weights=wo)
        gc = g & has_ch
        if gc.any():
            wc = ch_vis[pop.chronic[gc]] * exposure[gc]
            ch_scale[s] = data.target(f"cost.chronic_cost_{tag}") * 100 / np.average(ch_rel[pop.chronic[gc]], weights=wc)
        ph_cost[s] = data.target(f"cost.pharmacy_cost_{tag}") * 100
    comorbid, n_comorbid = _pad([c.split("|") for c in cond["comorbid"]], 4)
    procs, n_procs = _pad([c.split("|") for c in cond["procedures"]], 3)
    return ClaimModel(cfg, pop, inst, cond, out, chronic, cum_ip, cum_op, rate_ip, rate_op, rate_ph, birth_p,
                      ip_scale, los_scale, op_scale, ch_scale, ph_cost, ip_lr_within, op_lr, los_lr, ip_mix, op_mix,
                      np.cumsum(level_p, axis=1), complexity, comorbid, n_comorbid, procs, n_procs,
                      float(data.target("cost.cost_sigma")), ip_lr, build_propensity(cfg, inst),
                      build_patterns(cfg, inst), *_home_clinics(cfg, pop, inst), *_dialysis_centres(cfg, pop, inst))


def _home_clinics(cfg: SynthConfig, pop: Population, inst: Institutions) -> tuple[np.ndarray, np.ndarray]:
    """Each household's primary institution (by beds) and family doctor there (the first member's)."""
    rng = np.random.default_rng([cfg.seed, 8])
    pool = inst.pool(CATS.index("primary"))
    if len(pool) == 0:
        pool = np.flatnonzero(~inst.pharmacy & inst.local)
    w = inst.beds[pool].astype(float) + 1
    households = int(pop.household.max()) + 1 if pop.n else 0
    home = pool[rng.choice(len(pool), size=households, p=w / w.sum())][pop.household]
    first = np.zeros(households, np.int64)
    first[pop.household[::-1]] = np.arange(pop.n)[::-1]  # the lowest person number of each household
    return home, doctor_of(inst, first[pop.household], home)


def _dialysis_centres(cfg: SynthConfig, pop: Population, inst: Institutions) -> tuple[np.ndarray, np.ndarray]:
    """The local 三级/二级 hospitals with a dialysis centre (by beds) and their nephrologists."""
    rng = np.random.default_rng([cfg.seed, 9])
    pool = np.concatenate([inst.pool(0), inst.pool(1)])
    if len(pool) == 0:
        pool = np.flatnonzero(~inst.pharmacy & inst.local)
    keys = list(data.chronic_diseases()["key"])
    patients = int((pop.chronic == keys.index(DIALYSIS)).sum()) if DIALYSIS in keys else 0
    k = int(np.clip(round(patients / DIALYSIS_CENTRE_PATIENTS), 1, len(pool)))
    w = inst.beds[pool].astype(float) + 1
    centres = np.sort(rng.choice(pool, size=k, replace=False, p=w / w.sum()))
    staff = np.minimum(inst.doctors[centres], DOCTOR_CODES)
    first = rng.integers(0, staff)
    second = np.where(rng.random(k) < 0.5, first, (first + 1 + rng.integers(0, np.maximum(staff - 1, 1))) % staff)
    return centres, np.stack([first, second], axis=1).astype(np.int64)


# days from one course stay's discharge to the next admission (assumption: 3–4 week cycles); never
# inside the 15-day same-institution readmission window of 分解住院 (see READMISSION_GAP_DAYS)
COURSE_GAP_DAYS = (19, 28)
# A person's stays do not overlap. The next stay at the same institution starts at least 19 days after
# a discharge (beyond the 15-day 分解住院 window, with room for a stay split in two by 1–3 days), at
# another one at least 4 days after (a stay injected to overlap may run up to 3 days past the
# discharge), or on the day of discharge when the patient was transferred (医嘱转院). Assumptions: the
# region's clean stays are not readmissions; readmissions are injected and labelled.
READMISSION_GAP_DAYS = 19
NEXT_STAY_GAP_DAYS = 4


def expected_courses(courses: np.ndarray, los: np.ndarray, year_days: int = 365) -> np.ndarray:
    """Expected repeat stays of a course admitted on a uniform day of the year: of a Poisson(``courses``)
    number, the i-th is kept when it still starts within the year."""
    spacing = los + np.mean(COURSE_GAP_DAYS)
    k = np.arange(20)[:, None]
    pmf = np.exp(-courses[None, :]) * np.cumprod(np.where(k > 0, courses[None, :] / np.maximum(k, 1), 1.0), axis=0)
    at_least = 1 - np.cumsum(pmf, axis=0)[:-1]  # P(K ≥ i) for i = 1…19
    fits = np.clip(1 - k[1:] * spacing[None, :] / year_days, 0, 1)
    return (at_least * fits).sum(0)


def level_choice(complexity: np.ndarray, stays: np.ndarray, mix: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    """p(level | condition) ∝ a_level × complexity^tilt_level, the a fitted (iterative proportional
    fitting) so that the stays of all conditions keep the level mix ``mix``."""
    base = np.power(np.maximum(complexity, 1e-6)[:, None], tilt[None, :]) * (mix > 0)[None, :]
    a = mix.copy()
    for _ in range(50):
        p = base * a[None, :]
        p /= p.sum(1, keepdims=True)
        got = stays @ p / max(stays.sum(), 1e-12)
        a *= np.divide(mix, got, out=np.ones_like(mix), where=got > 0)
    p = base * a[None, :]
    return p / p.sum(1, keepdims=True)


def _within_level(ratio: np.ndarray, level_p: np.ndarray, stays: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """The ratio between levels within a condition that gives the level means ``ratio`` once each
    level's case mix (mean ``rel`` of its stays) is multiplied back in."""
    w = stays[:, None] * level_p  # [C, cat]
    mix_rel = np.divide(w.T @ rel, w.sum(0), out=np.ones(level_p.shape[1]), where=w.sum(0) > 0)
    return ratio / mix_rel


@dataclass
class ClaimBatch:
    """Column arrays of the claims of one chunk (index = claim number within the chunk)."""

    cols: dict[str, np.ndarray]

    def __len__(self):
        return len(self.cols["person"])

    def take(self, idx) -> "ClaimBatch":
        return ClaimBatch({k: v[idx] for k, v in self.cols.items()})

    @staticmethod
    def concat(batches: list["ClaimBatch"]) -> "ClaimBatch":
        keys = batches[0].cols.keys()
        return ClaimBatch({k: np.concatenate([b.cols[k] for b in batches]) for k in keys})


def _events(rng, persons: np.ndarray, lam: np.ndarray) -> np.ndarray:
    return np.repeat(persons, rng.poisson(lam))


def _dates(rng, m: ClaimModel, who: np.ndarray) -> np.ndarray:
    s, e = m.pop.start[who], m.pop.end[who]
    return (s + (rng.random(len(who)) * (e - s + 1)).astype(np.int32)).astype(np.int32)


def _pick(rng, cum: np.ndarray) -> np.ndarray:
    """Row-wise categorical draws from cumulative probabilities [n, k]."""
    u = rng.random(len(cum)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(1), cum.shape[1] - 1)


def _levels(rng, mix: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(CATS), size=n, p=mix)


def _institutions(rng, m: ClaimModel, cat: np.ndarray, away_share: float) -> np.ndarray:
    """An institution of each level category ``cat``, weighted by beds; a share goes to hospitals
    elsewhere (异地就医)."""
    n = len(cat)
    away = rng.random(n) < away_share
    inst = np.zeros(n, dtype=np.int64)
    for c in range(len(CATS)):
        for local in (True, False):
            sel = np.flatnonzero((cat == c) & (away != local))
            if len(sel) == 0:
                continue
            pool = m.inst.pool(c, local)
            if len(pool) == 0:  # no such institution: fall back to any local hospital of level 2/3
                pool = np.concatenate([m.inst.pool(0, True), m.inst.pool(1, True)])
            w = m.inst.beds[pool].astype(float) + 1
            inst[sel] = pool[rng.choice(len(pool), size=len(sel), p=w / w.sum())]
    return inst


def _stay_levels(rng, m: ClaimModel, c: np.ndarray, surgical: np.ndarray) -> np.ndarray:
    """The level of each stay from its condition's level choice (complex cases go up); operations
    happen in 二级 and above, so one drawn lower goes to 三级 or 二级 in the condition's proportion."""
    cat = _pick(rng, m.cum_level[c])
    low = np.flatnonzero(surgical & (cat >= 2))
    p3 = m.cum_level[c[low], 0]
    p2 = m.cum_level[c[low], 1] - p3
    cat[low] = np.where(rng.random(len(low)) * (p3 + p2) < p3, 0, 1)
    return cat


def _base(person, kind, med_type, adm, los, profile, inst, cost, **extra) -> ClaimBatch:
    n = len(person)
    cols = {
        "person": person.astype(np.int64), "kind": np.full(n, kind, np.int8), "med_type": med_type.astype(object),
        "adm": adm.astype(np.int32), "los": los.astype(np.int32), "profile": profile.astype(np.int64),
        "inst": inst.astype(np.int64), "cost": np.maximum(cost, 100).astype(np.int64),
        "dx": np.zeros(n, object), "proc": np.full(n, None, object), "newborn_weight": np.zeros(n, np.int32),
        "dscg_way": np.full(n, None, object), "surgical": np.zeros(n, bool), "hanging": np.zeros(n, bool),
        "chronic_code": np.full(n, None, object), "dept": np.full(n, None, object),
        "doctor": np.full(n, -1, np.int64),  # doctor number at the institution; -1 = the person's usual one
    }
    cols.update(extra)
    return ClaimBatch(cols)


def outpatient(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    pop = m.pop
    who = _events(rng, persons, m.rate_op[persons] * pop.frailty[persons])
    n = len(who)
    adm = _dates(rng, m, who)
    dx = _pick(rng, m.cum_op[pop.sex[who] - 1, pop.age[who]])
    inst = _institutions(rng, m, _levels(rng, m.op_mix, n), data.target("utilisation.out_of_region_outpatient"))
    home = m.inst.cat[inst] == CATS.index("primary")  # primary care at the household's clinic
    inst = np.where(home, m.home_clinic[who], inst)
    emerg = rng.random(n) < data.target("utilisation.emergency_share")
    scheme = pop.scheme[who]
    cost = (m.op_scale[scheme] * m.op_level_ratio[m.inst.cat[inst]] * m.out["cost_rel"].to_numpy()[dx]
            * np.where(emerg, 1.5, 1.0) / (1 + 0.5 * data.target("utilisation.emergency_share"))
            * _lognormal_mean1(rng, m.sigma + 0.2, n))
    b = _base(who, OUTPATIENT, np.where(emerg, vocab.MED_EMERGENCY, vocab.MED_OUTPATIENT), adm, np.zeros(n), dx, inst, cost)
    b.cols["dx"] = m.out["icd10"].to_numpy(dtype=object)[dx]
    b.cols["dept"] = np.where(emerg, "急诊科", m.out["dept"].to_numpy(dtype=object)[dx])
    b.cols["doctor"] = np.where(home, m.family_doctor[who], -1)
    covisits(rng, m, b)
    return b


def covisits(rng, m: ClaimModel, b: ClaimBatch) -> np.ndarray:
    """Household members' visits made together (``COVISIT_P``): the visits of each household to one
    department are paired at random, and of a pair of two members' visits the second moves to the
    first's day, institution and doctor (its cost follows the institution's level). Returns the
    [lead, follower] claim indices."""
    c = b.cols
    n = len(b)
    hh = m.pop.household[c["person"]]
    dept = pd.factorize(c["dept"])[0]
    order = np.lexsort((rng.random(n), dept, hh))
    group = hh[order] * (dept.max() + 1 if n else 1) + dept[order]
    rank = np.arange(n) - np.searchsorted(group, group)  # place within the (household, department) group
    lead = np.flatnonzero((rank % 2 == 0) & (np.arange(n) + 1 < n))
    lead = lead[group[lead] == group[np.minimum(lead + 1, n - 1)]]
    pair = np.stack([order[lead], order[lead + 1]], axis=1) if len(lead) else np.zeros((0, 2), np.int64)
    a, f = pair[:, 0], pair[:, 1]
    day = c["adm"][a]
    ok = ((c["person"][a] != c["person"][f]) & (rng.random(len(a)) < COVISIT_P)
          & (m.pop.start[c["person"][f]] <= day) & (day <= m.pop.end[c["person"][f]]))
    a, f, day = a[ok], f[ok], day[ok]
    doctor = np.where(c["doctor"][a] >= 0, c["doctor"][a], doctor_of(m.inst, c["person"][a], c["inst"][a]))
    ratio = m.op_level_ratio[m.inst.cat[c["inst"][a]]] / m.op_level_ratio[m.inst.cat[c["inst"][f]]]
    c["cost"][f] = np.maximum(c["cost"][f] * ratio, 100).astype(np.int64)
    c["adm"][f], c["inst"][f] = day, c["inst"][a]
    c["doctor"][a], c["doctor"][f] = doctor, doctor
    return np.stack([a, f], axis=1)


def chronic_visits(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    """门诊慢特病 visits: dialysis sessions on the patient's shift at their centre, the other diseases'
    visits on random days at the one institution the patient is registered with (assumption:
    门诊慢特病 is settled at the 定点 institution the patient chose)."""
    pop = m.pop
    sick = persons[pop.chronic[persons] >= 0]
    dialysis = list(m.chronic["key"]).index(DIALYSIS) if DIALYSIS in set(m.chronic["key"]) else -1
    on_dialysis = pop.chronic[sick] == dialysis
    return ClaimBatch.concat([_chronic_claims(rng, m, *_planned_visits(rng, m, sick[~on_dialysis])),
                              _chronic_claims(rng, m, *dialysis_sessions(rng, m, sick[on_dialysis]))])


def _planned_visits(rng, m: ClaimModel, sick: np.ndarray) -> tuple[np.ndarray, ...]:
    """A Poisson number of visits a year (the disease's ``visits``) on random days, at one institution."""
    pop = m.pop
    year_days = 366 if m.cfg.year % 4 == 0 else 365
    exposure = (pop.end[sick] - pop.start[sick] + 1) / year_days
    counts = rng.poisson(m.chronic["visits"].to_numpy()[pop.chronic[sick]] * exposure)
    mix = m.op_mix.copy()
    mix[0] *= 2  # 慢特病 care leans on 三级 hospitals (assumption)
    registered = _institutions(rng, m, _levels(rng, mix / mix.sum(), len(sick)), 0.02)
    who = np.repeat(sick, counts)
    return who, _dates(rng, m, who), np.repeat(registered, counts), np.full(len(who), -1, np.int64)


def weekday(day: np.ndarray) -> np.ndarray:
    """Monday 0 … Sunday 6 of a day number (day 0, 1970-01-01, was a Thursday)."""
    return (np.asarray(day) + 3) % 7


def dialysis_sessions(rng, m: ClaimModel, patients: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each patient's centre (by beds) and shift, and a Poisson number (the disease's ``visits``) of
    the shift's days within their year; the centre's nephrologist of the week sees them."""
    pop = m.pop
    w = m.inst.beds[m.dialysis_centres].astype(float) + 1
    centre = rng.choice(len(m.dialysis_centres), size=len(patients), p=w / w.sum())
    shift = rng.integers(0, len(DIALYSIS_SHIFTS), len(patients))
    sessions = m.chronic.loc[m.chronic["key"] == DIALYSIS, "visits"].to_numpy()
    year_days = 366 if m.cfg.year % 4 == 0 else 365
    who, days = [], []
    for p, s in zip(patients, shift):  # a few patients a block
        spell = np.arange(pop.start[p], pop.end[p] + 1)
        open_days = spell[np.isin(weekday(spell), DIALYSIS_SHIFTS[s])]
        k = min(int(rng.poisson(sessions[0] * len(spell) / year_days)), len(open_days))
        days.append(np.sort(rng.choice(open_days, size=k, replace=False)))
        who.append(np.full(k, p))
    who = np.concatenate(who).astype(np.int64) if who else np.zeros(0, np.int64)
    adm = np.concatenate(days).astype(np.int32) if days else np.zeros(0, np.int32)
    at = np.repeat(centre, [len(d) for d in days]).astype(np.int64)
    doctor = m.nephrologists[at, ((adm + 3) // 7) % 2]
    return who, adm, m.dialysis_centres[at], doctor


def _chronic_claims(rng, m: ClaimModel, who: np.ndarray, adm: np.ndarray, inst: np.ndarray,
                    doctor: np.ndarray) -> ClaimBatch:
    pop = m.pop
    n = len(who)
    d = pop.chronic[who]
    scheme = pop.scheme[who]
    cost = m.ch_scale[scheme] * m.chronic["cost_rel"].to_numpy()[d] * _lognormal_mean1(rng, 0.35, n)
    two = pop.two_diseases[who]
    b = _base(who, CHRONIC, np.where(two, vocab.MED_TWO_DISEASES, vocab.MED_CHRONIC), adm, np.zeros(n), d, inst, cost)
    b.cols["dx"] = m.chronic["icd10"].to_numpy(dtype=object)[d]
    b.cols["chronic_code"] = np.where(two, None, m.chronic["chronic_code"].to_numpy(dtype=object)[d])
    dialysis = m.chronic["key"].to_numpy(dtype=object)[d] == DIALYSIS
    b.cols["dept"] = np.where(dialysis, DIALYSIS_DEPT, "门诊慢特病").astype(object)
    b.cols["doctor"] = doctor.astype(np.int64)
    return b


def pharmacy(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    pop = m.pop
    who = _events(rng, persons, m.rate_ph[persons] * (0.5 + 0.5 * pop.frailty[persons]))
    n = len(who)
    adm = _dates(rng, m, who)
    dx = _pick(rng, m.cum_op[pop.sex[who] - 1, pop.age[who]])
    pool = np.flatnonzero(m.inst.pharmacy)
    inst = pool[rng.integers(0, len(pool), n)]
    cost = m.ph_cost[pop.scheme[who]] * _lognormal_mean1(rng, 0.6, n)
    b = _base(who, PHARMACY, np.full(n, vocab.MED_PHARMACY, object), adm, np.zeros(n), dx, inst, cost)
    b.cols["dx"] = m.out["icd10"].to_numpy(dtype=object)[dx]
    return b


TAIL_MAX = 8.0  # a Pareto cost multiplier is capped at 8 × the condition's mean (assumption)


def _cost_noise(rng, m: ClaimModel, c: np.ndarray) -> np.ndarray:
    """Mean-1 spread of a stay's cost around its condition's: lognormal for most conditions, Pareto
    with the condition's shape for the high-cost ones (the long tail)."""
    noise = _lognormal_mean1(rng, m.sigma, len(c))
    alpha = m.cond["tail"].to_numpy()[c]
    tail = np.flatnonzero(alpha > 0)
    a = alpha[tail]
    noise[tail] = np.minimum((a - 1) / a * (1 - rng.random(len(tail))) ** (-1 / a), TAIL_MAX)
    return noise


def _stays(rng, m: ClaimModel, who: np.ndarray, c: np.ndarray, adm: np.ndarray, med_type: np.ndarray,
           earliest: np.ndarray | None = None, inst: np.ndarray | None = None) -> ClaimBatch:
    """Inpatient stays of persons ``who`` for conditions ``c``: hospital (``inst`` when given, else
    by the condition's level choice), LOS, cost, codes. A stay starts no earlier than ``earliest``
    (by person) when given."""
    pop, cond = m.pop, m.cond
    n = len(who)
    proc_share = cond["proc_share"].to_numpy()[c]
    with_proc = rng.random(n) < proc_share
    surgical = (cond["setting"].to_numpy()[c] == "surgical") & with_proc
    if inst is None:
        cat = _stay_levels(rng, m, c, surgical | (med_type == vocab.MED_MATERNITY_INPATIENT))
        inst = _institutions(rng, m, cat, data.target("utilisation.out_of_region_inpatient"))
    cat = m.inst.cat[inst]
    day_surgery = (cat == 0) & surgical & (rng.random(n) < cond["day_surgery"].to_numpy()[c])
    scheme = pop.scheme[who]
    los_mean = cond["los"].to_numpy()[c] * m.los_scale[scheme] * m.los_level_ratio[cat]
    los = np.maximum(1, np.round(rng.gamma(4.0, los_mean / 4.0))).astype(np.int32)
    los = np.where(day_surgery, 1, los)
    pm = np.where(with_proc, cond["proc_cost"].to_numpy()[c], 1.0)
    cost = m.ip_scale[scheme] * m.ip_level_ratio[cat] * cond["cost_rel"].to_numpy()[c] * pm * _cost_noise(rng, m, c)
    # a stay ends by the end of the year and before death
    last = np.minimum(pop.end[who], m.pop.end.max())
    first = pop.start[who] if earliest is None else np.maximum(pop.start[who], earliest)
    adm = np.minimum(adm, np.maximum(last - los, first)).astype(np.int32)
    los = np.where(day_surgery, 1, np.maximum(1, np.minimum(los, last - adm))).astype(np.int32)
    b = _base(who, INPATIENT, np.where(day_surgery, vocab.MED_DAY_SURGERY, med_type), adm, los, c, inst, cost)
    k = rng.integers(0, 3, n)
    k = np.minimum(k, np.maximum(m.n_procs[c] - 1, 0))
    b.cols["proc"] = np.where(with_proc & (m.n_procs[c] > 0), m.procs[c, k], None)
    b.cols["surgical"] = surgical
    b.cols["dx"] = _diagnoses(rng, m, c, pop.age[who])
    b.cols["dept"] = cond["dept"].to_numpy(dtype=object)[c]
    way = rng.choice([vocab.DISCHARGE_ORDERED, vocab.DISCHARGE_TRANSFERRED, vocab.DISCHARGE_AGAINST_ADVICE,
                      vocab.DISCHARGE_OTHER], size=n, p=[0.94, 0.025, 0.03, 0.005])
    b.cols["dscg_way"] = way.astype(object)
    return b


def _diagnoses(rng, m: ClaimModel, c: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Principal diagnosis, the condition's fixed secondary diagnoses, then up to two comorbidities
    from its list, '|'-joined."""
    principal = m.cond["icd10"].to_numpy(dtype=object)[c]
    secondary = m.cond["secondary"].to_numpy(dtype=object)[c]  # always coded (e.g. the other injuries of a multiple trauma)
    principal = np.where(secondary != "", principal + "|" + secondary, principal)
    n = len(c)
    avail = m.n_comorbid[c]
    p = np.where(age >= 60, SECONDARY_DX_P[1], SECONDARY_DX_P[0])
    k = np.minimum(rng.binomial(2, p), avail)
    start = (rng.random(n) * np.maximum(avail, 1)).astype(np.int64)
    out = principal.copy()
    for j in range(2):
        code = m.comorbid[c, (start + j) % np.maximum(avail, 1)]
        out = np.where(k > j, out + "|" + code, out)
    return out


def inpatient(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    pop = m.pop
    who = _events(rng, persons, m.rate_ip[persons] * (0.5 + 0.5 * pop.frailty[persons]))
    c = _pick(rng, m.cum_ip[pop.sex[who] - 1, pop.age[who]])
    adm = _dates(rng, m, who)
    # a baby is admitted from day 29 of life on; one born too late in the year for that has no such stay
    first = pop.birth[who] + NEWBORN_DAYS + 1
    ok = np.maximum(first, pop.start[who]) < pop.end[who]  # room for a day's stay before the spell ends (death)
    who, c, adm, first = who[ok], c[ok], np.maximum(adm[ok], first[ok]), first[ok]
    ordinary = np.full(len(who), vocab.MED_ORDINARY_INPATIENT, object)
    stays = _referred_up(rng, m, _stays(rng, m, who, c, adm, ordinary, earliest=first))
    return ClaimBatch.concat([stays, *_courses(rng, m, stays)])


def _courses(rng, m: ClaimModel, stays: ClaimBatch) -> list[ClaimBatch]:
    """The repeat stays of course treatments (chemotherapy cycles): a Poisson number per first stay,
    each admitted 2–4 weeks after the previous discharge, at the same hospital, within the year."""
    courses = m.cond["courses"].to_numpy()[stays.cols["profile"]]
    ref = np.flatnonzero((courses > 0) & (stays.cols["dscg_way"] != vocab.DISCHARGE_TRANSFERRED))
    left = rng.poisson(courses[ref])
    prev = stays.take(ref)
    out = []
    while len(ref):
        go = left > 0
        prev, left = prev.take(np.flatnonzero(go)), left[go] - 1
        p = prev.cols
        adm = p["adm"] + p["los"] + rng.integers(COURSE_GAP_DAYS[0], COURSE_GAP_DAYS[1] + 1, len(left))
        fits = adm < np.minimum(m.pop.end[p["person"]], m.pop.end.max()) - 1
        prev, left, adm = prev.take(np.flatnonzero(fits)), left[fits], adm[fits]
        if len(left) == 0:
            break
        p = prev.cols
        nxt = _stays(rng, m, p["person"], p["profile"], adm, np.full(len(left), vocab.MED_ORDINARY_INPATIENT, object),
                     earliest=p["adm"] + p["los"] + 1, inst=p["inst"])
        out.append(nxt)
        prev = nxt
    return out


REFERRAL_COMPLEXITY = 2.0  # a condition at least twice the mean stay's cost counts as complex (assumption)


def _referred_up(rng, m: ClaimModel, b: ClaimBatch) -> ClaimBatch:
    """Complex stays admitted below 三级 are, for a share of them, transferred up: a day or two at the
    first hospital (discharged 2 医嘱转院) and the stay itself at a 三级 hospital."""
    c = b.cols
    cat = m.inst.cat[c["inst"]]
    idx = np.flatnonzero((m.complexity[c["profile"]] >= REFERRAL_COMPLEXITY) & (cat > 0)
                         & (rng.random(len(b)) < data.target("case_mix.referral_share")) & (c["los"] >= 3))
    if len(idx) == 0:
        return b
    first = b.take(idx)
    f = first.cols
    days = np.minimum(rng.integers(1, 3, len(idx)), c["los"][idx] - 1).astype(np.int32)
    f["los"] = days
    f["cost"] = np.maximum(c["cost"][idx] * days / c["los"][idx] * 0.5, 100).astype(np.int64)  # care before transfer
    f["proc"] = np.full(len(idx), None, object)
    f["surgical"] = np.zeros(len(idx), bool)
    f["med_type"] = np.full(len(idx), vocab.MED_ORDINARY_INPATIENT, object)
    f["dscg_way"] = np.full(len(idx), vocab.DISCHARGE_TRANSFERRED, object)
    local = m.inst.local[c["inst"][idx]]
    up = _institutions(rng, m, np.zeros(len(idx), np.int64), 0.0)
    away_up = _institutions(rng, m, np.zeros(len(idx), np.int64), 1.0)
    new_inst = np.where(local, up, away_up)
    scale = m.ip_level_ratio[0] / m.ip_level_ratio[cat[idx]]
    c["cost"][idx] = np.maximum(c["cost"][idx] * scale, 100).astype(np.int64)
    c["adm"][idx] = c["adm"][idx] + days
    c["los"][idx] = c["los"][idx] - days
    c["inst"][idx] = new_inst
    return ClaimBatch.concat([b, first])


def births(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    mothers = persons[rng.random(len(persons)) < m.birth_p[persons]]
    keys = m.cond["key"].to_numpy()
    caes = rng.random(len(mothers)) < data.target("utilisation.caesarean_share")
    c = np.where(caes, np.flatnonzero(keys == "caesarean")[0], np.flatnonzero(keys == "vaginal_birth")[0])
    adm = _dates(rng, m, mothers)
    return _stays(rng, m, mothers, c, adm, np.full(len(mothers), vocab.MED_MATERNITY_INPATIENT, object))


def newborns(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    pop = m.pop
    y0 = pop.start.min()
    born = persons[(pop.birth[persons] >= y0) & (pop.age[persons] == 0)]
    babies = born[rng.random(len(born)) < data.target("utilisation.newborn_stay_share")]
    babies = babies[pop.end[babies] > pop.birth[babies]]  # a stay ends a day after it starts, within the year and life
    keys = m.cond["key"].to_numpy()
    options = np.flatnonzero(m.cond["setting"].to_numpy() == "newborn")
    c = options[rng.choice(len(options), size=len(babies), p=[0.3, 0.5, 0.2])]
    adm = (pop.birth[babies] + rng.integers(0, 10, len(babies))).astype(np.int32)
    b = _stays(rng, m, babies, c, adm, np.full(len(babies), vocab.MED_ORDINARY_INPATIENT, object))
    preterm = keys[c] == "preterm"
    weight = np.where(preterm, rng.normal(1900, 350, len(babies)), rng.normal(3300, 420, len(babies)))
    b.cols["newborn_weight"] = np.clip(weight, 600, 5200).astype(np.int32)
    return b


def terminal_stays(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    """Stays that end with the patient's death (dscg_way 5)."""
    pop = m.pop
    first = pop.birth + NEWBORN_DAYS + 1  # past the newborn days (see inpatient())
    # a stay of at least a day that ends on the day of death needs the death after the year's (or the
    # enrolment's) first day and past the newborn days
    earliest = np.maximum(first[persons], pop.start[persons])
    dead = persons[(pop.death[persons] != NONE_DAY) & (pop.age[persons] >= 1) & (pop.death[persons] > earliest)]
    dying = dead[rng.random(len(dead)) < TERMINAL_STAY_SHARE]
    keys = list(m.cond["key"])
    options = np.array([keys.index(k) for k in TERMINAL_CONDITIONS])
    # the usual conditions of each person's age and sex, among the usual causes of death
    p = np.diff(m.cum_ip, axis=2, prepend=0)[pop.sex[dying] - 1, pop.age[dying]][:, options]
    p[:, TERMINAL_CONDITIONS.index("sepsis")] += 1e-6  # possible at any age
    c = options[_pick(rng, np.cumsum(p, axis=1))]
    los = rng.integers(2, 20, len(dying))
    adm = np.maximum(np.maximum(pop.death[dying] - los, pop.start[dying]), first[dying]).astype(np.int32)
    b = _stays(rng, m, dying, c, adm, np.full(len(dying), vocab.MED_ORDINARY_INPATIENT, object))
    b.cols["adm"] = adm
    b.cols["los"] = np.maximum(pop.death[dying] - adm, 1).astype(np.int32)
    b.cols["dscg_way"] = np.full(len(dying), vocab.DISCHARGE_DIED, object)
    return b


def separate_stays(m: ClaimModel, b: ClaimBatch) -> ClaimBatch:
    """Each person's stays moved apart (``READMISSION_GAP_DAYS``, ``NEXT_STAY_GAP_DAYS``); a stay
    pushed past the end of the person's year is dropped."""
    c = b.cols
    stays = np.flatnonzero(c["kind"] == INPATIENT)
    order = stays[np.lexsort((stays, c["adm"][stays], c["person"][stays]))]
    person, inst, los = c["person"][order], c["inst"][order], c["los"][order]
    adm = c["adm"][order].astype(np.int64)
    same_person = person[1:] == person[:-1]
    transferred = c["dscg_way"][order][:-1] == vocab.DISCHARGE_TRANSFERRED
    gap = np.where(inst[1:] == inst[:-1], READMISSION_GAP_DAYS, np.where(transferred, 0, NEXT_STAY_GAP_DAYS))
    for _ in range(len(order)):
        earliest = adm[:-1] + los[:-1] + gap
        late = same_person & (adm[1:] < earliest)
        if not late.any():
            break
        adm[1:][late] = earliest[late]
    c["adm"][order] = adm
    last = np.minimum(m.pop.end[c["person"]], m.pop.end.max())
    ends = c["adm"].astype(np.int64) + np.where(c["kind"] == INPATIENT, c["los"], 0)
    return b.take(np.flatnonzero((c["kind"] != INPATIENT) | (ends <= last)))


def clear_stays(b: ClaimBatch, movable: np.ndarray) -> None:
    """Visits and purchases (``movable`` ones) dated strictly inside one of the person's stays are
    moved to that stay's admission day: care during a stay is billed on the stay (in place)."""
    c = b.cols
    stays = np.flatnonzero(c["kind"] == INPATIENT)
    if len(stays) == 0:
        return
    key = c["person"][stays].astype(np.int64) * 1_000_000 + c["adm"][stays]
    order = np.argsort(key, kind="stable")
    key, stays = key[order], stays[order]
    dscg = c["adm"][stays].astype(np.int64) + c["los"][stays]
    person = c["person"][stays]
    # the latest discharge among the person's stays admitted so far (a stay may run inside another)
    cover = dscg.copy()
    for _ in range(8):
        prev = np.r_[cover[:1], cover[:-1]]
        run = (np.r_[False, person[1:] == person[:-1]]) & (prev > cover)
        if not run.any():
            break
        cover[run] = prev[run]
    visits = np.flatnonzero((c["kind"] != INPATIENT) & movable)
    for _ in range(8):
        day = c["adm"][visits].astype(np.int64)
        at = np.searchsorted(key, c["person"][visits].astype(np.int64) * 1_000_000 + day, "left") - 1
        ok = at >= 0
        at = np.maximum(at, 0)
        inside = ok & (person[at] == c["person"][visits]) & (cover[at] > day) & (c["adm"][stays[at]] < day)
        if not inside.any():
            break
        c["adm"][visits[inside]] = c["adm"][stays[at[inside]]]


def generate_claims(rng, m: ClaimModel, persons: np.ndarray) -> ClaimBatch:
    parts = [outpatient(rng, m, persons), chronic_visits(rng, m, persons), pharmacy(rng, m, persons),
             inpatient(rng, m, persons), births(rng, m, persons), newborns(rng, m, persons),
             terminal_stays(rng, m, persons)]
    return separate_stays(m, ClaimBatch.concat(parts))
