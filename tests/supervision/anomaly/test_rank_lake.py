"""``yibao supervise rank`` over a small synthesized region: the ranking printed with its reasons and
written whole, the rings table, and bad input as an error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.supervision.anomaly.lake import entity_truth, read_claims

SEED = 41


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    return Path(generate(SynthConfig(persons=600, seed=SEED), tmp_path_factory.mktemp("anomaly") / "lake").out_dir)


def test_read_claims_groups_the_stays_and_leaves_cross_region_care_out(lake):
    claims = read_claims(lake)
    raw = pd.read_parquet(lake / "claims")
    assert len(claims) == int((~raw["out_of_region"]).sum())
    stays = claims[claims["is_stay"]]
    assert len(stays) > 0 and stays["drg"].notna().mean() > 0.9
    assert claims.loc[~claims["is_stay"], "drg"].isna().all()
    assert set(claims["peer"]) <= {f"{k}/{v}" for k in ("hospital", "primary", "pharmacy") for v in "0123"}


@pytest.mark.parametrize("level", ["institution", "doctor"])
def test_rank_prints_the_top_and_writes_the_whole_ranking(lake, tmp_path, level):
    out = tmp_path / "rank.parquet"
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--level", level, "--top", "3",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    ranked = pd.read_parquet(out)
    claims = read_claims(lake)
    ids = claims["fixmedins_code"] if level == "institution" else claims["doctor_code"]
    assert sorted(ranked["entity"]) == sorted(ids.unique())
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1)) and ranked["score"].is_monotonic_decreasing
    assert ("机构异常排名" if level == "institution" else "医师异常排名") in r.output
    assert ranked.iloc[0]["entity"] in r.output and "团伙 ring candidates" in r.output


def test_rank_with_the_rules_hits_judges_the_share_of_claims_they_flag(lake, tmp_path):
    claims = read_claims(lake)
    inst = claims["fixmedins_code"].value_counts().index[0]  # the busiest institution: every claim flagged
    hits = tmp_path / "hits.csv"
    pd.DataFrame({"claim_id": claims.loc[claims["fixmedins_code"] == inst, "claim_id"], "rule_id": "SV-X"}).to_csv(hits)
    out = tmp_path / "rank.parquet"
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--hits", str(hits), "--no-rings",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    ranked = pd.read_parquet(out).set_index("entity")
    assert ranked.loc[inst, "rule_hits"] == 1.0 and ranked.loc[inst, "z_rule_hits"] > 10
    assert ranked.index[0] == inst and ranked.loc[inst, "top_feature"] == "rule_hits"
    assert "规则命中病例占比 100.0%" in ranked.loc[inst, "reasons"]
    assert (ranked.drop(index=inst)["rule_hits"].dropna() == 0).all()
    without = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--no-rings", "--out", str(out)])
    assert without.exit_code == 0 and pd.read_parquet(out)["z_rule_hits"].eq(0).all()


def test_a_hits_file_without_claim_ids_is_refused(lake, tmp_path):
    bad = tmp_path / "hits.csv"
    pd.DataFrame({"rule_id": ["SV-X"]}).to_csv(bad, index=False)
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--hits", str(bad)])
    assert r.exit_code == 1 and "hits.csv: claim_id: column missing from the hits" in r.output
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--hits", str(tmp_path / "none.parquet")])
    assert r.exit_code == 1 and "none.parquet: --hits: not a .parquet or .csv file of rule hits" in r.output


def _copy(lake: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(lake, to)
    return to


def test_truth_without_fraud_entities_is_the_share_of_labelled_claims(lake, tmp_path):
    older = _copy(lake, tmp_path / "lake")
    (older / "fraud_entities.parquet").unlink()  # as a lake from before the generator labelled entities
    claims = read_claims(older)
    truth, source = entity_truth(older, claims, "institution")
    labelled = claims["claim_id"].isin(pd.read_parquet(older / "fraud_labels")["claim_id"])
    share = labelled.groupby(claims["fixmedins_code"]).mean()
    assert source.startswith("share of labelled claims")
    assert truth.to_dict() == (share > 2 * labelled.mean()).to_dict()


def test_truth_from_fraud_entities_when_the_lake_has_them(lake, tmp_path):
    copy = _copy(lake, tmp_path / "lake")
    claims = read_claims(copy)
    bad = sorted(claims["fixmedins_code"].unique())[0]
    pd.DataFrame({"level": ["institution", "person"], "entity_id": [bad, "X"], "label": ["concentrated", "ring"],
                  "detail": ["", "R1"]}).to_parquet(copy / "fraud_entities.parquet")
    truth, source = entity_truth(copy, claims, "institution")
    assert source == "fraud_entities" and truth[truth].index.tolist() == [bad]


def test_bad_input_is_an_error_naming_the_option(lake, tmp_path):
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(tmp_path / "none")])
    assert r.exit_code == 1 and "error: --lake: not a lake folder" in r.output
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--level", "ward"])
    assert r.exit_code == 1 and "error: --level: 'ward' is not one of institution, dept, doctor" in r.output
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--method", "forest"])
    assert r.exit_code == 1 and "error: --method: 'forest'" in r.output
    r = CliRunner().invoke(app, ["supervise", "rank", "--lake", str(lake), "--out", str(tmp_path / "r.txt")])
    assert r.exit_code == 1 and "--out: .txt: use a .parquet or .csv file" in r.output
