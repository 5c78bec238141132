"""``yibao scale settle``: the statements written as Parquet, the totals and accounts printed; bad options refused."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from yibao.cli import app


def _run(*args):
    return CliRunner().invoke(app, ["scale", "settle", *args])


def test_settle_writes_the_statements_and_prints_the_accounts(spark, region, local_statements, tmp_path):
    out = tmp_path / "statements"
    r = _run("--lake", str(region), "--out", str(out), "--buckets", "2", "--accounts")
    assert r.exit_code == 0, r.output
    written = pd.read_parquet(out).sort_values("claim_id").reset_index(drop=True)
    local = local_statements.sort_values("claim_id").reset_index(drop=True)
    assert len(written) == len(local)
    assert (written["fund_pay_sumamt"].to_numpy() == local["fund_pay_sumamt"].to_numpy()).all()
    assert "in 2 buckets" in r.output and "职工统筹" in r.output and "居民统筹" in r.output
    for insutype, claims in local.groupby("insutype").size().items():
        assert re.search(rf"{insutype}\s+│\s+{claims:,}\s+│", r.output), insutype


@pytest.mark.parametrize("args, says", [
    (["--master", "local[two]"], "--master"),
    (["--buckets", "0"], "--buckets"),
])
def test_bad_options_are_refused(region, tmp_path, args, says):
    r = _run("--lake", str(region), "--out", str(tmp_path / "s"), *args)
    assert r.exit_code == 1 and "error:" in r.output and says in r.output


def test_a_missing_lake_is_refused(tmp_path):
    r = _run("--lake", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s"))
    assert r.exit_code == 1 and "not a lake folder" in r.output


def test_an_out_that_is_a_file_is_refused(region, tmp_path):
    (tmp_path / "s").write_text("")
    r = _run("--lake", str(region), "--out", str(tmp_path / "s"))
    assert r.exit_code == 1 and "is a file" in r.output


def test_supervise_run_on_spark_takes_the_union_and_hits_what_duckdb_hits(spark, region, tmp_path, monkeypatch):
    """``yibao supervise run --backend spark``: the rules through ``spark_hits`` (the lines cached
    joined, one union), the hits file equal to DuckDB's."""
    import yibao.scale.rules as on_spark

    calls = []
    real = on_spark.spark_hits
    monkeypatch.setattr(on_spark, "spark_hits", lambda *a, **k: calls.append(1) or real(*a, **k))
    files = {name: tmp_path / f"{name}.parquet" for name in ("spark", "duckdb")}
    for name, out in files.items():
        r = CliRunner().invoke(app, ["supervise", "run", "--lake", str(region), "--out", str(out), "--backend", name])
        assert r.exit_code == 0, r.output
    assert calls == [1]
    key = ["rule_id", "claim_id", "vola_evid"]
    a, b = (pd.read_parquet(f).sort_values(key).reset_index(drop=True) for f in (files["duckdb"], files["spark"]))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 0
