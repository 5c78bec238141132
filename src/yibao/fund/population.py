"""Cohort-component projection of the insured population (参保人口预测) by single age, sex and group
(职工在职 / 职工退休 / 居民). Pure: arrays in, arrays out.

A year's step, for the population counted at 31 December (completed age ``a``, exact age taken as
spread evenly over [a, a + 1)):

1. deaths: each cell survives with 1 − q(sex, age);
2. births: fertility × the women aged 15–49 at the start of the year, split by the sex ratio at birth,
   join 居民 at age 0 (a newborn is insured as a resident; deaths in the year of birth are not modelled);
3. ageing: every survivor is a year older, 100 is the open age;
4. migration: every cell grows by the net migration rate;
5. 在职 → 退休: the share of a cohort past its legal retirement age (``clip(a + 1 − L, 0, 1)``, L the
   legal age of the birth cohort, see :func:`legal_age`) leaves 在职;
6. scheme switches: 居民 ↔ 在职 at yearly rates by age.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yibao.errors import ValidationError

GROUPS = ("active", "retired", "resident")
GROUP_NAMES = {"active": "职工在职", "retired": "职工退休", "resident": "居民"}
ACTIVE, RETIRED, RESIDENT = range(3)
SEXES = ("1", "2")  # GB/T 2261.1: 1 男, 2 女
AGES = 101  # 0 … 100 (100 and over)
FERTILE = slice(15, 50)


@dataclass(frozen=True)
class RetirementRule:
    """渐进式延迟: from ``from_year``, whoever would reach ``base_age`` retires one month later per
    ``step_months`` months elapsed (the first month already one later), up to ``target_age``."""

    sex: str
    base_age: int
    target_age: int
    step_months: int
    from_year: int

    def delay_months(self, months_after_start: np.ndarray) -> np.ndarray:
        delay = np.where(months_after_start < 0, 0, months_after_start // self.step_months + 1)
        return np.minimum(delay, (self.target_age - self.base_age) * 12)


def legal_age(rule: RetirementRule, birth_year: int) -> float:
    """The legal retirement age (years) of those born in ``birth_year``, averaged over their birth months."""
    month = (birth_year + rule.base_age - rule.from_year) * 12 + np.arange(12)
    return rule.base_age + float(rule.delay_months(month).mean()) / 12


@dataclass(frozen=True)
class Switch:
    origin: int
    to: int
    from_age: int
    to_age: int
    rate: float


@dataclass(frozen=True)
class Demography:
    """The rates a step applies: ``death_q`` [sex, age]; ``fertility`` births per woman aged 15–49 a year."""

    death_q: np.ndarray
    fertility: float
    sex_ratio_at_birth: float
    net_migration_rate: float
    retirement: dict[str, RetirementRule]
    switches: tuple[Switch, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.death_q.shape != (2, AGES) or (self.death_q < 0).any() or (self.death_q > 1).any():
            raise ValidationError("death_q", f"expected probabilities of shape (2, {AGES})", "demography")
        missing = [s for s in SEXES if s not in self.retirement]
        if missing:
            raise ValidationError("retirement", f"no retirement rule for sex {', '.join(missing)}", "demography")


def retiring_share(rule: RetirementRule, year: int) -> np.ndarray:
    """By completed age at the end of ``year``: the share of the cohort past its legal age."""
    ages = np.arange(AGES)
    legal = np.array([legal_age(rule, year - a) for a in ages])
    return np.clip(ages + 1 - legal, 0, 1)


def step(pop: np.ndarray, demo: Demography, year: int) -> np.ndarray:
    """The population at the end of ``year`` from the one at the end of ``year − 1`` ([group, sex, age])."""
    survivors = pop * (1 - demo.death_q)[None, :, :]
    births = demo.fertility * pop[:, 1, FERTILE].sum()
    out = np.zeros_like(pop)
    out[:, :, 1:] = survivors[:, :, :-1]
    out[:, :, -1] += survivors[:, :, -1]
    out[RESIDENT, 0, 0] += births * demo.sex_ratio_at_birth / (1 + demo.sex_ratio_at_birth)
    out[RESIDENT, 1, 0] += births / (1 + demo.sex_ratio_at_birth)
    out *= 1 + demo.net_migration_rate
    for s, sex in enumerate(SEXES):
        moved = out[ACTIVE, s] * retiring_share(demo.retirement[sex], year)
        out[ACTIVE, s] -= moved
        out[RETIRED, s] += moved
    flows = np.zeros_like(out)
    for sw in demo.switches:
        ages = slice(sw.from_age, sw.to_age + 1)
        moved = out[sw.origin, :, ages] * sw.rate
        flows[sw.origin, :, ages] -= moved
        flows[sw.to, :, ages] += moved
    return out + flows


def project_population(pop: np.ndarray, demo: Demography, base_year: int, years: int) -> np.ndarray:
    """The population at the end of each of the ``years`` after ``base_year``: [year, group, sex, age]."""
    if pop.shape != (len(GROUPS), len(SEXES), AGES):
        raise ValidationError("population", f"shape {pop.shape}: expected (3, 2, {AGES})", "projection")
    out = []
    for t in range(1, years + 1):
        pop = step(pop, demo, base_year + t)
        out.append(pop)
    return np.stack(out)


def gompertz_q(deaths: np.ndarray, exposure: np.ndarray, slope: float) -> np.ndarray:
    """Death probabilities [sex, age] from a Gompertz hazard A·e^(slope·age) whose level A is the maximum
    likelihood (Poisson) fit to the observed ``deaths`` over the ``exposure`` (person-years), per sex."""
    ages = np.arange(AGES)
    shape = np.exp(slope * ages)
    q = np.zeros((2, AGES))
    for s in range(2):
        weighted = (exposure[s] * shape).sum()
        if weighted <= 0:
            raise ValidationError("persons", f"no person-years of sex {SEXES[s]}: mortality cannot be fitted",
                                  "demography")
        q[s] = -np.expm1(-np.minimum(deaths[s].sum() / weighted * shape, 50))
    return q


__all__ = ["AGES", "Demography", "GROUPS", "GROUP_NAMES", "RetirementRule", "Switch", "gompertz_q", "legal_age",
           "project_population", "retiring_share", "step"]
