"""``yibao catalog`` / ``yibao codes`` commands on their own Typer app."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from yibao.catalog.cli import register
from yibao.lake.schema import TABLES

app = typer.Typer()
register(app)
run = CliRunner().invoke


def test_catalog_show_and_search():
    r = run(app, ["catalog", "show", "110200001", "--on", "2025-03-01"])
    assert r.exit_code == 0, r.output
    assert "110200001" in r.output and "service" in r.output
    r = run(app, ["catalog", "show", "NOPE"])
    assert r.exit_code == 1 and "unknown catalog item 'NOPE'" in r.output
    r = run(app, ["catalog", "search", "阑尾", "--kind", "service"])
    assert r.exit_code == 0 and "阑尾切除术" in r.output


def test_catalog_export(tmp_path):
    out = tmp_path / "catalog.parquet"
    assert run(app, ["catalog", "export", str(out)]).exit_code == 0
    t = pq.read_table(out)
    assert t.schema.equals(TABLES["catalog"]) and t.num_rows >= 2000
    csv = tmp_path / "prices.csv"
    assert run(app, ["catalog", "export", str(csv), "--prices"]).exit_code == 0
    assert list(pd.read_csv(csv, dtype=str).columns) == ["item_code", "level", "price_fen"]


def test_codes_lookup_and_check():
    r = run(app, ["codes", "lookup", "K35.800x001"])
    assert r.exit_code == 0 and "急性阑尾炎" in r.output and "消化系统疾病" in r.output
    r = run(app, ["codes", "lookup", "47.0", "--system", "icd9"])
    assert r.exit_code == 0 and "阑尾切除术" in r.output and "8 code(s)" in r.output
    r = run(app, ["codes", "check", "K35.800x001", "K35.8000"])
    assert r.exit_code == 1 and "malformed" in r.output
    assert run(app, ["codes", "check", "47.0100", "--system", "icd9"]).exit_code == 0
