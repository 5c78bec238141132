import pytest

from yibao.errors import ValidationError
from yibao.fund.backtest import backtest, mean_abs_error, national_series, project


def test_series_holds_the_published_figures():
    s = national_series()
    assert sorted(s) == [2021, 2022, 2023, 2024, 2025]
    assert s[2024]["resident_income"] == 11180.91 and s[2025]["retired"] == 10793.80


def test_two_fitted_years_grow_resident_income_by_its_own_ratio():
    # fit on 2021–2022: enrolment × per-capita income, each at its 2021→2022 ratio, so 2023 income is
    # 10128.90 × 10128.90 / 9724.48 = 10550.14 亿元 against the published 10569.71 (−0.19%)
    miss = next(m for m in backtest() if (m.fit_until, m.year, m.scheme, m.figure) == (2022, 2023, "resident", "income"))
    assert miss.forecast == pytest.approx(10128.90 ** 2 / 9724.48)
    assert miss.actual == 10569.71
    assert miss.error_pct == pytest.approx((10128.90 ** 2 / 9724.48 - 10569.71) / 10569.71 * 100)


def steady(years, growth):
    out = {}
    for t, y in enumerate(years):
        g = (1 + growth) ** t
        out[y] = {"active": 100 * g, "retired": 50 * g, "resident": 200 * g,
                  "employee_income": 1000 * g * g, "employee_spending": (100 + 3.3 * 50) * 2 * g * g,
                  "resident_income": 400 * g * g, "resident_spending": 300 * g * g, "resident_balance": None}
    return out


def test_a_steadily_growing_series_is_forecast_without_error():
    misses = backtest(steady(range(2021, 2026), 0.1))
    assert misses and all(abs(m.error_pct) < 1e-9 for m in misses)
    assert {m.figure for m in misses} == {"income", "spending", "surplus"}  # no balance published


def test_errors_by_horizon_cover_every_cut_off():
    errors = mean_abs_error(backtest())
    assert {h for (_, _, h) in errors} == {1, 2, 3}
    assert ("resident", "balance", 2) in errors and ("resident", "balance", 3) not in errors


def test_a_cut_off_outside_the_series_is_refused():
    with pytest.raises(ValidationError, match="2019 is not in the series"):
        project(national_series(), 2019, 2)
    with pytest.raises(ValidationError, match="two years or more"):
        project(national_series(), 2021, 2)
