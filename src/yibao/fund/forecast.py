"""The fund's actuarial forecast (基金精算预测): the insured population projected cohort by cohort
(:mod:`yibao.fund.population`) × per-capita income and spending by 5-year age band, sex, group and care
type (inpatient / outpatient), measured from a lake's settled year and grown at the pack's scenario
rates (``fund.forecast``) → income, spending and balance of each scheme's pooling fund for 5–10 years.

The pooling funds are those the risk warning watches (:mod:`yibao.fund.warning`): 职工 — 职工统筹
(contributions less the 个人账户 accruals; spending ``hifp_pay``); 居民 — 居民统筹 with the 大病保险 it
finances (fees, subsidies and 资助; spending ``hifp_pay + hifmi_pay``).

Uncertainty: the scenarios (low / central / high growth) give the spread of growth; the band of each
scenario (5th–95th percentile) is a Poisson bootstrap of the base year's persons — the sampling error of
the measured per-capita figures, population and rates held fixed. A cell the base year has no
person-years in (在职 past today's retirement age, for one) takes the nearest age band of its group and sex.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError
from yibao.fund.population import (ACTIVE, AGES, GROUP_NAMES, GROUPS, RESIDENT, RETIRED, SEXES, Demography,
                                   RetirementRule, Switch, gompertz_q, project_population)

SCENARIOS = ("low", "central", "high")
CARES = ("inpatient", "outpatient")
HORIZON = range(5, 11)
BANDS = AGES // 5 + 1  # 0–4 … 95–99, 100+
SCHEME_GROUPS = {vocab.EMPLOYEE: (ACTIVE, RETIRED), vocab.RESIDENT: (RESIDENT,)}
POOL_PAID = {vocab.EMPLOYEE: ("hifp_pay",), vocab.RESIDENT: ("hifp_pay", "hifmi_pay")}
CONTRIBUTED = ("employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen")
BOOTSTRAP = 200


def band_of(age: np.ndarray) -> np.ndarray:
    return np.minimum(np.asarray(age) // 5, BANDS - 1)


@dataclass(frozen=True)
class BaseYear:
    """A settled year measured for the forecast: the population at 31 December [group, sex, age], deaths
    and person-years [sex, age], births; and one row per person and group with its cell (group, sex, age
    at year end), person-years and money (fen) — the rows the per-capita figures and the bootstrap sum."""

    year: int
    population: np.ndarray
    deaths: np.ndarray
    person_years: np.ndarray
    births: int
    rows: pd.DataFrame

    def fertility(self) -> float:
        women = self.person_years[1, 15:50].sum()
        if women <= 0:
            raise ValidationError("persons", "no women aged 15–49: fertility cannot be measured", f"year {self.year}")
        return self.births / women


def _group(insutype: pd.Series, psn_type: pd.Series) -> np.ndarray:
    retired = psn_type.isin(vocab.RETIRED_PSN_TYPES).to_numpy()
    return np.where(insutype.to_numpy() == vocab.RESIDENT, RESIDENT, np.where(retired, RETIRED, ACTIVE))


def _dates(s: pd.Series, default: dt.date) -> pd.Series:
    return pd.to_datetime(s).fillna(pd.Timestamp(default))


def _spells(persons: pd.DataFrame, enrollments: pd.DataFrame, year: int) -> pd.DataFrame:
    """Person-years per person and group in ``year`` (enrolment spells, ended by death)."""
    first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    e = enrollments.merge(persons[["psn_no", "death_date"]], on="psn_no", how="left", validate="many_to_one")
    start = _dates(e["start_date"], first.date()).clip(lower=first)
    end = pd.concat([_dates(e["end_date"], last.date()), _dates(e["death_date"], last.date())], axis=1).min(axis=1)
    end = end.clip(upper=last)
    days = ((end - start).dt.days + 1).clip(lower=0)
    out = pd.DataFrame({"psn_no": e["psn_no"], "group": _group(e["insutype"], e["psn_type"]),
                        "years": days / ((last - first).days + 1), "at_end": (end == last) & (days > 0)})
    return out[out["years"] > 0].groupby(["psn_no", "group"], as_index=False).agg(years=("years", "sum"),
                                                                                   at_end=("at_end", "any"))


def _money(statements: pd.DataFrame, contributions: pd.DataFrame, accruals: pd.DataFrame,
           spells: pd.DataFrame, year: int) -> pd.DataFrame:
    """Pooling-fund money per person and group: spending by care type, income."""
    st = statements
    group = _group(st["insutype"], st["psn_type"])
    paid = np.zeros(len(st), dtype=np.int64)
    for insutype, fields in POOL_PAID.items():
        hit = (st["insutype"] == insutype).to_numpy()
        paid += hit * sum(st[f].to_numpy(dtype=np.int64) for f in fields)
    inpatient = st["med_type"].isin(vocab.INPATIENT_MED_TYPES).to_numpy()
    spend = pd.DataFrame({"psn_no": st["psn_no"].to_numpy(), "group": group,
                          "inpatient_fen": paid * inpatient, "outpatient_fen": paid * ~inpatient})
    # contributions and accruals go to the person's last group of that scheme in the year
    scheme_group = spells.assign(insutype=np.where(spells["group"] == RESIDENT, vocab.RESIDENT, vocab.EMPLOYEE))
    scheme_group = scheme_group.sort_values("at_end").groupby(["psn_no", "insutype"], as_index=False).last()
    due = contributions[contributions["year"].astype(int) == year]
    income = pd.DataFrame({"psn_no": due["psn_no"].to_numpy(), "insutype": due["insutype"].to_numpy(),
                           "income_fen": due[list(CONTRIBUTED)].sum(axis=1).to_numpy(dtype=np.int64)})
    accrued = accruals.groupby("psn_no", as_index=False)["amount_fen"].sum()
    income = pd.concat([income, pd.DataFrame({"psn_no": accrued["psn_no"], "insutype": vocab.EMPLOYEE,
                                              "income_fen": -accrued["amount_fen"].astype(np.int64)})])
    income = income.merge(scheme_group[["psn_no", "insutype", "group"]], on=["psn_no", "insutype"], how="left")
    if income["group"].isna().any():
        bad = income[income["group"].isna()].iloc[0]
        raise ValidationError("psn_no", f"contributions or accruals of {bad['insutype']} in {year} without an "
                              "enrolment spell in that year", f"person {bad['psn_no']}")
    income["group"] = income["group"].astype(int)
    both = pd.concat([spend, income.drop(columns="insutype")], ignore_index=True).fillna(0)
    cols = ["inpatient_fen", "outpatient_fen", "income_fen"]
    return both.groupby(["psn_no", "group"], as_index=False)[cols].sum().astype({c: np.int64 for c in cols})


def measure_base_year(persons: pd.DataFrame, enrollments: pd.DataFrame, statements: pd.DataFrame,
                      contributions: pd.DataFrame, accruals: pd.DataFrame, year: int) -> BaseYear:
    """The base year of the forecast from the registry and the settled rows (pure: frames in)."""
    spells = _spells(persons, enrollments, year)
    money = _money(statements, contributions, accruals, spells, year)
    rows = spells.merge(money, on=["psn_no", "group"], how="outer").fillna(
        {"years": 0.0, "at_end": False, "inpatient_fen": 0, "outpatient_fen": 0, "income_fen": 0})
    who = persons.set_index("psn_no")
    missing = ~rows["psn_no"].isin(who.index)
    if missing.any():
        raise ValidationError("psn_no", "settled or enrolled but not in persons", f"person {rows.loc[missing, 'psn_no'].iloc[0]}")
    birth = pd.to_datetime(who.loc[rows["psn_no"], "birth_date"]).dt.year.to_numpy()
    sex = who.loc[rows["psn_no"], "sex"].astype(str).to_numpy()
    if not np.isin(sex, SEXES).all():
        bad = rows["psn_no"].to_numpy()[~np.isin(sex, SEXES)][0]
        raise ValidationError("sex", f"{who.loc[bad, 'sex']!r} is neither 1 nor 2", f"person {bad}")
    rows = rows.assign(sex=(sex == "2").astype(int), age=np.clip(year - birth, 0, AGES - 1))
    population = np.zeros((len(GROUPS), 2, AGES))
    end = rows[rows["at_end"].astype(bool)]
    np.add.at(population, (end["group"].to_numpy(int), end["sex"].to_numpy(), end["age"].to_numpy()), 1)
    person_years = np.zeros((2, AGES))
    np.add.at(person_years, (rows["sex"].to_numpy(), rows["age"].to_numpy()), rows["years"].to_numpy())
    died = pd.to_datetime(persons["death_date"]).dt.year == year
    dead = persons[died.to_numpy()]
    deaths = np.zeros((2, AGES))
    np.add.at(deaths, ((dead["sex"].astype(str) == "2").to_numpy(int),
                       np.clip(year - pd.to_datetime(dead["birth_date"]).dt.year.to_numpy(), 0, AGES - 1)), 1)
    births = int((pd.to_datetime(persons["birth_date"]).dt.year == year).sum())
    return BaseYear(year, population, deaths, person_years, births, rows)


def per_capita(rows: pd.DataFrame, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per person-year money [group, sex, band] by care type and income; ``weights`` per row (bootstrap).
    A cell without person-years takes the nearest band of its group and sex (NaN if the group and sex
    have none)."""
    w = np.ones(len(rows)) if weights is None else weights
    cell = (rows["group"].to_numpy(int) * 2 + rows["sex"].to_numpy(int)) * BANDS + band_of(rows["age"].to_numpy(int))
    size = len(GROUPS) * 2 * BANDS
    years = np.bincount(cell, weights=w * rows["years"].to_numpy(float), minlength=size)
    out = {}
    for name in ("inpatient_fen", "outpatient_fen", "income_fen"):
        money = np.bincount(cell, weights=w * rows[name].to_numpy(float), minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = _nearest_band(np.where(years > 0, money / years, np.nan).reshape(len(GROUPS), 2, BANDS))
    return out


def _nearest_band(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    bands = np.arange(BANDS)
    for g in range(values.shape[0]):
        for s in range(2):
            known = bands[~np.isnan(values[g, s])]
            if len(known):
                nearest = known[np.abs(bands[:, None] - known[None, :]).argmin(axis=1)]
                out[g, s] = values[g, s, nearest]
    return out


@dataclass(frozen=True)
class Rates:
    cost_growth: dict[str, float]  # care → rate
    income_growth: dict[str, float]  # insutype → rate


def scenario_rates(params, scenario: str) -> Rates:
    if scenario not in SCENARIOS:
        raise ValidationError("--scenario", f"{scenario!r}: expected one of {', '.join(SCENARIOS)}", "forecast")
    cost = {r["care"]: float(r["rate"]) for r in params["fund.forecast.cost_growth"] if r["scenario"] == scenario}
    income = {r["insutype"]: float(r["rate"]) for r in params["fund.forecast.income_growth"]
              if r["scenario"] == scenario}
    for name, got, need in (("cost_growth", cost, CARES), ("income_growth", income, tuple(SCHEME_GROUPS))):
        missing = [k for k in need if k not in got]
        if missing:
            raise ValidationError(f"fund.forecast.{name}", f"no {scenario} rate for {', '.join(missing)}",
                                  f"pack {params.pack.name}")
    return Rates(cost, income)


def demography(base: BaseYear, params) -> Demography:
    """The base year's measured mortality and fertility with the pack's retirement, switch and migration."""
    rules = {r["sex"]: RetirementRule(r["sex"], r["base_age"], r["target_age"], r["step_months"], r["from_year"])
             for r in params["fund.forecast.retirement"]}
    index = {g: i for i, g in enumerate(GROUPS)}
    switches = tuple(Switch(index[r["origin"]], index[r["to"]], r["from_age"], r["to_age"], float(r["rate"]))
                     for r in params["fund.forecast.switches"])
    return Demography(gompertz_q(base.deaths, base.person_years, float(params["fund.forecast.mortality_slope"])),
                      base.fertility(), float(params["fund.forecast.sex_ratio_at_birth"]),
                      float(params["fund.forecast.net_migration_rate"]), rules, switches)


def by_band(populations: np.ndarray) -> np.ndarray:
    """[year, group, sex, age] → [year, group, sex, band]."""
    out = np.zeros(populations.shape[:3] + (BANDS,))
    np.add.at(out, (slice(None), slice(None), slice(None), band_of(np.arange(AGES))), populations)
    return out


def flows(bands: np.ndarray, pc: dict[str, np.ndarray], rates: Rates) -> dict[str, np.ndarray]:
    """Income and spending per scheme and year (fen, float) from the banded population and per-capita money.
    ``pc`` arrays may carry a leading bootstrap axis."""
    t = np.arange(1, bands.shape[0] + 1)
    out = {}
    for insutype, groups in SCHEME_GROUPS.items():
        g = list(groups)
        spending = sum(np.einsum("tgsb,...gsb->...t", bands[:, g], np.nan_to_num(pc[f"{care}_fen"][..., g, :, :]))
                       * (1 + rates.cost_growth[care]) ** t for care in CARES)
        income = (np.einsum("tgsb,...gsb->...t", bands[:, g], np.nan_to_num(pc["income_fen"][..., g, :, :]))
                  * (1 + rates.income_growth[insutype]) ** t)
        out[insutype] = np.stack([income, spending])
    return out


def _check_measured(bands: np.ndarray, pc: dict[str, np.ndarray]) -> None:
    for name, values in pc.items():
        gap = np.isnan(values) & (bands.sum(axis=0) > 0)
        if gap.any():
            g, s, _ = (int(x[0]) for x in np.nonzero(gap))
            raise ValidationError(name, f"the settled year has no {GROUP_NAMES[GROUPS[g]]} of sex {SEXES[s]} to "
                                  "measure per-capita money on, yet the projection has such persons", "base year")


def forecast(base: BaseYear, params, years: int, scenarios=SCENARIOS, opening: dict[str, int] | None = None,
             seed: int = 0, bootstrap: int = BOOTSTRAP) -> pd.DataFrame:
    """``years`` (5–10) of income, spending and balance per scenario and scheme, with the bootstrap band.
    Money in fen (rounded: a forecast is an estimate); without ``opening`` the balance starts at 0."""
    if years not in HORIZON:
        raise ValidationError("--years", f"{years}: the projection horizon is {HORIZON.start}–{HORIZON.stop - 1} years",
                              "forecast")
    rates = {s: scenario_rates(params, s) for s in scenarios}
    pop = project_population(base.population, demography(base, params), base.year, years)
    bands = by_band(pop)
    pc = per_capita(base.rows)
    _check_measured(bands, pc)
    rng = np.random.default_rng(seed)
    weights = rng.poisson(1.0, (bootstrap, len(base.rows)))
    boot = [per_capita(base.rows, w) for w in weights]
    stacked = {k: np.stack([b[k] for b in boot]) for k in pc}
    out = []
    for scenario in scenarios:
        central, spread = flows(bands, pc, rates[scenario]), flows(bands, stacked, rates[scenario])
        for insutype in SCHEME_GROUPS:
            out.append(_scheme_rows(scenario, insutype, base.year, central[insutype], spread[insutype],
                                    (opening or {}).get(insutype, 0), pop, SCHEME_GROUPS[insutype]))
    return pd.concat(out, ignore_index=True)


def _scheme_rows(scenario, insutype, base_year, central, spread, opening_fen, pop, groups) -> pd.DataFrame:
    income, spending = central
    balance = opening_fen + np.cumsum(income - spending)
    boot_balance = opening_fen + np.cumsum(spread[0] - spread[1], axis=-1)
    fen = lambda a: np.rint(a).astype(np.int64)  # noqa: E731
    return pd.DataFrame({
        "scenario": scenario, "year": base_year + np.arange(1, len(income) + 1), "insutype": insutype,
        "insured": pop[:, list(groups)].sum(axis=(1, 2, 3)).round().astype(np.int64),
        "income_fen": fen(income), "spending_fen": fen(spending), "surplus_fen": fen(income - spending),
        "balance_fen": fen(balance), "months_of_payment": balance * 12 / spending,
        "spending_p05_fen": fen(np.percentile(spread[1], 5, axis=0)),
        "spending_p95_fen": fen(np.percentile(spread[1], 95, axis=0)),
        "balance_p05_fen": fen(np.percentile(boot_balance, 5, axis=0)),
        "balance_p95_fen": fen(np.percentile(boot_balance, 95, axis=0)),
    })


def lake_base_year(folder, pack, statements: pd.DataFrame, year: int | None = None) -> BaseYear:
    """The base year of a lake: its settled year (``year``, if given, must be that year)."""
    from yibao.fund.accounts import lake_contributions, lake_year
    from yibao.lake.io import read_table
    from yibao.registry.accounts import account_accruals_for_year

    settled = lake_year(statements, folder)
    if year is not None and year != settled:
        raise ValidationError("--year", f"{year}: the lake holds the settled year {settled} only (its history "
                              "years hold inpatient stays, not a whole year)", f"lake {folder}")
    persons = read_table(folder, "persons").to_pandas()
    enrollments = read_table(folder, "enrollments").to_pandas()
    accruals = account_accruals_for_year(enrollments, persons, pack, settled)
    return measure_base_year(persons, enrollments, statements, lake_contributions(folder, pack, settled),
                             accruals, settled)


__all__ = ["BaseYear", "HORIZON", "SCENARIOS", "by_band", "demography", "flows", "forecast", "lake_base_year",
           "measure_base_year", "per_capita", "scenario_rates"]
