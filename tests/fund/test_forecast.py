import datetime as dt

import numpy as np
import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.fund.forecast import BANDS, Rates, by_band, flows, forecast, measure_base_year, per_capita
from yibao.fund.population import (ACTIVE, AGES, RESIDENT, RETIRED, Demography, RetirementRule, Switch, legal_age,
                                   project_population, retiring_share)
from yibao.policy.pack import load_pack

PARAMS = load_pack("demo").at(dt.date(2025, 12, 31))
AT_SIXTY = RetirementRule("1", 60, 60, 4, 2025)  # no delay: retire at 60 exactly


def two_age_groups():
    """1,000 men in service aged 30 and 500 aged 59; deaths 1% at 30 and 2% at 59, none elsewhere; no women."""
    pop = np.zeros((3, 2, AGES))
    pop[ACTIVE, 0, 30], pop[ACTIVE, 0, 59] = 1000, 500
    q = np.zeros((2, AGES))
    q[0, 30], q[0, 59] = 0.01, 0.02
    demo = Demography(q, fertility=0.05, sex_ratio_at_birth=1.0, net_migration_rate=0.0,
                      retirement={"1": AT_SIXTY, "2": AT_SIXTY},
                      switches=(Switch(ACTIVE, RESIDENT, 18, 54, 0.1),))
    return pop, demo


def test_two_age_groups_projected_by_hand():
    pop, demo = two_age_groups()
    got = project_population(pop, demo, 2025, 2)
    # 2026: 990 survive to 31, 10% of them switch to 居民 (891 / 99); 490 survive to 60 and retire
    y1 = got[0]
    assert y1[ACTIVE, 0, 31] == pytest.approx(891) and y1[RESIDENT, 0, 31] == pytest.approx(99)
    assert y1[RETIRED, 0, 60] == pytest.approx(490) and y1[ACTIVE, 0, 60] == 0
    assert y1.sum() == pytest.approx(1480)  # no women: no births
    # 2027: no deaths at 31 or 60; another 10% of 891 switch (801.9 / 188.1); the retirees are 61
    y2 = got[1]
    assert y2[ACTIVE, 0, 32] == pytest.approx(801.9) and y2[RESIDENT, 0, 32] == pytest.approx(188.1)
    assert y2[RETIRED, 0, 61] == pytest.approx(490)


def test_births_join_residents_at_age_zero_by_the_sex_ratio():
    pop, demo = two_age_groups()
    pop[RESIDENT, 1, 20] = 200  # 200 women of 20: 0.05 × 200 = 10 births, half boys at a ratio of 1
    y1 = project_population(pop, demo, 2025, 1)[0]
    assert y1[RESIDENT, 0, 0] == pytest.approx(5) and y1[RESIDENT, 1, 0] == pytest.approx(5)


def test_delayed_retirement_by_the_2024_decision():
    men = RetirementRule("1", 60, 63, 4, 2025)
    assert legal_age(men, 1964) == 60  # reached 60 in 2024: no delay
    assert legal_age(men, 1965) == pytest.approx(60 + 2 / 12)  # 2025: months 1,1,1,1,2,2,2,2,3,3,3,3
    assert legal_age(men, 1980) == 63
    # end of 2026, aged 60 means born 1966: legal age 60 + 5/12, so 7/12 of the cohort is past it
    assert retiring_share(men, 2026)[59:62].tolist() == pytest.approx([0, 7 / 12, 1])


def test_flows_of_the_hand_projection():
    pop, demo = two_age_groups()
    bands = by_band(project_population(pop, demo, 2025, 1))
    pc = {k: np.zeros((3, 2, BANDS)) for k in ("inpatient_fen", "outpatient_fen", "income_fen")}
    pc["inpatient_fen"][ACTIVE], pc["inpatient_fen"][RETIRED], pc["inpatient_fen"][RESIDENT] = 100, 400, 50
    pc["income_fen"][ACTIVE], pc["income_fen"][RETIRED], pc["income_fen"][RESIDENT] = 300, -20, 80
    out = flows(bands, pc, Rates({"inpatient": 0.1, "outpatient": 0.0}, {"310": 0.05, "390": 0.0}))
    income, spending = out["310"][:, 0]
    assert spending == pytest.approx((891 * 100 + 490 * 400) * 1.1)
    assert income == pytest.approx((891 * 300 - 490 * 20) * 1.05)
    assert out["390"][:, 0].tolist() == pytest.approx([99 * 80, 99 * 50 * 1.1])


def frames():
    persons = pd.DataFrame({"psn_no": ["A", "B", "C", "D"], "sex": ["2", "2", "1", "2"],
                            "birth_date": ["1990-05-01", "1955-01-01", "2000-03-03", "2025-06-01"],
                            "death_date": [None, None, "2025-07-01", None]})
    enrollments = pd.DataFrame({"psn_no": ["A", "B", "C", "D"], "insutype": ["310", "310", "390", "390"],
                                "psn_type": ["11", "12", "15", "1401"],
                                "start_date": ["2020-01-01", "2015-01-01", "2018-01-01", "2025-06-01"],
                                "end_date": [None, None, None, None]})
    statements = pd.DataFrame({"claim_id": ["1", "2", "3", "4"], "psn_no": ["A", "B", "B", "C"],
                               "insutype": ["310", "310", "310", "390"], "psn_type": ["11", "12", "12", "15"],
                               "med_type": ["11", "2101", "11", "2101"], "hifp_pay": [1000, 50000, 3000, 20000],
                               "hifmi_pay": [0, 0, 0, 5000]})
    contributions = pd.DataFrame({"psn_no": ["A", "C", "D"], "year": [2025] * 3, "insutype": ["310", "390", "390"],
                                  "employer_fen": [60000, 0, 0], "individual_fen": [15000, 40000, 40000],
                                  "subsidy_fen": [0, 67000, 67000], "sponsored_fen": [0, 0, 0]})
    accruals = pd.DataFrame({"psn_no": ["A", "B"], "month": [1, 1], "amount_fen": [12000, 10000]})
    return persons, enrollments, statements, contributions, accruals


def test_base_year_measures_person_years_money_and_the_year_end_population():
    base = measure_base_year(*frames(), 2025)
    rows = base.rows.set_index("psn_no")
    assert rows.loc["A", "income_fen"] == 75000 - 12000 and rows.loc["B", "income_fen"] == -10000
    assert rows.loc["B", "inpatient_fen"] == 50000 and rows.loc["B", "outpatient_fen"] == 3000
    assert rows.loc["C", "inpatient_fen"] == 25000  # 居民: 统筹 + 大病
    assert rows.loc["C", "years"] == pytest.approx(182 / 365)  # died 1 July
    assert rows.loc["D", "years"] == pytest.approx(214 / 365)  # born 1 June
    assert base.population.sum() == 3 and base.population[RETIRED, 1, 70] == 1 and base.population[RESIDENT, 1, 0] == 1
    assert base.deaths[0, 25] == 1 and base.births == 1
    pc = per_capita(base.rows)
    assert pc["inpatient_fen"][RESIDENT, 0, 5] == pytest.approx(25000 / (182 / 365))
    # no 居民 man in other bands: the nearest measured band stands in
    assert pc["inpatient_fen"][RESIDENT, 0, 12] == pc["inpatient_fen"][RESIDENT, 0, 5]
    assert pc["income_fen"][ACTIVE, 1, 7] == 63000
    assert base.fertility() == pytest.approx(1 / 1)  # one birth, one woman of 35 all year


def test_money_of_a_person_without_a_spell_is_refused():
    persons, enrollments, statements, contributions, accruals = frames()
    contributions.loc[0, "psn_no"] = "B"
    contributions.loc[0, "insutype"] = "390"
    with pytest.raises(ValidationError, match="person B.*without an enrolment spell"):
        measure_base_year(persons, enrollments, statements, contributions, accruals, 2025)


@pytest.mark.parametrize("years, scenario, says", [(4, "central", "horizon is 5–10"), (11, "central", "5–10"),
                                                    (5, "medium", "expected one of low, central, high")])
def test_horizon_and_scenario_out_of_range_are_named(years, scenario, says):
    base = measure_base_year(*frames(), 2025)
    with pytest.raises(ValidationError, match=says):
        forecast(base, PARAMS, years, scenarios=(scenario,), bootstrap=5)


def test_forecast_frame_has_every_year_scheme_and_a_band_around_the_central_figure():
    base = measure_base_year(*frames(), 2025)
    out = forecast(base, PARAMS, 5, opening={"310": 100_000, "390": 0}, bootstrap=50)
    assert len(out) == 3 * 2 * 5 and out["year"].min() == 2026 and out["year"].max() == 2030
    central = out[out["scenario"] == "central"]
    assert (central["spending_p05_fen"] <= central["spending_fen"]).all()
    assert (central["spending_fen"] <= central["spending_p95_fen"]).all()
    emp = central[central["insutype"] == "310"]
    assert emp["balance_fen"].iloc[0] == 100_000 + emp["surplus_fen"].iloc[0]
    low, high = (out[(out["scenario"] == s) & (out["insutype"] == "390")]["spending_fen"].iloc[-1] for s in ("low", "high"))
    assert low < high
