import datetime as dt

import numpy as np
import pandas as pd
import pytest

from yibao.errors import PolicyError, ValidationError
from yibao.fund.ibnr import chain_ladder, claim_kind, cumulate, lag_table, lake_triangle
from yibao.policy.pack import load_pack

# RAA (Mack 1994; R ChainLadder's RAA): cumulative, accident years 1981–1990
RAA = [[5012, 8269, 10907, 11805, 13539, 16181, 18009, 18608, 18662, 18834],
       [106, 4285, 5396, 10666, 13782, 15599, 15496, 16169, 16704],
       [3410, 8992, 13873, 16141, 18735, 22214, 22863, 23466],
       [5655, 11555, 15766, 21266, 23425, 26083, 27067],
       [1092, 9565, 15836, 22169, 25955, 26180],
       [1513, 6445, 11702, 12935, 15852],
       [557, 4020, 10946, 12314],
       [1351, 6947, 13112],
       [3133, 5395],
       [2063]]
# Taylor & Ashe (1983), the data of Mack (1993): cumulative
TAYLOR_ASHE = [[357848, 1124788, 1735330, 2218270, 2745596, 3319994, 3466336, 3606286, 3833515, 3901463],
               [352118, 1236139, 2170033, 3353322, 3799067, 4120063, 4647867, 4914039, 5339085],
               [290507, 1292306, 2218525, 3235179, 3985995, 4132918, 4628910, 4909315],
               [310608, 1418858, 2195047, 3757447, 4029929, 4381982, 4588268],
               [443160, 1136350, 2128333, 2897821, 3402672, 3873311],
               [396132, 1333217, 2180715, 2985752, 3691712],
               [440832, 1288463, 2419861, 3483130],
               [359480, 1421128, 2864498],
               [376686, 1363294],
               [344014]]


def triangle(rows):
    out = np.full((len(rows), len(rows[0])), np.nan)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def test_raa_reserves_and_mack_errors_to_the_unit():
    r = chain_ladder(triangle(RAA))
    assert np.round(r.reserve).astype(int).tolist() == [0, 154, 617, 1636, 2747, 3649, 5435, 10907, 10650, 16339]
    assert np.round(r.se).astype(int).tolist() == [0, 206, 623, 747, 1469, 2002, 2209, 5358, 6333, 24566]
    assert round(r.total_reserve) == 52135
    assert round(r.total_se) == 26909


def test_taylor_ashe_as_mack_1993():
    r = chain_ladder(triangle(TAYLOR_ASHE))
    assert round(r.total_reserve) == 18680856
    assert round(r.total_se) == 2447095
    # Mack (1993) Table: s.e. as a share of each year's reserve, 80% for the second year … 29% for the last
    assert [round(100 * s / x) for s, x in zip(r.se[1:], r.reserve[1:])] == [80, 26, 19, 27, 29, 26, 22, 23, 29]
    assert round(r.factors[0], 3) == 3.491


def test_a_triangle_with_a_gap_is_refused_naming_its_row():
    t = triangle(RAA)
    t[3, 1] = np.nan
    with pytest.raises(ValidationError, match="origin 3.*staircase"):
        chain_ladder(t)


def test_cumulate_keeps_unknown_cells_unknown():
    got = cumulate(np.array([[1, 2, 3], [4, 5, np.nan]]))
    assert got[0].tolist() == [1, 3, 6] and got[1, :2].tolist() == [4, 9] and np.isnan(got[1, 2])


LAGS = {"local_outpatient": np.array([1.0]), "local_inpatient": np.array([0.0, 1.0]),
        "remote_outpatient": np.array([0.0, 0.0, 1.0]), "remote_inpatient": np.array([0.0, 0.0, 0.0, 1.0])}


def test_lake_triangle_places_each_claim_at_its_month_and_delay():
    rows = pd.DataFrame({
        "dscg_date": ["2025-01-10", "2025-11-03", "2025-12-20", "2025-10-01"],
        "med_type": ["11", "2101", "11", "2101"],
        "out_of_region": [False, False, True, True],
        "fund_pay_sumamt": [100, 2000, 30, 700],
    })
    assert claim_kind(rows).tolist() == ["local_outpatient", "local_inpatient", "remote_outpatient",
                                          "remote_inpatient"]
    t = lake_triangle(rows, LAGS, 2025, seed=1)
    assert t.truth[0, 0] == 100 and t.truth[10, 1] == 2000 and t.truth[11, 2] == 30 and t.truth[9, 3] == 700
    # known at year end: November's stay a month late (December), not December's 异地 visit nor October's
    # 异地 stay three months late (January)
    assert t.known[10, 1] == 2000 and np.isnan(t.known[11, 2]) and np.isnan(t.known[9, 3])
    assert t.outstanding_fen() == 730


def test_pack_lags_add_up_and_a_bad_kind_is_named():
    lags = lag_table(load_pack("demo").at(dt.date(2025, 12, 31))["fund.ibnr.lags"])
    assert set(lags) == set(LAGS) and all(abs(v.sum() - 1) < 1e-12 for v in lags.values())
    with pytest.raises(PolicyError, match="add up to 0.9"):
        lag_table([{"kind": k, "delay_months": 0, "share": 1} for k in LAGS if k != "remote_inpatient"]
                  + [{"kind": "remote_inpatient", "delay_months": 0, "share": 0.9}])
    with pytest.raises(PolicyError, match="no rows for kind 'remote_inpatient'"):
        lag_table([{"kind": k, "delay_months": 0, "share": 1} for k in LAGS if k != "remote_inpatient"])
