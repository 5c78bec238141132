"""Backtest of the fund forecast on the national 2021–2025 series (``data/national.yaml``).

The forecast's structure — insured persons per group × per-capita income and spending with a growth
rate — is fitted on the years up to a cut-off and run forward; each later year's forecast is set
beside the published figure. Fitted: the yearly growth of each group's enrolment (在职, 退休, 居民)
and of per-capita income and spending per scheme, as the least-squares slope of their logarithms.
职工 income is per 在职 person (retirees pay none: 社会保险法 第二十七条); 职工 spending is per
cost-weighted person, a retiree weighing :data:`RETIREE_WEIGHT` in-service persons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from yibao.errors import ValidationError

NATIONAL = Path(__file__).with_name("data") / "national.yaml"
GROUPS = ("active", "retired", "resident")
SCHEMES = {"employee": "职工", "resident": "居民"}
# 2025 职工 医疗机构费用 per person, 退休 ≈9614 元 vs 在职 ≈2881 元 (B25, derived in CALIBRATION.md §2)
RETIREE_WEIGHT = 3.3
FIGURES = ("income", "spending", "surplus", "balance")


@dataclass(frozen=True)
class Miss:
    """One forecast figure beside the published one (亿元)."""

    fit_until: int
    year: int
    scheme: str
    figure: str
    forecast: float
    actual: float

    @property
    def error_pct(self) -> float:
        return (self.forecast - self.actual) / abs(self.actual) * 100


def national_series(path: Path = NATIONAL) -> dict[int, dict]:
    """The national series by year (enrolment 万人, flows 亿元)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {int(y): row for y, row in data["series"].items()}


def _growth(years: list[int], values: list[float]) -> float:
    """Yearly growth rate: the least-squares slope of log(value) on the year."""
    if len(years) < 2:
        raise ValidationError("fit_until", f"{years}: a growth rate needs two years or more", "national series")
    return float(np.expm1(np.polyfit(years, np.log(values), 1)[0]))


def _per_capita(row: dict) -> dict[str, float]:
    weighted = row["active"] + RETIREE_WEIGHT * row["retired"]
    return {"employee_income": row["employee_income"] / row["active"],
            "employee_spending": row["employee_spending"] / weighted,
            "resident_income": row["resident_income"] / row["resident"],
            "resident_spending": row["resident_spending"] / row["resident"]}


def fit(series: dict[int, dict], fit_until: int) -> dict[str, float]:
    """Growth rates of enrolment per group and of per-capita flows, fitted on the years ≤ ``fit_until``."""
    years = [y for y in sorted(series) if y <= fit_until]
    rates = {g: _growth(years, [series[y][g] for y in years]) for g in GROUPS}
    per_capita = [_per_capita(series[y]) for y in years]
    rates |= {k: _growth(years, [p[k] for p in per_capita]) for k in per_capita[0]}
    return rates


def project(series: dict[int, dict], fit_until: int, years: int) -> dict[int, dict[str, float]]:
    """The scheme flows of the ``years`` after ``fit_until`` from the fitted rates (亿元)."""
    if fit_until not in series:
        raise ValidationError("fit_until", f"{fit_until} is not in the series ({min(series)}–{max(series)})",
                              "national series")
    rates, base = fit(series, fit_until), series[fit_until]
    per_capita = _per_capita(base)
    out, balance = {}, base["resident_balance"]
    for t in range(1, years + 1):
        pop = {g: base[g] * (1 + rates[g]) ** t for g in GROUPS}
        pc = {k: v * (1 + rates[k]) ** t for k, v in per_capita.items()}
        row = {"employee_income": pop["active"] * pc["employee_income"],
               "employee_spending": (pop["active"] + RETIREE_WEIGHT * pop["retired"]) * pc["employee_spending"],
               "resident_income": pop["resident"] * pc["resident_income"],
               "resident_spending": pop["resident"] * pc["resident_spending"]}
        balance = None if balance is None else balance + row["resident_income"] - row["resident_spending"]
        out[fit_until + t] = row | {"resident_balance": balance}
    return out


def _figures(row: dict, scheme: str) -> dict[str, float | None]:
    income, spending = row[f"{scheme}_income"], row[f"{scheme}_spending"]
    return {"income": income, "spending": spending, "surplus": income - spending,
            "balance": row.get(f"{scheme}_balance")}


def backtest(series: dict[int, dict] | None = None, first_cut: int = 2022) -> list[Miss]:
    """Every cut-off from ``first_cut`` to the year before the last: each later year's forecast against
    the published figure, per scheme and figure (those the series publishes)."""
    series = national_series() if series is None else series
    last = max(series)
    misses = []
    for cut in range(first_cut, last):
        for year, row in project(series, cut, last - cut).items():
            for scheme in SCHEMES:
                got, actual = _figures(row, scheme), _figures(series[year], scheme)
                misses += [Miss(cut, year, scheme, f, got[f], actual[f]) for f in FIGURES
                           if got[f] is not None and actual[f] is not None]
    return misses


def mean_abs_error(misses: list[Miss]) -> dict[tuple[str, str, int], float]:
    """Mean |% error| per scheme, figure and horizon (years after the cut-off)."""
    groups: dict[tuple[str, str, int], list[float]] = {}
    for m in misses:
        groups.setdefault((m.scheme, m.figure, m.year - m.fit_until), []).append(abs(m.error_pct))
    return {k: sum(v) / len(v) for k, v in sorted(groups.items())}


__all__ = ["Miss", "backtest", "fit", "mean_abs_error", "national_series", "project"]
