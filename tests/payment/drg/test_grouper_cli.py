"""``yibao drg group`` on a small CSV (tests/payment/drg/cases/small.csv) and on Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from typer.testing import CliRunner

from yibao.payment.drg.cli import register

CASES = Path(__file__).parent / "cases" / "small.csv"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, as in the real ``yibao`` app
        pass

    register(app)
    return app


def test_group_csv_to_csv(tmp_path):
    out = tmp_path / "groups.csv"
    res = CliRunner().invoke(_app(), ["drg", "group", "--version", "chs-1.1", "--in", str(CASES), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "8 cases grouped" in res.output
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["case_id", "mdc", "adrg", "drg", "status", "reason", "cc_code", "cc_level"]
    got = dict(zip(df.case_id, zip(df.drg, df.status)))
    assert got == {
        "c1": ("AA19", "ok"),      # heart transplant
        "c2": ("BR23", "ok"),      # 脑梗死 with CC J18.900
        "c3": ("PS15", "ok"),      # newborn 1400 g, P07.200 (PS1 < 1500 g), no CC
        "c4": ("BQY", "QY"),       # appendectomy in MDCB
        "c5": ("0000", "0000"),    # age 0 without age_days
        "c6": ("0000", "0000"),    # unknown code
        "c7": ("0000", "0000"),    # bad sex
        "c8": ("NZ19", "ok"),
    }
    reasons = dict(zip(df.case_id, df.reason))
    assert "age_days" in reasons["c5"] and "XX99.999" in reasons["c6"] and "sex" in reasons["c7"]
    assert dict(zip(df.case_id, df.cc_code))["c2"] == "J18.900"


def test_group_parquet_to_parquet(tmp_path):
    src = tmp_path / "cases.parquet"
    pd.read_csv(CASES, dtype=str, keep_default_na=False).to_parquet(src, index=False)
    out = tmp_path / "groups.parquet"
    res = CliRunner().invoke(_app(), ["drg", "group", "--in", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out)
    assert len(df) == 8 and df.set_index("case_id").loc["c1", "drg"] == "AA19"


def test_bad_file_and_version_exit_2(tmp_path):
    runner = CliRunner()
    res = runner.invoke(_app(), ["drg", "group", "--in", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(_app(), ["drg", "group", "--version", "chs-2.0", "--in", str(CASES),
                                 "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "not available" in res.output


def test_versions_command_lists_shipped_versions():
    res = CliRunner().invoke(_app(), ["drg", "versions"])
    assert res.exit_code == 0
    assert "chs-1.1" in res.output and "chs-2.0" in res.output and "names only" in res.output
