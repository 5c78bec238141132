"""Coverage choices and opening balances of the synthetic region: 居民缴费档次, 惠民保 take-up, employers'
企业补充医疗保险 and 个人账户 balances at 1 January, at their documented rates and deterministic per seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.lake.io import read_table
from yibao.synth import SynthConfig, generate
from yibao.synth import data as sdata

PERSONS = 6000


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("coverage")
    generate(SynthConfig(persons=PERSONS, seed=11), out)
    names = ["persons", "employers", "enrollments", "identities", "coverage_choices", "account_balances"]
    return out, {t: read_table(out, t).to_pandas() for t in names}


def test_one_choice_row_per_person_and_year(region):
    _, t = region
    ch = t["coverage_choices"]
    assert len(ch) == PERSONS and ch["psn_no"].is_unique
    assert set(ch["psn_no"]) == set(t["persons"]["psn_no"]) and (ch["year"] == 2024).all()


def test_resident_tiers_follow_the_shares_and_assisted_residents_take_the_first(region):
    _, t = region
    ch = t["coverage_choices"].set_index("psn_no")
    enr = t["enrollments"]
    residents = set(enr.loc[enr["insutype"] == "390", "psn_no"])
    assisted = set(t["identities"]["psn_no"])
    assert (ch.loc[~ch.index.isin(residents), "tier"] == 0).all()
    assert (ch.loc[sorted(residents & assisted), "tier"] == 1).all()
    free = ch.loc[sorted(residents - assisted), "tier"]
    assert len(free) > 2000
    shares = free.value_counts(normalize=True)
    for tier, share in sdata.target("coverage.resident_tier_shares").items():
        assert shares[int(tier)] == pytest.approx(share, abs=0.03), tier


def test_single_tier_region_has_tier_zero(tmp_path):
    generate(SynthConfig(persons=300, seed=2, tier_shares={}, supplementary_takeup={}, with_lines=False), tmp_path)
    ch = read_table(tmp_path, "coverage_choices").to_pandas()
    assert (ch["tier"] == 0).all() and ch["supplementary"].isna().all()


def test_huiminbao_take_up_is_the_documented_rate(region):
    _, t = region
    joined = t["coverage_choices"]["supplementary"].fillna("").str.split("|").map(lambda x: "huiminbao" in x)
    rate = sdata.target("coverage.supplementary_takeup")["huiminbao"]
    assert 0.10 <= rate <= 0.30  # the documented range of real take-up
    assert joined.mean() == pytest.approx(rate, abs=0.02)


def test_enterprise_supplementary_is_a_minority_of_mostly_larger_enterprises(region):
    _, t = region
    emp = t["employers"]
    public = emp["industry"].isin(sdata.names()["public_sector"])
    assert not emp.loc[public, "has_supplementary"].any()
    firms = emp[~public]
    share = firms["has_supplementary"].mean()
    assert 0.03 <= share <= 0.25
    has = firms[firms["has_supplementary"]]
    assert has["headcount"].median() > firms.loc[~firms["has_supplementary"], "headcount"].median()


def _years_and_accrual(t):
    enr = t["enrollments"]
    y0 = dt.date(2024, 1, 1)
    e = enr[(enr["insutype"] == "310") & (enr["start_date"] < y0) & (enr["end_date"].isna() | (enr["end_date"] >= y0))]
    e = e.drop_duplicates("psn_no").set_index("psn_no")
    retired = e["psn_type"].isin(["12", "13"])
    monthly = np.where(retired, sdata.target("coverage.account_retiree_monthly_yuan") * 100,
                       e["contribution_base_fen"].fillna(0) * sdata.target("coverage.account_active_share"))
    years = (pd.Timestamp(y0) - pd.to_datetime(e["start_date"])).dt.days / 365.25
    return pd.DataFrame({"years": years, "annual": 12 * monthly}, index=e.index)


def test_opening_balances_hold_the_national_stock_of_years_of_accrual(region):
    _, t = region
    bal = t["account_balances"].set_index("psn_no")
    ref = _years_and_accrual(t)
    assert set(bal.index) == set(ref.index)  # every 职工 insured before 1 January, nobody else
    assert (bal["year"] == 2024).all() and (bal["balance_fen"] >= 0).all()
    assert bal["balance_fen"].sum() / ref["annual"].sum() == pytest.approx(
        sdata.target("coverage.account_stock_years"), rel=0.01)
    j = ref.join(bal)
    assert np.corrcoef(j["years"], j["balance_fen"])[0, 1] > 0.2  # longer insured, more held
    # 2024 national stock per 统账结合 member ≈ 14471.75亿 / 35435万 ≈ 4,084 yuan; same order here
    assert 1_500_00 < bal["balance_fen"].mean() < 8_000_00


def test_coverage_streams_leave_the_rest_of_the_region_unchanged(tmp_path):
    base = dict(persons=1500, seed=9, with_lines=False)
    generate(SynthConfig(**base), tmp_path / "a")
    generate(SynthConfig(**base, tier_shares={1: 0.5, 2: 0.5}, supplementary_takeup={"huiminbao": 0.3},
                         employer_supplementary_share=0.3), tmp_path / "b")
    for table in ("persons", "enrollments", "identities", "claims", "account_balances"):
        assert read_table(tmp_path / "a", table).equals(read_table(tmp_path / "b", table)), table
    a, b = (read_table(tmp_path / x, "coverage_choices").to_pandas() for x in "ab")
    assert not a.equals(b)


@pytest.mark.parametrize("kwargs, field", [
    ({"tier_shares": {1: 0.5, 2: 0.4}}, "tier_shares"),
    ({"tier_shares": {0: 1.0}}, "tier_shares"),
    ({"supplementary_takeup": {"huiminbao": 1.5}}, "supplementary_takeup.huiminbao"),
    ({"employer_supplementary_share": 0.9}, "employer_supplementary_share"),
])
def test_bad_coverage_configuration_is_refused(kwargs, field):
    with pytest.raises(ValidationError, match=field):
        SynthConfig(**kwargs)
