"""A synthesized region through ``yibao supervise run``, and the whole library at both speeds on it."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.payment.backends import duckdb_backend
from yibao.supervision.engine import RuleBook
from yibao.supervision.kinds import KINDS
from yibao.supervision.lake import bind_lake, claim_of, lake_catalog, line_of
from yibao.supervision.model import Visit
from yibao.supervision.rules import load_rules

SEED = 31  # the benchmark measures on another seed


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("lake") / "region"
    result = CliRunner().invoke(app, ["synth", "--persons", "600", "--seed", str(SEED), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_supervise_run_writes_hits_and_prints_them_by_rule(lake, tmp_path):
    out = tmp_path / "hits.parquet"
    result = CliRunner().invoke(app, ["supervise", "run", "--lake", str(lake), "--out", str(out)])
    assert result.exit_code == 0, result.output
    hits = pq.read_table(out).to_pandas()
    assert {"claim_id", "rule_id", "rule_name", "sev_deg", "vola_cont", "vola_amt", "vola_evid", "ref"} <= set(hits.columns)
    assert len(hits) > 0 and str(hits["vola_amt"].dtype) == "int64" and (hits["vola_amt"] >= 0).all()
    claims = pq.read_table(lake / "claims").column("claim_id").to_pylist()
    assert set(hits["claim_id"]) <= set(claims)
    assert all(isinstance(json.loads(e)["lines"], list) for e in hits["vola_evid"])
    assert "SV-DTH-01" in result.output and f"{len(hits):,}" in result.output


def test_bad_input_is_an_error_not_a_traceback(lake, tmp_path):
    r = CliRunner().invoke(app, ["supervise", "run", "--lake", str(tmp_path / "none"), "--out", str(tmp_path / "h.parquet")])
    assert r.exit_code == 1 and "not a lake folder" in r.output
    r = CliRunner().invoke(app, ["supervise", "run", "--lake", str(lake), "--out", str(tmp_path / "h.txt")])
    assert r.exit_code == 1 and "use a .parquet or .csv file" in r.output
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "x.yaml").write_text("rules:\n  X:\n    name: x\n    kind: nope\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["supervise", "run", "--lake", str(lake), "--out", str(tmp_path / "h.parquet"),
                                 "--rules", str(tmp_path / "rules")])
    assert r.exit_code == 1 and "x.yaml: rule X" in r.output


def test_the_whole_library_agrees_at_both_speeds_on_a_region(lake):
    book = RuleBook(load_rules(), lake_catalog(lake))
    tables = bind_lake(duckdb_backend(), lake)
    batch = book.run(tables)
    claims = tables.backend.to_arrow(tables.claims).to_pylist()
    lines = pd.read_parquet(lake / "claim_lines")
    by_claim = {cid: tuple(line_of(r) for r in g.to_dict("records")) for cid, g in lines.groupby("claim_id")}
    visits = [Visit(claim_of({**c, "level": None if c["level"] is None else str(c["level"])}), by_claim.get(c["claim_id"], ()))
              for c in claims]
    people: dict = {}
    for v in visits:
        people.setdefault(v.claim.psn_no, []).append(v)
    live = [h for v in visits for h in book.check_claim(v.claim, v.lines, people[v.claim.psn_no], scene=None)]
    batch = [h for h in batch if KINDS[h.kind].per_claim]  # 高套诊断 judges against the year: 事后 only
    assert len(batch) > 30 and len({h.rule_id for h in batch}) >= 8  # a region's worth of hits, of many rules
    assert sorted(h.key() for h in batch) == sorted(h.key() for h in live)
    assert sorted(h.vola_cont for h in batch) == sorted(h.vola_cont for h in live)
