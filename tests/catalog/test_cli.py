"""``yibao catalog`` / ``yibao codes`` commands on their own Typer app."""

from __future__ import annotations

import pandas as pd
import pytest
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


def test_catalog_show_labels_each_figure_in_its_unit():
    r = run(app, ["catalog", "show", "XA0600A0080F00000000000"])
    assert r.exit_code == 0, r.output
    rows = {cells[1].strip(): cells[2].strip() for cells in (line.split("│") for line in r.output.splitlines())
            if len(cells) == 4}
    assert "price_cap_fen" not in r.output and "preselfpay_ppm" not in r.output
    assert rows["先行自付 preselfpay (%)"] == "10"  # 100,000 ppm
    assert rows["min age (years)"] == "18"
    cap = next(k for k in rows if k.startswith("最高限价 price cap (元 / 盒)"))
    assert rows[cap].count(".") == 1 and rows[cap].replace(".", "").isdigit()  # yuan with fen, not fen


def test_catalog_search_refuses_an_unknown_kind_listing_the_known_ones():
    r = run(app, ["catalog", "search", "阑尾", "--kind", "food"])
    assert r.exit_code == 1
    assert "'food' is not a catalog item kind; known kinds: drug, service, consumable" in r.output
    assert run(app, ["catalog", "search", "阑尾", "--limit", "-1"]).exit_code == 2


@pytest.mark.parametrize("name, message", [("catalog.txt", ".txt: use a .parquet or .csv file"),
                                           ("catalog", "no suffix: use a .parquet or .csv file")])
def test_catalog_export_refuses_other_suffixes(tmp_path, name, message):
    r = run(app, ["catalog", "export", str(tmp_path / name)])
    assert r.exit_code == 1 and message in r.output and not (tmp_path / name).exists()


def test_catalog_export_into_an_unwritable_place(tmp_path):
    (tmp_path / "file").write_text("")
    r = run(app, ["catalog", "export", str(tmp_path / "file" / "c.csv")])
    assert r.exit_code == 1 and "cannot be written" in r.output and "Traceback" not in r.output
