"""The features and the detector on hand-built regions: one institution or doctor changed in one way
ranks first, extreme, and its explanation names that feature; a uniform region ranks nobody extreme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.supervision.anomaly.detector import DetectorParams, rank_entities
from yibao.supervision.anomaly.features import entity_features


def _rank(r, level="institution", **params):
    return rank_entities(entity_features(r.claims, r.lines, level), DetectorParams(**params))


def test_an_institution_at_twice_its_peers_cost_ranks_first_named_by_cost(region):
    r = region()
    dear = r.at("H05")
    r.claims.loc[dear, "medfee_sumamt_fen"] *= 2
    r.lines = r.lines_of(r.claims)
    ranked = _rank(r)
    first = ranked.iloc[0]
    assert first["entity"] == "H05" and first["extreme"]
    assert first["top_feature"] == "cost_ratio" and first["share_cost_ratio"] > 0.5
    assert first["reasons"].startswith("住院次均费用为同级同病组的 2.")
    assert first["cost_ratio"] == pytest.approx(2 / (1 + 1 / 12), rel=0.05)  # the region mean includes H05
    assert not ranked.iloc[1:]["extreme"].any()


def test_a_uniform_region_ranks_nobody_as_extreme(region):
    r = region(seed=3)
    for level in ("institution", "dept", "doctor"):
        ranked = _rank(r, level)
        assert not ranked["extreme"].any(), ranked.head(3)
        assert ranked["score"].max() < 3.0


def _readmit(r, inst):
    stays = r.claims.index[r.at(inst)][:20]
    first, second = stays[::2], stays[1::2]
    r.claims.loc[second, "psn_no"] = r.claims.loc[first, "psn_no"].to_numpy()
    r.claims.loc[second, "adm_date"] = r.claims.loc[first, "dscg_date"].to_numpy() + pd.Timedelta(days=7)
    r.claims.loc[second, "dscg_date"] = r.claims.loc[second, "adm_date"] + pd.Timedelta(days=5)


def _weekend(r, inst):
    stays = r.at(inst)
    adm = r.claims.loc[stays, "adm_date"]
    r.claims.loc[stays, "adm_date"] = adm + pd.to_timedelta((5 - adm.dt.day_of_week) % 7, unit="D")


def _consumables(r, inst):
    lines = r.lines.merge(r.claims[["claim_id", "fixmedins_code"]], on="claim_id")
    heavy = (lines["fixmedins_code"] == inst) & (lines["kind"] == "consumable")
    r.lines.loc[heavy.to_numpy(), "amount_fen"] *= 5


def _drugs(r, inst):
    lines = r.lines.merge(r.claims[["claim_id", "fixmedins_code"]], on="claim_id")
    heavy = (lines["fixmedins_code"] == inst) & (lines["kind"] == "drug")
    r.lines.loc[heavy.to_numpy(), "amount_fen"] *= 2


def _upcode(r, inst):
    stays = r.claims.index[r.at(inst)][:30]
    r.claims.loc[stays, "cc_level"] = "MCC"
    r.claims.loc[stays, "medfee_sumamt_fen"] = (r.claims.loc[stays, "medfee_sumamt_fen"] * 0.9).round().astype("int64")
    r.claims.loc[stays, "los"] = 5.0


def _drift(r, inst):
    late = r.at(inst) & (r.claims["adm_date"].dt.month > 6)
    r.claims.loc[late, "drg"] = "GB11"
    r.claims.loc[late, "medfee_sumamt_fen"] = 2_000_000


def _outpatient_cost(r, inst):
    visits = r.at(inst, stays_only=False) & ~r.claims["is_stay"]
    r.claims.loc[visits, "medfee_sumamt_fen"] *= 2


@pytest.mark.parametrize("change, feature", [
    (_readmit, "readmit_15"), (_weekend, "weekend_share"), (_consumables, "consumable_excess"),
    (_drugs, "drug_excess"), (_upcode, "upcoding"), (_drift, "cmi_drift"), (_outpatient_cost, "op_cost_ratio"),
])
def test_each_feature_finds_the_institution_built_for_it(region, change, feature):
    r = region()
    change(r, "H07")
    ranked = _rank(r)
    first = ranked.iloc[0]
    assert first["entity"] == "H07" and first["extreme"], ranked.head(3)[["entity", "score", "reasons"]]
    assert first[f"z_{feature}"] >= 3.5
    assert feature in set(ranked.loc[0, [c for c in ranked.columns if c.startswith("share_")]]
                          .astype(float).nlargest(2).index.str.removeprefix("share_"))


def test_the_share_of_claims_the_rules_flag_is_judged_against_the_peers(region):
    """Every institution has a claim or two flagged (what chance spreads); H04 has one in ten."""
    r = region()
    flagged = [r.claims.index[r.at(f"H{i:02d}", stays_only=False)][:2] for i in range(12)]
    many = r.claims.index[r.at("H04", stays_only=False)][:14]
    ids = r.claims.loc[np.concatenate([*flagged, many]), "claim_id"]
    hits = pd.DataFrame({"claim_id": pd.concat([ids, ids.head(5)])})  # a claim hit by two rules counts once
    ranked = rank_entities(entity_features(r.claims, r.lines, hits=hits)).set_index("entity")
    assert ranked.loc["H04", "rule_hits"] == pytest.approx(14 / 140)
    assert ranked.loc["H00", "rule_hits"] == pytest.approx(2 / 140)
    assert ranked.index[0] == "H04" and ranked.loc["H04", "top_feature"] == "rule_hits" and ranked.loc["H04", "extreme"]
    assert ranked.loc["H04", "reasons"].startswith("规则命中病例占比 10.0%（同级中位 1.4%")
    assert not ranked.drop(index="H04")["extreme"].any()


def test_a_doctor_billing_one_item_stands_out_by_concentration(region):
    r = region()
    mine = r.claims["doctor_code"] == "H03-D1"
    ids = set(r.claims.loc[mine, "claim_id"])
    own = r.lines["claim_id"].isin(ids) & (r.lines["kind"] == "service")
    r.lines.loc[own, "item_code"] = "SVC-9"
    r.lines.loc[own, "amount_fen"] *= 4
    ranked = _rank(r, "doctor")
    assert ranked.iloc[0]["entity"] == "H03-D1"
    assert ranked.iloc[0]["top_feature"] == "item_excess"
    reasons = ranked.iloc[0]["reasons"]
    assert reasons.startswith("单一项目计费频次超出同级：SVC-9 ") and "单一项目占计费" in reasons


def test_the_item_a_doctor_concentrates_on_is_named_by_code_and_name(region):
    r = region()
    mine = r.claims["doctor_code"] == "H03-D1"
    own = r.lines["claim_id"].isin(set(r.claims.loc[mine, "claim_id"])) & (r.lines["kind"] == "service")
    r.lines.loc[own, "item_code"] = "SVC-9"
    r.lines["item_name"] = np.where(r.lines["item_code"] == "SVC-9", "血细胞分析", "其他")
    ranked = _rank(r, "doctor")
    assert ranked.iloc[0]["entity"] == "H03-D1" and ranked.iloc[0]["top_feature"] == "item_excess"
    assert ranked.iloc[0]["reasons"].startswith("单一项目计费频次超出同级：SVC-9 血细胞分析 ")


def _lab_lines(r, rng, rate: pd.Series) -> pd.DataFrame:
    """A laboratory test LAB-1 on each claim with its doctor's rate (a doctor's habit)."""
    on = rng.random(len(r.claims)) < r.claims["doctor_code"].map(rate).to_numpy()
    return pd.DataFrame({"claim_id": r.claims.loc[on, "claim_id"], "item_code": "LAB-1", "kind": "service",
                         "amount_fen": 2_000})


def test_a_doctor_billing_a_test_on_most_claims_outranks_one_with_five_claims_all_billing_a_rare_item(region):
    """Doctors bill LAB-1 on 5–40% of their claims; H03-D1 bills LAB-9 on 80% of 47 claims and H07-D9
    RARE-1 on all of 5. The raw excess puts the five claims first (100% against 80%); shrunk toward
    the peers by claim count (a prior worth ``m`` claims), five claims keep a fraction of theirs."""
    r = region()
    rng = np.random.default_rng(4)
    doctors = r.claims["doctor_code"].unique()
    r.claims.loc[r.claims.index[r.at("H07", stays_only=False)][:5], "doctor_code"] = "H07-D9"
    rate = pd.Series(rng.beta(2, 8, len(doctors)), index=doctors)
    lines = [r.lines, _lab_lines(r, rng, pd.concat([rate, pd.Series({"H07-D9": 0.0})]))]
    busy = r.claims.loc[r.claims["doctor_code"] == "H03-D1", "claim_id"]
    busy = busy[rng.random(len(busy)) < 0.8]
    few = r.claims.loc[r.claims["doctor_code"] == "H07-D9", "claim_id"]
    for ids, item in ((busy, "LAB-9"), (few, "RARE-1")):
        lines.append(pd.DataFrame({"claim_id": ids, "item_code": item, "kind": "service", "amount_fen": 2_000}))
    r.lines = pd.concat(lines, ignore_index=True)
    features = entity_features(r.claims, r.lines, "doctor")
    assert features.loc["H07-D9", "top_item"] == "RARE-1" and features.loc["H03-D1", "top_item"] == "LAB-9"
    m = features.loc["H07-D9", "n_item_excess"] * (1 / features.loc["H07-D9", "item_excess"] - 1)
    assert 2 < m < 100  # the peers' spread of LAB-1 rates, in claims
    n = features.loc["H03-D1", "n_item_excess"]
    assert features.loc["H03-D1", "item_excess"] == pytest.approx(len(busy) / (n + m))
    ranked = rank_entities(features).set_index("entity")
    assert ranked.index[0] == "H03-D1" and ranked.loc["H03-D1", "top_feature"] == "item_excess"
    assert ranked.loc["H07-D9", "z_item_excess"] < ranked.loc["H03-D1", "z_item_excess"]


def test_the_prior_of_the_item_shares_is_worth_as_many_claims_as_the_peers_spread_says():
    """Rates drawn from a Beta of strength 30 around 10%: the method of moments gives back about 30."""
    from yibao.supervision.anomaly.features import prior_claims

    rng = np.random.default_rng(2)
    n = rng.integers(30, 200, 4000).astype(float)
    x = rng.binomial(n.astype(int), rng.beta(3, 27, len(n))).astype(float)
    assert prior_claims(x, n, np.full(len(n), 0.1)) == pytest.approx(30, rel=0.15)
    assert prior_claims(n * 0.1, n, np.full(len(n), 0.1)) == np.inf  # no spread beyond chance: all shrunk


def test_a_small_entity_needs_more_than_chance_to_stand_out():
    """Two readmissions in five stays is 40%, but five stays is what chance allows; 30% of 200 is not."""
    rates = [0.10] * 20 + [0.40, 0.30]
    features = pd.DataFrame({
        "fixmedins_code": "H", "peer": "hospital/2", "cases": [200] * 20 + [5, 200], "readmit_15": rates,
        "n_readmit_15": [200] * 20 + [5, 200], "var_readmit_15": 0.1 * 0.9,
    }, index=pd.Index([f"D{k:02d}" for k in range(20)] + ["small", "big"], name="entity"))
    ranked = rank_entities(features, DetectorParams(features=("readmit_15",))).set_index("entity")
    assert ranked.loc["small", "z_readmit_15"] == pytest.approx(0.30 / np.sqrt(0.01 ** 2 + 0.09 / 5))
    assert ranked.loc["big", "z_readmit_15"] == pytest.approx(0.20 / np.sqrt(0.01 ** 2 + 0.09 / 200))
    assert list(ranked.index[:2]) == ["big", "small"] and not ranked.loc["small", "extreme"]


def test_isolation_forest_is_deterministic_given_a_seed_and_finds_the_same_institution(region):
    r = region()
    r.claims.loc[r.at("H05"), "medfee_sumamt_fen"] *= 2
    r.lines = r.lines_of(r.claims)
    a, b = _rank(r, method="isolation", seed=7), _rank(r, method="isolation", seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a.iloc[0]["entity"] == "H05" and a.iloc[0]["top_feature"] == "cost_ratio"


def test_shares_of_the_score_add_up_and_the_robust_score_is_the_z_length(region):
    r = region()
    _weekend(r, "H01")
    ranked = _rank(r)
    shares = ranked[[c for c in ranked.columns if c.startswith("share_")]].sum(axis=1)
    scored = ranked["score"] > 0
    assert np.allclose(shares[scored], 1.0)
    z = ranked[[c for c in ranked.columns if c.startswith("z_")]].to_numpy()
    assert np.allclose(ranked["score"], np.sqrt((z ** 2).sum(axis=1)))


def test_bad_settings_and_inputs_are_refused(region):
    r = region()
    with pytest.raises(ValidationError, match="--method: 'forest' is not one of robust, isolation"):
        DetectorParams(method="forest")
    with pytest.raises(ValidationError, match="--level: 'ward' is not one of institution, dept, doctor"):
        entity_features(r.claims, r.lines, "ward")
    with pytest.raises(ValidationError, match="drg: column missing from claims"):
        entity_features(r.claims.drop(columns="drg"), r.lines)
