"""The lake's coverage choices and opening balances reach the settlement: contribution tier, 惠民保,
企业补充医疗保险, 个人账户 and 家庭共济 balances; a lake written before them still settles."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yibao.lake import io as lake_io
from yibao.lake.schema import TABLES
from yibao.settlement.batch import lake_frame, settle_lake


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from yibao.synth import SynthConfig, generate

    out = tmp_path_factory.mktemp("region")
    # a seed whose heaviest personal burdens pass the 惠民保 2万 deductible (not every region of 1,500 has one)
    generate(SynthConfig(persons=1500, seed=6, employer_supplementary_share=0.3), out)
    return out


@pytest.fixture(scope="module")
def frame(region):
    return lake_frame(region)[0]


def _copy(region, tmp_path, **tables: pd.DataFrame):
    """A copy of the region with some tables replaced."""
    out = tmp_path / "lake"
    shutil.copytree(region, out)
    for name, df in tables.items():
        lake_io.write_table(out, name, pa.Table.from_pandas(df, schema=TABLES[name], preserve_index=False))
    return out


def _by_person(result: pd.DataFrame, col: str) -> pd.Series:
    return result.groupby("psn_no")[col].sum()


def test_lake_frame_carries_the_person_year_choices(region, frame):
    ch = lake_io.read_table(region, "coverage_choices").to_pandas().set_index("psn_no")
    assert (frame["tier"].to_numpy() == ch.loc[frame["psn_no"], "tier"].to_numpy()).all()
    assert (frame["supplementary"].to_numpy() == ch.loc[frame["psn_no"], "supplementary"].fillna("").to_numpy()).all()
    assert (frame["tier"] > 0).any() and (frame["supplementary"] == "huiminbao").any()


def test_lake_frame_carries_the_employer_supplementary_flag(region, frame):
    emp = lake_io.read_table(region, "employers").to_pandas().set_index("emp_no")["has_supplementary"]
    enr = lake_io.read_table(region, "enrollments").to_pandas()
    covered = set(enr.loc[enr["emp_no"].isin(emp[emp].index) & (enr["insutype"] == "310"), "psn_no"])
    flag = frame["enterprise_supplementary"]
    assert flag.dtype == bool and flag.any() and not flag.all()
    assert set(frame.loc[flag, "psn_no"]) <= covered
    assert not flag[frame["insutype"] == "390"].any()
    assert flag[(frame["insutype"] == "310") & frame["psn_no"].isin(covered) & frame["psn_type"].eq("11")].mean() > 0.9


def test_lake_frame_carries_opening_and_family_balances(region, frame):
    bal = lake_io.read_table(region, "account_balances").to_pandas().set_index("psn_no")["balance_fen"]
    emp = frame[frame["insutype"] == "310"]
    assert (emp["acct_bal"].to_numpy() == emp["psn_no"].map(bal).fillna(0).to_numpy()).all()
    assert (frame.loc[frame["insutype"] == "390", "acct_bal"] == 0).all()
    # 家庭共济: the other household members' balances, each shared among the holder's other members
    persons = lake_io.read_table(region, "persons", columns=["psn_no", "household_id"]).to_pandas()
    hh = persons.set_index("psn_no")["household_id"]
    size = persons.groupby("household_id").size()
    row = frame[frame["fam_bal"] > 0].iloc[0]
    members = persons.loc[(persons["household_id"] == hh[row["psn_no"]]) & (persons["psn_no"] != row["psn_no"]), "psn_no"]
    expected = int(members.map(bal).fillna(0).sum()) // (size[hh[row["psn_no"]]] - 1)
    assert row["fam_bal"] == expected
    alone = frame["psn_no"].map(hh.map(size)) == 1
    assert (frame.loc[alone, "fam_bal"] == 0).all()


def test_higher_tier_pays_more_than_tier_zero(region, tmp_path):
    ch = lake_io.read_table(region, "coverage_choices").to_pandas()
    residents = ch["tier"] > 0
    at = {}
    for tier in (0, 3):
        lake = _copy(region, tmp_path / str(tier), coverage_choices=ch.assign(tier=np.where(residents, tier, 0)))
        result, _ = settle_lake(lake, "demo")
        at[tier] = result[(result["insutype"] == "390") & result["psn_no"].isin(ch.loc[residents, "psn_no"])]
    # per person (a later claim may get less once an earlier one used more of a cap), and in all
    assert (_by_person(at[3], "hifp_pay") >= _by_person(at[0], "hifp_pay")).all()
    assert at[3]["hifp_pay"].sum() > at[0]["hifp_pay"].sum() * 1.03


def test_huiminbao_members_get_oth_pay_and_others_none(region, tmp_path):
    first, _ = settle_lake(region, "demo")
    burden = _by_person(first, "psn_part_amt").sort_values(ascending=False)
    # the persons with the heaviest burdens, alternately in and out of 惠民保
    members = set(burden.index[:40:2])
    ch = lake_io.read_table(region, "coverage_choices").to_pandas()
    ch["supplementary"] = np.where(ch["psn_no"].isin(members), "huiminbao", None)
    result, _ = settle_lake(_copy(region, tmp_path, coverage_choices=ch), "demo")
    paid = _by_person(result, "oth_pay")
    assert paid[paid.index.isin(members)].sum() > 0
    assert (paid[~paid.index.isin(members)] == 0).all()


def test_opening_balances_reach_acct_pay(region, tmp_path, frame):
    with_opening, summary = settle_lake(region, "demo")
    assert "opening balances at 1 January 2024" in summary["note"]
    lake = _copy(region, tmp_path)
    (lake / "account_balances.parquet").unlink()
    accruals_only, note = settle_lake(lake, "demo")
    assert "no opening balances" in note["note"]
    assert with_opening["acct_pay"].sum() > accruals_only["acct_pay"].sum()
    # nobody's account pays more than its opening balance plus the year's accrual
    opening = lake_io.read_table(region, "account_balances").to_pandas().set_index("psn_no")["balance_fen"]
    extra = _by_person(with_opening, "acct_pay") - _by_person(accruals_only, "acct_pay")
    assert (extra <= extra.index.map(opening).fillna(0)).all()
    assert (with_opening["fund_pay_sumamt"] == accruals_only["fund_pay_sumamt"]).all()


def test_lake_without_the_new_tables_still_settles(region, tmp_path):
    lake = _copy(region, tmp_path)
    for table in ("coverage_choices", "account_balances"):
        (lake / f"{table}.parquet").unlink()
    pq.write_table(pq.read_table(lake / "employers.parquet").drop_columns(["has_supplementary"]), lake / "employers.parquet")
    f = lake_frame(lake)[0]
    assert (f["tier"] == 0).all() and (f["supplementary"] == "").all()
    assert not f["enterprise_supplementary"].any() and (f["acct_bal"] == 0).all() and (f["fam_bal"] == 0).all()
    result, summary = settle_lake(lake, "demo")
    assert len(result) == len(f) and summary["note"].startswith("account balances: no opening balances")
    assert (result["oth_pay"] == 0).all() and result["acct_pay"].sum() > 0  # the year's accruals still pay


def test_stay_discharged_after_new_year_keeps_the_year_choices(region, tmp_path):
    import datetime as dt

    lake = _copy(region, tmp_path)
    claims = lake_io.read_table(lake, "claims").to_pandas()
    ch = lake_io.read_table(region, "coverage_choices").to_pandas().set_index("psn_no")
    i = int(np.flatnonzero(claims["psn_no"].map(ch["tier"]).to_numpy() == 3)[0])
    claims.loc[i, "dscg_date"] = dt.date(2025, 1, 3)
    shutil.rmtree(lake / "claims")
    lake_io.write_table(lake, "claims", pa.Table.from_pandas(claims, schema=TABLES["claims"], preserve_index=False))
    f = lake_frame(lake)[0].set_index("claim_id")
    assert f.loc[claims.loc[i, "claim_id"], "tier"] == 3
