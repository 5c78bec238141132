import datetime as dt

import pytest

from yibao.errors import ValidationError
from yibao.fund.budget import scheme_budget
from yibao.policy.pack import load_pack

# demo 2025: pools drg_dip 0.75, per_diem 0.06, capitation 0.08, other 0.11; growth 5%; min surplus 0; IBNR in
PARAMS = load_pack("demo").at(dt.date(2025, 12, 31))


def test_budget_within_income_takes_the_forecast_and_the_ibnr_split_into_pools():
    b = scheme_budget("310", 2026, 1_000_000, 800_000, 1_100_000, 900_000, 50_001, PARAMS)
    assert b.ceiling_fen == 1_100_000 and b.need_fen == 950_001 and b.spending_fen == 950_001 and b.gap_fen == 0
    assert b.pools == {"drg_dip": 712_501, "per_diem": 57_000, "capitation": 76_000, "other": 104_500}
    assert sum(b.pools.values()) == b.spending_fen
    assert b.payment_rule_fen == 840_000  # this year's 800,000 grown 5%


def test_a_need_above_income_is_capped_and_the_gap_named():
    b = scheme_budget("390", 2026, 1_000_000, 1_050_000, 1_000_000, 1_080_000, 20_000, PARAMS)
    assert b.spending_fen == 1_000_000 and b.gap_fen == 100_000


def test_min_surplus_rate_lowers_the_ceiling():
    reform = load_pack("demo").reform({"fund.budget.min_surplus_rate": {"2025-01-01": 0.03}}, ref="test").at(dt.date(2025, 12, 31))
    b = scheme_budget("310", 2026, 0, 0, 1_000_001, 2_000_000, 0, reform)
    assert b.ceiling_fen == 970_001  # 1,000,001 × 0.97 = 970,000.97 → half up
    assert b.gap_fen == 2_000_000 - 970_001


def test_without_ibnr_reserving_the_need_is_the_forecast():
    reform = load_pack("demo").reform({"fund.budget.reserve_ibnr": {"2025-01-01": False}}, ref="test").at(dt.date(2025, 12, 31))
    assert scheme_budget("310", 2026, 0, 0, 100, 50, 30, reform).spending_fen == 50


def test_negative_figures_are_refused():
    with pytest.raises(ValidationError, match="scheme 310 2026: ibnr: negative"):
        scheme_budget("310", 2026, 0, 0, 100, 50, -1, PARAMS)
