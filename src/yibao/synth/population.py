"""The people of a synthetic region: persons and households, deaths, employers, 参保 spells and
医疗救助 identities — all drawn at once with vectorised numpy from one seeded generator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao import vocab
from yibao.ids import make_credit_code
from yibao.synth import data
from yibao.synth.config import SynthConfig
from yibao.synth.text import digits, join, prefixed, take_strings

EPOCH = dt.date(1970, 1, 1)
NONE_DAY = np.int32(2**31 - 1)  # "no date" sentinel in day arrays

# Five-year age groups 0–4 … 80–84, 85+ (%): a shape read to match 七普 broad groups
# (CALIBRATION.md §8 S: 0–14 17.95%, 15–59 63.35%, 60+ 18.70%); assumption for the detail.
_PYRAMID_5Y = [5.5, 6.4, 6.1, 5.3, 5.3, 6.6, 8.8, 7.0, 6.6, 8.1, 8.7, 7.2, 5.2, 5.0, 3.4, 2.2, 1.5, 1.0]
# Share of men by age group (assumption, shaped so the overall ratio is near CALIBRATION.md §8's 104.
# with more boys at birth — 七普 出生人口性别比 111.3 — and more women among the very old).
_MALE_SHARE = np.concatenate([np.full(15, 0.527), np.full(45, 0.512), np.full(20, 0.49), np.full(21, 0.43)])
# Retirement ages (法定退休年龄 before the 2025 reform: men 60, women 55 for most cadres) (assumption).
RETIRE_AGE = {1: 60, 2: 55}
# Share of each 医疗救助 identity among assisted persons (assumption; the total is the configured share).
IDENTITY_MIX = {"tekun": 0.06, "dibao": 0.45, "fanpin": 0.08, "dibao_edge": 0.14, "disabled": 0.17, "monitored": 0.10}
# Household sizes 1–6 (assumption: shape giving a mean near 七普 2.62).
_HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
_HOUSEHOLD_P = np.array([0.25, 0.30, 0.21, 0.13, 0.08, 0.03])


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def age_weights(share_60_plus: float, birth_rate: float) -> np.ndarray:
    """Single-year age weights 0–100 from the 5-year pyramid, with age 0 set by the birth rate and the
    60+ share rescaled to the configured value."""
    w = np.repeat(np.array(_PYRAMID_5Y[:17]) / 5.0, 5)  # 0–84
    old = np.array(_PYRAMID_5Y[17]) * np.exp(-0.25 * np.arange(16))  # 85–100, declining
    w = np.concatenate([w, old / old.sum() * _PYRAMID_5Y[17]])
    w = w / w.sum()
    w[0] = birth_rate
    w[60:] *= share_60_plus / w[60:].sum()
    w[:60] *= (1 - share_60_plus) / w[:60].sum()
    return w


@dataclass
class Population:
    """Per-person arrays used by the claims generator (index = person number)."""

    n: int
    year: int
    psn_no: pa.Array
    sex: np.ndarray  # int8 1 male / 2 female
    birth: np.ndarray  # int32 days
    age: np.ndarray  # int16, age at the end of the year
    district: np.ndarray  # int16 index into region.districts
    death: np.ndarray  # int32 days, NONE_DAY when alive at year end
    scheme: np.ndarray  # int8 0 职工 / 1 居民 at the start of the year (or birth)
    retired: np.ndarray  # bool
    switch_day: np.ndarray  # int32 day the person changed scheme, NONE_DAY when not
    identity: np.ndarray  # bool: holds a 医疗救助 identity
    chronic: np.ndarray  # int16 index into chronic_diseases(), -1 none
    two_diseases: np.ndarray  # bool: resident treated under 门诊两病 (9901)
    frailty: np.ndarray  # float32, mean 1: person-level propensity to use care
    household: np.ndarray  # int64 household number: its members are consecutive persons
    start: np.ndarray  # int32 first day in the year (Jan 1 or birth)
    end: np.ndarray  # int32 last day in the year (Dec 31 or death)


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """Position of each element among the earlier elements with the same key."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
    run = np.repeat(starts, np.diff(np.r_[starts, len(sk)]))
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.arange(len(keys)) - run
    return out


def id_numbers(district_codes: np.ndarray, birth: np.ndarray, sex: np.ndarray, region: data.Region) -> pa.Array:
    """Unique valid 18-digit 居民身份证号 (GB 11643) for each person, vectorised."""
    dates = np.array(birth, dtype="datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    key = (district_codes.astype(np.int64) * 100000 + (birth.astype(np.int64) + 50000)) * 2 + (sex == 1)
    seq = _cumcount(key)
    if seq.max(initial=0) >= 500:
        raise ValueError("too many persons share a birth date and county for 3-digit sequence numbers")
    d17 = 2 * seq + (sex == 1)
    admdvs = np.array([int(region.districts[i]) for i in range(len(region.districts))])[district_codes]
    # digits of the first 17 characters: 6 area + 8 date + 3 sequence
    cols = [admdvs // 10 ** (5 - i) % 10 for i in range(6)]
    cols += [years // 10 ** (3 - i) % 10 for i in range(4)]
    cols += [months // 10, months % 10, days // 10, days % 10]
    cols += [d17 // 100 % 10, d17 // 10 % 10, d17 % 10]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = sum(int(w) * c for w, c in zip(weights, cols)) % 11
    check_chars = pa.array(list("10X98765432")).take(pa.array(check))
    first = digits(admdvs, 6), digits(years, 4), digits(months, 2), digits(days, 2), digits(d17, 3)
    return join([*first, check_chars])


def _names(rng: np.random.Generator, sex: np.ndarray) -> pa.Array:
    nm = data.names()
    surnames = nm["surnames"]
    w = 1.0 / (np.arange(len(surnames)) + 3.0)
    n = len(sex)
    s = rng.choice(len(surnames), size=n, p=w / w.sum())
    male, female = pa.array(nm["male"]), pa.array(nm["female"])
    g1m = rng.integers(0, len(male), n)
    g1f = rng.integers(0, len(female), n)
    g2m = rng.integers(0, len(male), n)
    g2f = rng.integers(0, len(female), n)
    is_m = pa.array(sex == 1)
    g1 = pc.if_else(is_m, male.take(pa.array(g1m)), female.take(pa.array(g1f)))
    g2 = pc.if_else(is_m, male.take(pa.array(g2m)), female.take(pa.array(g2f)))
    two = pa.array(rng.random(n) < 0.6)
    g2 = pc.if_else(two, g2, pa.scalar(""))
    return join([pa.array(surnames).take(pa.array(s)), g1, g2])


def build_population(cfg: SynthConfig, rng: np.random.Generator) -> tuple[Population, dict[str, pa.Table]]:
    """Draw persons, households, deaths, employers, enrolment spells and identities."""
    region = data.region(cfg.region)
    n = cfg.persons
    y0, y1 = day(dt.date(cfg.year, 1, 1)), day(dt.date(cfg.year, 12, 31))
    ndays = y1 - y0 + 1

    # ages at year end and birth dates: born in year (year − age), uniform within it
    w = age_weights(cfg.share_60_plus, data.target("population.birth_rate"))
    age = rng.choice(101, size=n, p=w).astype(np.int16)
    birth_year_start = np.array([day(dt.date(cfg.year - a, 1, 1)) for a in range(101)], dtype=np.int32)
    birth = birth_year_start[age] + rng.integers(0, 365, n).astype(np.int32)
    sex = np.where(rng.random(n) < _MALE_SHARE[age], 1, 2).astype(np.int8)
    # households: runs of consecutive persons of drawn sizes, each in one district, so that a household
    # falls in one block of the claims generator (its members' visits are drawn together)
    sizes = rng.choice(_HOUSEHOLD_SIZES, size=n // 2 + 10, p=_HOUSEHOLD_P)
    household = np.repeat(np.arange(len(sizes)), sizes)[:n].astype(np.int64)
    district = rng.choice(len(region.districts), size=len(sizes), p=region.district_shares).astype(np.int16)[household]

    # deaths: Gompertz hazard (assumption: slope 0.085/year, an infant term), scaled to the crude rate
    hazard = np.exp(0.085 * age.astype(float)) + np.where(age == 0, 120.0, 0.0)
    p_death = np.minimum(hazard * data.target("population.death_rate") * n / hazard.sum(), 0.6)
    dies = rng.random(n) < p_death
    first = np.maximum(birth, y0)
    death = np.where(dies, first + (rng.random(n) * (y1 - first + 1)).astype(np.int32), NONE_DAY).astype(np.int32)
    start, end = first.astype(np.int32), np.minimum(death, y1).astype(np.int32)

    # enrolment: 职工 in service and retired, 灵活就业, and 居民 by psn_type
    retire_age = np.where(sex == 1, RETIRE_AGE[1], RETIRE_AGE[2])
    working = (age >= 18) & (age < retire_age)
    elderly = age >= retire_age
    employees = cfg.employee_share * n
    ratio = cfg.active_retired_ratio
    p_active = min(0.97, employees * ratio / (1 + ratio) / max(working.sum(), 1))
    p_retired = min(0.97, employees / (1 + ratio) / max(elderly.sum(), 1))
    u = rng.random(n)
    active = working & (u < p_active)
    retired = elderly & (u < p_retired)
    scheme = np.where(active | retired, 0, 1).astype(np.int8)
    flexible = active & (rng.random(n) < cfg.flexible_share)

    # identities (mostly residents, older): weighted sampling without replacement (Efraimidis–Spirakis)
    weight = (1 + age / 40.0) * np.where(scheme == 1, 6.0, 0.3)
    k = int(round(cfg.identity_share * n))
    keys = np.log(rng.random(n)) / weight
    holders = np.argpartition(-keys, k)[:k] if 0 < k < n else np.arange(n)[: max(k, 0)]
    identity = np.zeros(n, dtype=bool)
    identity[holders] = True

    # chronic disease (门诊慢特病): one per person at most; scaled per scheme so visits meet the target
    chronic, two = _chronic(cfg, rng, age, scheme, retired)

    # mid-year scheme changes among working-age persons
    switch_day = np.full(n, NONE_DAY, dtype=np.int32)
    movers = np.flatnonzero(working & (death == NONE_DAY))
    movers = rng.permutation(movers)[: int(cfg.scheme_change_share * n)]
    switch_day[movers] = (y0 + 31 + rng.integers(0, ndays - 61, len(movers))).astype(np.int32)

    frailty = rng.gamma(2.0, 0.5, n).astype(np.float32)

    psn_no = prefixed(region.admdvs, np.arange(n), 10)
    pop = Population(n, cfg.year, psn_no, sex, birth, age, district, death, scheme, retired, switch_day, identity,
                     chronic, two, frailty, household, start, end)

    names = _names(rng, sex)
    certno = id_numbers(district, birth, sex, region)
    district_codes = take_strings(list(region.districts), district)
    persons = pa.table({
        "psn_no": psn_no, "certno": certno, "name": names, "sex": take_strings(["", "1", "2"], sex),
        "birth_date": pa.array(birth, pa.date32()), "admdvs": district_codes,
        "household_id": prefixed("H" + region.admdvs, household, 8),
        "death_date": pa.array(np.where(death == NONE_DAY, 0, death), pa.date32(), mask=death == NONE_DAY),
    })
    employers, emp_of, base_fen, civil = _employers(cfg, rng, region, district, active & ~flexible, retired)
    enrollments = _enrollments(cfg, rng, pop, region, flexible, emp_of, base_fen, civil, y0)
    identities = _identities(rng, pop, holders, y0, y1)
    return pop, {"persons": persons, "employers": employers, "enrollments": enrollments, "identities": identities}


def _chronic(cfg, rng, age, scheme, retired) -> tuple[np.ndarray, np.ndarray]:
    cd = data.chronic_diseases()
    n = len(age)
    shape = np.stack([age_shape_masked(r.age_shape, r.min_age) for r in cd.itertuples()])  # [d, 101]
    base = cd["prevalence"].to_numpy()[:, None] * shape  # relative prevalence by age
    visits = cd["visits"].to_numpy()
    out = np.full(n, -1, dtype=np.int16)
    u = rng.random(n)
    for s, tgt in ((0, data.target("utilisation.chronic_visits_employee")),
                   (1, data.target("utilisation.chronic_visits_resident"))):
        idx = np.flatnonzero(scheme == s)
        if len(idx) == 0:
            continue
        # expected visits per person at scale 1, then the scale that meets the target
        per_age = (base * visits[:, None]).sum(0)
        expected = per_age[age[idx]].mean()
        scale = tgt / expected if expected > 0 else 0.0
        p = base[:, age[idx]].T * scale  # [persons, diseases]
        total = p.sum(1)
        over = total > 0.9
        p[over] *= (0.9 / total[over])[:, None]
        cum = np.cumsum(p, axis=1)
        pick = (cum < u[idx, None]).sum(1)
        out[idx] = np.where(pick < len(cd), pick, -1)
    two_ok = cd["two_diseases"].to_numpy().astype(bool)
    two = (scheme == 1) & (out >= 0) & two_ok[np.maximum(out, 0)] & (rng.random(n) < 0.5)
    return out, two


def age_shape_masked(name: str, min_age: float = 0, max_age: float = 200) -> np.ndarray:
    a = np.arange(101)
    return data.age_shape(name) * ((a >= min_age) & (a <= max_age))


def _employers(cfg, rng, region, district, staffed, retired):
    """Employers with industries and wage levels; staff assigned by headcount; contribution bases."""
    nm = data.names()
    ind = nm["industries"]
    ind_names = [r[0] for r in ind]
    ind_w = np.array([r[1] for r in ind], dtype=float)
    ind_mult = np.array([r[2] for r in ind], dtype=float)
    public = np.array([r[0] in nm["public_sector"] for r in ind])
    staff = np.flatnonzero(staffed)
    m = max(3, len(staff) // 25)
    industry = rng.choice(len(ind), size=m, p=ind_w / ind_w.sum())
    size_w = rng.lognormal(0.0, 1.3, m)
    emp_district = rng.choice(len(region.districts), size=m, p=region.district_shares)
    avg_wage = data.target("enrolment.average_wage_yuan")
    center = avg_wage * ind_mult[industry] * rng.lognormal(-0.03, 0.25, m)
    emp_of_staff = rng.choice(m, size=len(staff), p=size_w / size_w.sum())
    # keep employers that got staff, renumbered
    used, emp_of_staff = np.unique(emp_of_staff, return_inverse=True)
    industry, emp_district, center = industry[used], emp_district[used], center[used]
    wage = center[emp_of_staff] * rng.lognormal(-0.06, 0.35, len(staff))
    floor = data.target("enrolment.base_floor") * avg_wage
    ceil = data.target("enrolment.base_ceiling") * avg_wage
    base_yuan = np.clip(np.round(wage), floor, ceil)
    n = len(district)
    emp_of = np.full(n, -1, dtype=np.int64)
    emp_of[staff] = emp_of_staff
    base_fen = np.zeros(n, dtype=np.int64)
    base_fen[staff] = (base_yuan * 100).astype(np.int64)
    # 灵活就业 choose a base between the floor and the average (assumption: 60% or 100% of 社平)
    flex = np.flatnonzero(~staffed & (base_fen == 0))
    base_fen[flex] = (rng.choice([data.target("enrolment.base_floor"), 1.0], len(flex)) * avg_wage * 100).astype(np.int64)
    civil = np.zeros(n, dtype=bool)
    civil[staff] = public[industry[emp_of_staff]]
    civil |= retired & (rng.random(n) < data.target("enrolment.public_sector_share"))
    k = len(used)
    headcount = np.bincount(emp_of_staff, minlength=k)
    mean_wage = np.bincount(emp_of_staff, weights=wage, minlength=k) / np.maximum(headcount, 1)
    codes = [make_credit_code(region.districts[emp_district[i]], 10_000 + i,
                              kind=("11" if ind_names[industry[i]].startswith("公共管理") else
                                    "12" if public[industry[i]] else "91")) for i in range(k)]
    suffixes = ["有限公司", "股份有限公司", "商贸有限公司", "科技有限公司", "实业有限公司"]
    names = [f"{region.name}{ind_names[industry[i]][:2]}{'单位' if public[industry[i]] else suffixes[i % 5]}{i + 1:05d}"
             for i in range(k)]
    table = pa.table({
        "emp_no": prefixed("E" + region.admdvs, np.arange(k), 7), "uscc": pa.array(codes), "name": pa.array(names),
        "admdvs": take_strings(list(region.districts), emp_district), "industry": take_strings(ind_names, industry),
        "avg_wage_fen": pa.array((np.round(mean_wage) * 100).astype(np.int64)), "headcount": pa.array(headcount, pa.int32()),
    })
    return table, emp_of, base_fen, civil


def _psn_type(pop: Population, y0: int, rng) -> np.ndarray:
    """National psn_type code for each person's own scheme at the start of the year."""
    age = pop.age
    t = np.where(pop.scheme == 0, np.where(pop.retired, vocab.RETIRED, vocab.ACTIVE), "")
    res = pop.scheme == 1
    born_this_year = pop.birth >= y0
    college_age = (age >= 18) & (age <= 22) & res
    p_college = min(0.9, data.target("enrolment.college_share") * res.sum() / max(college_age.sum(), 1))
    college = college_age & (rng.random(len(age)) < p_college)
    by_age = [vocab.NEWBORN, vocab.PRESCHOOL_CHILD, vocab.SCHOOL_PUPIL, vocab.COLLEGE_STUDENT, vocab.ELDER_RESIDENT]
    rt = np.select([born_this_year, age <= 6, age <= 17, college, age >= 60], by_age, vocab.ADULT_RESIDENT)
    return np.where(res, rt, t)


def _within_life(day: np.ndarray, pop: Population, who: np.ndarray) -> np.ndarray:
    """``day`` moved to the person's birth when before it and to the death when after it (a double
    enrolment is drawn in the first half-year, whoever is born or dies in it)."""
    return np.clip(day, pop.birth[who], pop.death[who]).astype(np.int32)


def _enrollments(cfg, rng, pop: Population, region, flexible, emp_of, base_fen, civil, y0) -> pa.Table:
    n = pop.n
    psn_type = _psn_type(pop, y0, rng)
    # spells began before the year (or at birth); they end at death
    since = np.maximum(pop.birth, y0 - rng.integers(0, 365 * 15, n)).astype(np.int32)
    end = pop.death.copy()
    rows = {
        "person": np.arange(n), "scheme": pop.scheme.copy(), "psn_type": psn_type, "flexible": flexible,
        "emp": emp_of, "base": np.where(pop.retired | (pop.scheme == 1), -1, base_fen), "civil": civil & (pop.scheme == 0),
        "start": since, "end": end, "admdvs": np.full(n, -1),
    }
    # a switcher's first spell ends the day before the switch; the second starts that day
    movers = np.flatnonzero(pop.switch_day != NONE_DAY)
    rows["end"][movers] = pop.switch_day[movers] - 1
    avg = data.target("enrolment.average_wage_yuan") * 100
    new_scheme = 1 - pop.scheme[movers]
    second = {
        "person": movers, "scheme": new_scheme, "psn_type": np.where(new_scheme == 0, vocab.ACTIVE, vocab.ADULT_RESIDENT),
        "flexible": new_scheme == 0, "emp": np.full(len(movers), -1),
        "base": np.where(new_scheme == 0, int(avg), -1), "civil": np.zeros(len(movers), bool),
        "start": pop.switch_day[movers], "end": pop.death[movers], "admdvs": np.full(len(movers), -1),
    }
    # double enrolments: a second, overlapping spell in the other scheme here or the same scheme elsewhere
    dup = rng.choice(np.flatnonzero(pop.switch_day == NONE_DAY), size=min(cfg.n_double, n), replace=False)
    elsewhere_idx = rng.integers(0, len(data.elsewhere()), len(dup))
    other_region = rng.random(len(dup)) < 0.5
    dup_scheme = np.where(other_region, pop.scheme[dup], 1 - pop.scheme[dup])
    third = {
        "person": dup, "scheme": dup_scheme,
        "psn_type": np.where(dup_scheme == pop.scheme[dup], psn_type[dup],
                             np.where(dup_scheme == 0, vocab.ACTIVE,
                                      np.where(pop.age[dup] >= 60, vocab.ELDER_RESIDENT, vocab.ADULT_RESIDENT))),
        "flexible": dup_scheme == 0, "emp": np.full(len(dup), -1), "base": np.where(dup_scheme == 0, int(avg), -1),
        "civil": np.zeros(len(dup), bool), "start": _within_life(y0 + rng.integers(0, 180, len(dup)), pop, dup),
        "end": pop.death[dup], "admdvs": np.where(other_region, elsewhere_idx, -1),
    }
    r = {k: np.concatenate([rows[k], second[k], third[k]]) for k in rows}
    order = np.lexsort((r["start"], r["person"]))
    r = {k: v[order] for k, v in r.items()}
    m = len(order)
    dist_codes = take_strings(list(region.districts), pop.district[r["person"]])
    other_codes = take_strings(list(data.elsewhere()["admdvs"]), np.maximum(r["admdvs"], 0))
    admdvs = pc.if_else(pa.array(r["admdvs"] >= 0), other_codes, dist_codes)
    emp_kind = pc.if_else(pa.array(r["scheme"] == 0),
                          pc.if_else(pa.array(r["flexible"] | (r["emp"] < 0)), "flexible", "employer"), pa.scalar(None, pa.string()))
    # retirees keep no employer and pay no contribution: kind and base are null
    retired_rows = np.isin(r["psn_type"], list(vocab.RETIRED_PSN_TYPES))
    emp_kind = pc.if_else(pa.array(retired_rows), pa.scalar(None, pa.string()), emp_kind)
    return pa.table({
        "spell_id": prefixed("S" + region.admdvs, np.arange(m), 9),
        "psn_no": pop.psn_no.take(pa.array(r["person"])),
        "insutype": take_strings([vocab.EMPLOYEE, vocab.RESIDENT], r["scheme"]),
        "psn_type": pa.array(r["psn_type"].astype(str)),
        "emp_kind": emp_kind,
        "emp_no": pc.if_else(pa.array(r["emp"] >= 0), prefixed("E" + region.admdvs, np.maximum(r["emp"], 0), 7),
                             pa.scalar(None, pa.string())),
        "admdvs": admdvs,
        "start_date": pa.array(r["start"], pa.date32()),
        "end_date": pa.array(np.where(r["end"] == NONE_DAY, 0, r["end"]), pa.date32(), mask=r["end"] == NONE_DAY),
        "contribution_base_fen": pa.array(r["base"], pa.int64(), mask=r["base"] < 0),
        "civil_servant": pa.array(r["civil"]),
    })


def _identities(rng, pop: Population, holders: np.ndarray, y0: int, y1: int) -> pa.Table:
    k = len(holders)
    cats = list(IDENTITY_MIX)
    p = np.array(list(IDENTITY_MIX.values()))
    cat = rng.choice(len(cats), size=k, p=p / p.sum())
    # most identities were granted before the year; some during it; a few end during it
    mid = rng.random(k) < 0.15
    start = np.where(mid, y0 + rng.integers(0, y1 - y0, k), y0 - rng.integers(30, 365 * 5, k))
    start = np.maximum(start, pop.birth[holders])
    start = np.minimum(start, pop.death[holders]).astype(np.int32)  # granted no later than death
    ends = rng.random(k) < 0.05
    end = np.where(ends, np.minimum(start + rng.integers(30, 365, k), y1), NONE_DAY)
    end = np.minimum(end, pop.death[holders]).astype(np.int32)
    order = np.argsort(holders, kind="stable")
    return pa.table({
        "psn_no": pop.psn_no.take(pa.array(holders[order])),
        "identity": take_strings(cats, cat[order]),
        "start_date": pa.array(start[order], pa.date32()),
        "end_date": pa.array(np.where(end == NONE_DAY, 0, end)[order], pa.date32(), mask=(end == NONE_DAY)[order]),
    })
