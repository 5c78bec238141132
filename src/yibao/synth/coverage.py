"""What people chose and held at the start of the year: 居民缴费档次, voluntary supplementary cover
(惠民保), employers' 企业补充医疗保险 and opening 个人账户 balances.

Drawn after the population from streams of their own (seed, 4) and (seed, 5), so adding them left
every other table of a seed unchanged. Rates are ``coverage.*`` in ``data/calibration.yaml``:

* ``tier`` — residents (anyone with a 390 spell in the year) draw 一档/二档/三档 from the configured
  shares; 医疗救助 identity holders (资助参保) are put in 一档; everybody else, and every person of a
  single-tier region (no shares), has tier 0;
* ``supplementary`` — each person joins each voluntary tier with its take-up rate, independently;
* ``has_supplementary`` — enterprises (not the public-sector industries) run 企业补充医疗保险 with a
  chance ∝ √headcount, scaled to the configured mean share;
* opening balances — a 职工 with a 310 spell that began before 1 January holds
  ``scale × annual accrual × years insured × exp(−slope × frailty)``: the accruals of the years on the
  spell, less what a person of that propensity to use care spent; ``scale`` makes the region's stock
  equal ``account_stock_years`` years of accrual (the national ratio). Persons without such a spell
  have no row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao import vocab
from yibao.synth import data
from yibao.synth.config import SynthConfig
from yibao.synth.population import Population, day


def coverage_tables(cfg: SynthConfig, pop: Population, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """``employers`` with ``has_supplementary``, and the new ``coverage_choices`` and ``account_balances``."""
    rng = np.random.default_rng([cfg.seed, 4])
    enr = tables["enrollments"]
    person = pc.index_in(enr["psn_no"], value_set=pop.psn_no).to_numpy(zero_copy_only=False)
    insutype = enr["insutype"].to_numpy(zero_copy_only=False)
    return {
        "employers": with_supplementary(cfg, tables["employers"], np.random.default_rng([cfg.seed, 5])),
        "coverage_choices": coverage_choices(cfg, pop, rng, person[insutype == vocab.RESIDENT]),
        "account_balances": opening_balances(cfg, pop, enr, person),
    }


def coverage_choices(cfg: SynthConfig, pop: Population, rng: np.random.Generator,
                     residents: np.ndarray) -> pa.Table:
    """One row per person: the year's 居民缴费档次 and the '|'-joined voluntary tiers joined (null: none)."""
    n = pop.n
    tier = np.zeros(n, dtype=np.int8)
    if cfg.tier_shares:
        tiers = np.array(sorted(int(t) for t in cfg.tier_shares), dtype=np.int8)
        p = np.array([cfg.tier_shares[t] for t in sorted(cfg.tier_shares, key=int)], dtype=float)
        drawn = tiers[rng.choice(len(tiers), size=n, p=p / p.sum())]
        resident = np.zeros(n, dtype=bool)
        resident[residents] = True
        tier = np.where(resident, np.where(pop.identity, tiers[0], drawn), 0).astype(np.int8)
    joined = np.full(n, "", dtype=object)
    for name, rate in cfg.supplementary_takeup.items():
        hit = rng.random(n) < rate
        joined[hit] = np.where(joined[hit] == "", name, joined[hit] + "|" + name)
    return pa.table({
        "psn_no": pop.psn_no, "year": pa.array(np.full(n, cfg.year, dtype=np.int16)), "tier": pa.array(tier),
        "supplementary": pa.array(np.where(joined == "", None, joined), pa.string(), from_pandas=True),
    })


def with_supplementary(cfg: SynthConfig, employers: pa.Table, rng: np.random.Generator) -> pa.Table:
    """``employers`` plus ``has_supplementary`` (企业补充医疗保险): enterprises only, more likely when large."""
    public = set(data.names()["public_sector"])
    enterprise = ~np.isin(employers["industry"].to_numpy(zero_copy_only=False), list(public))
    weight = np.sqrt(employers["headcount"].to_numpy().astype(float)) * enterprise
    mean = weight[enterprise].mean() if enterprise.any() else 1.0
    p = np.minimum(0.9, cfg.employer_supplementary_share * weight / mean)
    has = rng.random(len(p)) < p
    return employers.append_column("has_supplementary", pa.array(has))


def opening_balances(cfg: SynthConfig, pop: Population, enr: pa.Table, person: np.ndarray) -> pa.Table:
    """个人账户 balance (fen) at 1 January of every 职工 whose 310 spell began before the year."""
    y0 = day(dt.date(cfg.year, 1, 1))
    start = enr["start_date"].cast(pa.int32()).to_numpy()
    end = enr["end_date"].cast(pa.int32()).fill_null(np.iinfo(np.int32).max).to_numpy()
    held = (enr["insutype"].to_numpy(zero_copy_only=False) == vocab.EMPLOYEE) & (start < y0) & (end >= y0)
    idx = np.flatnonzero(held)
    idx = idx[np.unique(person[idx], return_index=True)[1]]  # one spell per person
    who = person[idx]
    retired = np.isin(enr["psn_type"].to_numpy(zero_copy_only=False)[idx], list(vocab.RETIRED_PSN_TYPES))
    base = enr["contribution_base_fen"].fill_null(0).to_numpy()[idx].astype(float)
    monthly = np.where(retired, data.target("coverage.account_retiree_monthly_yuan") * 100,
                       base * data.target("coverage.account_active_share"))
    years = (y0 - start[idx]) / 365.25
    raw = 12 * monthly * years * np.exp(-data.target("coverage.account_spend_slope") * pop.frailty[who].astype(float))
    scale = data.target("coverage.account_stock_years") * 12 * monthly.sum() / raw.sum() if raw.sum() > 0 else 0.0
    return pa.table({
        "psn_no": pop.psn_no.take(pa.array(who)), "year": pa.array(np.full(len(who), cfg.year, dtype=np.int16)),
        "balance_fen": pa.array(np.rint(raw * scale).astype(np.int64)),
    })


__all__ = ["coverage_choices", "coverage_tables", "opening_balances", "with_supplementary"]
