"""The long tail of dear stays and the case mix by level, on a generated region: shares of stays above
5万 / 10万, person-years over the pooling cap, chemotherapy courses, referrals up, and CMI falling by
hospital level (RW = DRG mean cost ÷ the region's mean cost, the CHS-DRG definition)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao.lake.io import read_table
from yibao.payment.drg import Grouper, group_many
from yibao.payment.drg.batch import cases_from_claims
from yibao.synth import SynthConfig, generate
from yibao.synth import data as sdata
from yibao.synth.claims import level_choice

PERSONS = 30_000


@pytest.fixture(scope="module")
def stays(tmp_path_factory):
    out = tmp_path_factory.mktemp("tail_region")
    summary = generate(SynthConfig(persons=PERSONS, seed=5, with_lines=False), out)
    claims = read_table(out, "claims").to_pandas()
    persons = read_table(out, "persons").to_pandas()
    institutions = read_table(out, "institutions").to_pandas()
    labels = read_table(out, "fraud_labels").to_pandas()
    ip = claims[claims["los"].notna() & ~claims["claim_id"].isin(labels["claim_id"])].reset_index(drop=True)
    groups = group_many(cases_from_claims(ip, persons))
    ip = ip.assign(drg=groups["drg"].to_numpy(), adrg=groups["adrg"].to_numpy(), status=groups["status"].to_numpy(),
                   cost=ip["medfee_sumamt_fen"] / 100,
                   principal=ip["diagnoses"].str.split("|").str[0])
    ip = ip.merge(institutions[["fixmedins_code", "level", "kind"]], on="fixmedins_code")
    return ip, summary


def test_a_share_of_stays_is_dear_and_some_person_years_pass_the_pooling_cap(stays):
    ip, _ = stays
    assert (ip["cost"] > 50_000).mean() > 0.015
    assert (ip["cost"] > 100_000).mean() > 0.003
    assert ip["cost"].max() > 300_000
    year = ip.groupby("psn_no")["cost"].sum()
    assert (year > 150_000 / 0.848).sum() >= 3  # 大额 / 大病 have someone to pay


def test_cmi_is_above_one_in_level_3_and_falls_by_level(stays):
    ip, _ = stays
    ok = ip[ip["status"] == "ok"]
    rw = ok.groupby("drg")["cost"].transform("mean") / ok["cost"].mean()
    cmi = rw.groupby(ok["level"]).mean()
    assert cmi["3"] > 1.05 > cmi["2"] > cmi["1"], cmi


def test_chemotherapy_comes_in_courses_at_the_same_hospital(stays):
    ip, _ = stays
    chemo = ip[ip["principal"].isin(["Z51.102", "C92.000", "C83.300"])].sort_values(["psn_no", "adm_date"])
    repeat = chemo.groupby("psn_no").size()
    assert (repeat >= 3).sum() >= 10
    nxt = chemo.groupby("psn_no").shift(-1).dropna(subset=["adm_date"])
    prev = chemo.loc[nxt.index]
    gap = (pd.to_datetime(nxt["adm_date"]) - pd.to_datetime(prev["dscg_date"])).dt.days
    assert (gap >= 1).mean() > 0.95 and 14 <= gap.median() <= 28  # 3–4 week cycles
    assert (nxt["fixmedins_code"] == prev["fixmedins_code"]).mean() > 0.9


def test_complex_stays_are_referred_up_to_level_3(stays):
    ip, _ = stays
    transfers = ip[(ip["dscg_way"] == "2") & (ip["level"] != "3")]
    onward = transfers.merge(ip, left_on=["psn_no", "dscg_date"], right_on=["psn_no", "adm_date"], suffixes=("", "_up"))
    up = onward[onward["level_up"] == "3"]
    assert len(up) >= 10
    assert (up["cost_up"] > up["cost"]).mean() > 0.9  # a day or two below, the treatment above


def test_the_calibration_report_shows_the_tail_beside_its_targets(stays):
    _, summary = stays
    rows = {r["metric"]: r for r in summary.calibration}
    for t in ("5万", "10万", "30万"):
        r = rows[f"share of stays above {t}"]
        assert r["target"] > 0 and r["generated"] > 0 and "assumption" in r["ref"]
    cap = next(r for m, r in rows.items() if m.startswith("share of person-years over the pooling cap"))
    assert cap["target"] == sdata.target("tail.share_person_years_over_cap") and cap["generated"] > 0


@pytest.mark.parametrize("condition, adrg", [
    ("kidney_transplant", "AE1"), ("liver_transplant", "AB1"), ("hsct", "AG1"),  # MDCA transplants
    ("ventilation", "AH1"), ("ecmo", "AH1"),  # 有创呼吸机 ≥ 96 h / ECMO
    ("major_trauma", "ZB1"),  # MDCZ: 多发性严重创伤开颅术
    ("leukemia_chemo", "RB1"), ("lymphoma_chemo", "RB2"), ("chemo", "RE1"), ("radiotherapy", "RC1"),
    ("aortic_dissection", "FE2"),
])
def test_high_cost_conditions_group_to_their_adrg(condition, adrg):
    g = Grouper.load("chs-1.1")
    row = sdata.conditions().set_index("key").loc[condition]
    dx = [row["icd10"], *[c for c in row["secondary"].split("|") if c]]
    proc = row["procedures"].split("|")[0]
    got = g.group_fields(1, 50, -1, -1, 20, dx, [proc])
    assert got[1] == adrg, got


def test_level_choice_keeps_the_level_mix_and_sends_complex_cases_up():
    complexity = np.array([0.3, 1.0, 3.0, 20.0])
    stays = np.array([400.0, 500.0, 90.0, 10.0])
    mix = np.array([0.55, 0.25, 0.05, 0.0, 0.15])
    p = level_choice(complexity, stays, mix, np.array([0.8, 0.0, -0.8, -0.8, -1.2]))
    np.testing.assert_allclose(stays @ p / stays.sum(), mix, atol=1e-6)
    assert np.all(np.diff(p[:, 0]) > 0) and np.all(np.diff(p[:, 4]) < 0)
    assert p[3, 0] > 0.95 and p[:, 3].max() == 0
