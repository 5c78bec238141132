"""The regulator's commands on a synthesized region and a migrated store: each step, and bad input
ending in ``error: …`` with status 1 and nothing written."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yibao import vocab
from yibao.cli import app
from yibao.store import upgrade
from yibao.supervision.regulator import repository as repo

SEED = 43  # no benchmark uses it


INPATIENT = sorted(vocab.INPATIENT_MED_TYPES)


def yibao(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("lake") / "region"
    result = yibao("synth", "--persons", "400", "--seed", SEED, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def hits(lake, tmp_path_factory):
    out = tmp_path_factory.mktemp("hits") / "hits.parquet"
    result = yibao("audit", "run", "--lake", lake, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    return url


def local_claims(lake):
    claims = pq.read_table(lake / "claims").to_pandas()
    return claims[~claims.out_of_region.fillna(False)]


def test_audit_run_writes_the_hits_columns_in_fen(hits):
    frame = pq.read_table(hits).to_pandas()
    assert {"claim_id", "rule_id", "rule_name", "sev_deg", "vola_amt", "vola_evid"} <= set(frame.columns)
    assert len(frame) and str(frame.vola_amt.dtype) == "int64"


def test_audit_sample_meets_each_quota_and_is_stored(lake, hits, db, tmp_path):
    out = tmp_path / "sample.csv"
    result = yibao("audit", "sample", "--lake", lake, "--hits", hits, "--seed", 9, "--db", db, "--out", out,
                   "--date", "2025-01-10")
    assert result.exit_code == 0, result.output
    drawn = pd.read_csv(out, dtype={"claim_id": str})
    claims = local_claims(lake).set_index("claim_id")
    hit_ids = set(pq.read_table(hits).column("claim_id").to_pylist())
    assert len(drawn) and not set(drawn.claim_id) & hit_ids
    assert claims.loc[drawn.claim_id, "med_type"].isin(INPATIENT).all()
    passed = claims[claims.med_type.isin(INPATIENT) & ~claims.index.isin(hit_ids)]
    for code, total in passed.groupby("fixmedins_code").medfee_sumamt_fen.sum().items():
        assert drawn[drawn.fixmedins_code == code].amount_fen.sum() * 20 >= total  # ≥ 5% of it
    with repo.unit(db) as conn:
        assert len(repo.sample_claims(conn, "CC2025000001")) == len(drawn)
    again = tmp_path / "again.csv"
    yibao("audit", "sample", "--lake", lake, "--hits", hits, "--seed", 9, "--db", db, "--out", again)
    assert pd.read_csv(again, dtype={"claim_id": str}).claim_id.tolist() == drawn.claim_id.tolist()


def test_grades_weight_the_draw_and_conflicts_are_kept(lake, hits, db, tmp_path):
    result = yibao("credit", "grade", "--year", 2024, "--lake", lake, "--hits", hits, "--db", db)
    assert result.exit_code == 0, result.output
    codes = sorted(local_claims(lake).fixmedins_code.unique())
    inspectors = tmp_path / "inspectors.csv"
    inspectors.write_text("inspector_id,name,conflicts\nI1,张一,%s\nI2,王二,\nI3,赵三,%s|%s\nI4,钱四,\n"
                          % (codes[0], codes[0], codes[1]), encoding="utf-8")
    args = ("audit", "draw", "--lake", lake, "--inspectors", inspectors, "--quota", len(codes), "--seed", 4, "--year", 2024,
            "--db", db, "--date", "2025-02-01")
    first, second = yibao(*args), yibao(*args)
    assert first.exit_code == 0, first.output
    assert first.output.split("\n", 1)[1] == second.output.split("\n", 1)[1]  # the same list under a new number
    with repo.unit(db) as conn:
        picks = repo.draw_picks(conn, "SJ2025000001")
        grades = {g["fixmedins_code"]: g["grade"] for g in repo.grades(conn, 2024)}
    assert sorted(p["fixmedins_code"] for p in picks) == codes
    assert all(p["grade"] == grades[p["fixmedins_code"]] for p in picks)
    teams = {p["fixmedins_code"]: p["inspectors"] for p in picks}
    assert teams[codes[0]] == "I2|I4" and "I3" not in teams[codes[1]]
    refused = yibao("audit", "draw", "--lake", lake, "--inspectors", inspectors, "--quota", len(codes) + 1,
                    "--seed", 4, "--year", 2024, "--db", db)
    assert refused.exit_code == 1 and f"quota: {len(codes) + 1} institutions asked of a frame of {len(codes)}" in refused.output


def test_a_case_from_a_report_through_the_commands(db):
    steps = [
        ("report", "add", "--subject", "H1", "--facts", "2024年10月该院为未住院的参保人办理挂床住院",
         "--informant", "李明", "--contact", "13800000000", "--date", "2024-12-02"),
        ("report", "decide", "JB2024000001", "--accept", "--date", "2024-12-05"),
        ("case", "move", "AJ2024000001", "--to", "checking", "--date", "2024-12-06"),
        ("case", "move", "AJ2024000001", "--to", "filed", "--date", "2024-12-20"),
        ("case", "move", "AJ2024000001", "--to", "handled", "--date", "2025-02-01", "--recover", "310100:30000",
         "--fine", "violation:50000", "--points", "doctor:D1:9"),
        ("case", "move", "AJ2024000001", "--to", "closed", "--date", "2025-02-20"),
    ]
    for args in steps:
        result = yibao(*args, "--db", db)
        assert result.exit_code == 0, (args, result.output)
    shown = yibao("case", "show", "AJ2024000001", "--db", db).output
    assert "结案" in shown and "recovered: 30,000.00 yuan" in shown
    assert "reward 600.00 yuan" in yibao("report", "reward", "JB2024000001", "--db", db).output
    assert "9 points in 2025; suspended" in yibao("credit", "score", "D1", "--date", "2025-03-01", "--db", db).output
    assert "recovery" in yibao("credit", "show", "institution", "H1", "--db", db).output
    assert "AJ2024000001" in yibao("case", "list", "--state", "closed", "--db", db).output


@pytest.mark.parametrize("args, message", [
    (("case", "open", "--source", "rumour", "--subject", "H1"), "source: 'rumour' is not one of"),
    (("case", "move", "AJ9", "--to", "checking"), "case 'AJ9' not found"),
    (("case", "list", "--state", "open"), "--state: 'open' is not one of"),
    (("report", "add", "--subject", "H1", "--facts", "某医院存在骗保行为需要核查"), "contact: a named 举报 needs"),
    (("report", "add", "--subject", "H1", "--facts", "x", "--anonymous"), "facts: give the facts"),
    (("case", "open", "--source", "report", "--subject", "H1", "--date", "2024-13-01"), "--date: '2024-13-01' is not a date"),
    (("case", "move", "AJ9", "--to", "handled", "--points", "doctor:D1"), "--points: 'doctor:D1': expected 3 parts"),
    (("credit", "grade", "--year", 2024, "--hits", "h.parquet"), "--hits: needs --lake"),
])
def test_bad_input_ends_with_an_error_and_writes_nothing(db, args, message):
    result = yibao(*args, "--db", db)
    assert result.exit_code == 1 and message in result.output, result.output
    with repo.unit(db) as conn:
        assert repo.cases(conn) == []


def test_a_hits_file_without_claim_ids_is_named(lake, db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("rule_id\nSV-1\n", encoding="utf-8")
    result = yibao("audit", "sample", "--lake", lake, "--hits", bad, "--seed", 1, "--db", db)
    assert result.exit_code == 1 and f"{bad}: claim_id: cannot read" in result.output
    missing = yibao("audit", "sample", "--lake", lake, "--hits", tmp_path / "none.parquet", "--seed", 1, "--db", db)
    assert missing.exit_code == 1 and "--hits: no such file" in missing.output


def test_evidence_keeps_a_reference_with_colons_and_refuses_one_without(db):
    url_ref = "https://ybj.example.gov.cn/doc/12"
    result = yibao("case", "open", "--source", "anomaly", "--subject", "H1", "--ref", "rank 1",
                   "--evidence", f"document:{url_ref}", "--db", db)
    assert result.exit_code == 0, result.output
    with repo.unit(db) as conn:
        (case,) = repo.cases(conn)
        assert [(e["kind"], e["ref"]) for e in repo.case(conn, case["case_no"])["evidence"]] == [("document", url_ref)]
    bare = yibao("case", "open", "--source", "anomaly", "--subject", "H1", "--evidence", "hit", "--db", db)
    assert bare.exit_code == 1 and "evidence: a hit needs its reference" in bare.output
