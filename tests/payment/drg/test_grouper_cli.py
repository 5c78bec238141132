"""``yibao drg group`` on a small CSV (tests/payment/drg/cases/small.csv), on Parquet, on input read in
several chunks, and on bad input (a clean ``error: …`` and status 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.payment.drg import cli as drg_cli
from yibao.payment.drg import group_many
from yibao.payment.drg.synthetic import synthetic_cases

CASES = Path(__file__).parent / "cases" / "small.csv"


def run(*args: str):
    return CliRunner().invoke(app, ["drg", "group", *args])


def test_group_csv_to_csv(tmp_path):
    out = tmp_path / "groups.csv"
    res = run("--version", "chs-1.1", "--in", str(CASES), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "8 cases grouped" in res.output
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["case_id", "mdc", "adrg", "drg", "status", "reason", "cc_code", "cc_level"]
    got = dict(zip(df.case_id, zip(df.drg, df.status)))
    assert got == {
        "c1": ("AA19", "ok"),      # heart transplant
        "c2": ("BR23", "ok"),      # 脑梗死 with CC J18.900
        "c3": ("PS15", "ok"),      # newborn 1400 g, P07.200 (PS1 < 1500 g), no CC
        "c4": ("BQY", "QY"),       # appendectomy 47.0901 in MDCB
        "c5": ("0000", "0000"),    # age 0 without age_days
        "c6": ("0000", "0000"),    # unknown code
        "c7": ("0000", "0000"),    # bad sex
        "c8": ("NZ19", "ok"),
    }
    reasons = dict(zip(df.case_id, df.reason))
    assert "age_days" in reasons["c5"] and "XX99.999" in reasons["c6"] and "sex" in reasons["c7"]
    assert dict(zip(df.case_id, df.cc_code))["c2"] == "J18.900"


@pytest.mark.parametrize("src_name, out_name", [("cases.parquet", "groups.parquet"),
                                                ("cases.csv.gz", "groups.csv.gz")])
def test_group_parquet_and_gzip_csv(tmp_path, src_name, out_name):
    src, out = tmp_path / src_name, tmp_path / out_name
    small = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    if src.suffix == ".parquet":
        small.to_parquet(src, index=False)
    else:
        small.to_csv(src, index=False)
    res = run("--in", str(src), "--out", str(out))
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out, dtype=str)
    assert len(df) == 8 and df.set_index("case_id").loc["c1", "drg"] == "AA19"


# -- input of any size: read in several chunks -------------------------------------------------------

@pytest.fixture(scope="module")
def many_cases() -> pd.DataFrame:
    df = synthetic_cases(4000, seed=21)
    return df.assign(procedures=[f"{p}|96.0400" if i % 3 == 0 and p else p for i, p in enumerate(df["procedures"])])


def _expected(cases: pd.DataFrame) -> pd.DataFrame:
    return group_many(cases.astype(object).where(cases.notna(), ""))


def test_csv_read_in_several_chunks_groups_every_case(tmp_path, monkeypatch, many_cases):
    src, out = tmp_path / "cases.csv", tmp_path / "groups.csv"
    many_cases.to_csv(src, index=False)
    monkeypatch.setattr(drg_cli, "CSV_BLOCK_BYTES", 8 << 10)  # ~300 KB of cases in ~40 blocks
    assert pa.array(drg_cli.read_cases(src)["diagnoses"]).num_chunks > 10
    res = run("--in", str(src), "--out", str(out))
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(got, _expected(many_cases).astype(str), check_dtype=False)


def test_parquet_of_many_row_groups_groups_every_case(tmp_path, many_cases):
    src, out = tmp_path / "cases.parquet", tmp_path / "groups.parquet"
    pq.write_table(pa.Table.from_pandas(many_cases.astype(str), preserve_index=False), src, row_group_size=300)
    assert pq.ParquetFile(src).num_row_groups > 10
    res = run("--in", str(src), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert pd.read_parquet(out)["drg"].tolist() == _expected(many_cases.astype(str))["drg"].tolist()


def test_group_many_takes_chunked_string_columns(many_cases):
    table = pa.Table.from_pandas(many_cases.astype(str), preserve_index=False)
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=250)).to_pandas()
    assert pa.array(chunked["diagnoses"]).num_chunks > 1
    pd.testing.assert_frame_equal(group_many(chunked), group_many(many_cases.astype(str)))


# -- bad input: "error: …", status 1, the file, line and column named -------------------------------

def _fails(res, *words: str) -> None:
    assert res.exit_code == 1, res.output
    assert "error:" in res.output and "Traceback" not in res.output, res.output
    for w in words:
        assert w in res.output, (w, res.output)


def test_empty_csv(tmp_path):
    src = tmp_path / "empty.csv"
    src.write_bytes(b"")
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "empty.csv", "is empty")


def test_binary_file(tmp_path):
    src = tmp_path / "photo.csv"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "photo.csv", "line 3", "binary file")


def test_utf16_csv(tmp_path):
    src = tmp_path / "u16.csv"
    src.write_bytes(CASES.read_text(encoding="utf-8").encode("utf-16"))
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "u16.csv", "UTF-16", "UTF-8")


def test_gbk_csv_names_the_line_and_column(tmp_path):
    src = tmp_path / "gbk.csv"
    src.write_bytes(CASES.read_text(encoding="utf-8").encode("gbk"))
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "gbk.csv line 2", "dept", "not UTF-8")


def test_gzip_name_on_a_file_that_is_not_gzip(tmp_path):
    src = tmp_path / "cases.csv.gz"
    src.write_bytes(CASES.read_bytes())
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "cases.csv.gz", "cannot read")


def test_csv_missing_a_required_column(tmp_path):
    src = tmp_path / "noage.csv"
    pd.read_csv(CASES, dtype=str, keep_default_na=False).drop(columns="age").to_csv(src, index=False)
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "noage.csv", "age: column missing")


def test_row_with_missing_fields(tmp_path):
    src = tmp_path / "short.csv"
    src.write_text(CASES.read_text(encoding="utf-8") + "c9,1,40\n", encoding="utf-8")
    _fails(run("--in", str(src), "--out", str(tmp_path / "o.csv")), "short.csv line 10", "3 fields")


def test_output_folder_that_does_not_exist(tmp_path):
    _fails(run("--in", str(CASES), "--out", "/nonexistent/dir/o.csv"), "/nonexistent/dir", "does not exist")


def test_missing_file_and_unavailable_version(tmp_path):
    _fails(run("--in", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o.csv")), "no such file")
    _fails(run("--version", "chs-2.0", "--in", str(CASES), "--out", str(tmp_path / "o.csv")), "not available")


def test_versions_command_lists_shipped_versions():
    res = CliRunner().invoke(app, ["drg", "versions"])
    assert res.exit_code == 0
    assert "chs-1.1" in res.output and "chs-2.0" in res.output and "names only" in res.output
