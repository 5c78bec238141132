"""``yibao registry …`` commands on a tiny lake written here."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from yibao.lake.io import write_table
from yibao.lake.schema import TABLES
from yibao.registry.cli import register

D = dt.date


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.command("noop")
    def noop() -> None:  # a second command keeps ``registry`` a sub-command
        pass

    return a


def lake(tmp_path):
    spells = [
        dict(spell_id="e1", psn_no="p1", insutype="310", psn_type="11", emp_kind="employer", emp_no="E1",
             admdvs="419900", start_date=D(2024, 1, 1), end_date=None, contribution_base_fen=500_000,
             civil_servant=False),
        dict(spell_id="r1", psn_no="p1", insutype="390", psn_type="15", emp_kind=None, emp_no=None,
             admdvs="370300", start_date=D(2024, 6, 1), end_date=None, contribution_base_fen=None,
             civil_servant=False),
        dict(spell_id="r2", psn_no="p2", insutype="390", psn_type="16", emp_kind=None, emp_no=None,
             admdvs="419900", start_date=D(2020, 1, 1), end_date=None, contribution_base_fen=None,
             civil_servant=False),
    ]
    write_table(tmp_path, "enrollments", pa.Table.from_pylist(spells, schema=TABLES["enrollments"]))
    write_table(tmp_path, "identities", pa.Table.from_pylist(
        [dict(psn_no="p2", identity="tekun", start_date=D(2020, 1, 1), end_date=None)], schema=TABLES["identities"]))
    write_table(tmp_path, "persons", pa.Table.from_pylist([
        dict(psn_no="p1", certno="x", name="a", sex="1", birth_date=D(1980, 1, 1), admdvs="419900",
             household_id=None, death_date=None),
        dict(psn_no="p2", certno="y", name="b", sex="2", birth_date=D(1950, 1, 1), admdvs="419900",
             household_id=None, death_date=None)], schema=TABLES["persons"]))
    return tmp_path


def test_contributions_command_prints_totals_and_writes(tmp_path):
    folder = lake(tmp_path)
    out = tmp_path / "due.csv"
    r = CliRunner().invoke(app(), ["registry", "contributions", str(folder), "--year", "2024", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "4800.00" in r.output  # employer: 12 × 400 yuan
    assert "within the limit" in r.output
    due = pd.read_csv(out, dtype={"insutype": str})
    assert due.set_index(["psn_no", "insutype"]).loc[("p2", "390"), "sponsored_fen"] == 40_000


def test_accruals_duplicates_and_ratio_commands(tmp_path):
    folder = lake(tmp_path)
    r = CliRunner().invoke(app(), ["registry", "accruals", str(folder), "--year", "2024"])
    assert r.exit_code == 0 and "100.00" in r.output
    out = tmp_path / "dups.parquet"
    r = CliRunner().invoke(app(), ["registry", "duplicates", str(folder), "--as-of", "2024-12-31", "--out", str(out)])
    assert r.exit_code == 0 and "scheme+region" in r.output
    assert pd.read_parquet(out).overlap_days.tolist() == [214]
    r = CliRunner().invoke(app(), ["registry", "ratio", "--year", "2024"])
    assert r.exit_code == 0 and "1.6750" in r.output


def test_bad_input_is_reported_not_raised(tmp_path):
    folder = lake(tmp_path)
    r = CliRunner().invoke(app(), ["registry", "contributions", str(folder), "--year", "2024", "--pack", "nope"])
    assert r.exit_code == 1 and "unknown policy pack" in r.output
    r = CliRunner().invoke(app(), ["registry", "duplicates", str(folder), "--as-of", "2024-13-01"])
    assert r.exit_code == 1 and "not a date" in r.output


@pytest.mark.parametrize("command", ["contributions", "accruals", "duplicates"])
def test_out_must_be_parquet_or_csv(tmp_path, command):
    folder = lake(tmp_path)
    year = ["--year", "2024"] if command != "duplicates" else []
    r = CliRunner().invoke(app(), ["registry", command, str(folder), *year, "--out", str(tmp_path / "x.txt")])
    assert r.exit_code == 1 and "x.txt: --out: .txt: use a .parquet or .csv file" in r.output
    assert not (tmp_path / "x.txt").exists()
    r = CliRunner().invoke(app(), ["registry", command, str(folder), *year, "--out", str(tmp_path)])
    assert r.exit_code == 1 and "no suffix: use a .parquet or .csv file" in r.output


def test_out_suffix_chooses_the_writer(tmp_path):
    folder = lake(tmp_path)
    for name in ("due.parquet", "due.CSV"):
        r = CliRunner().invoke(app(), ["registry", "contributions", str(folder), "--year", "2024",
                                       "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    assert (tmp_path / "due.parquet").read_bytes()[:4] == b"PAR1"
    assert (tmp_path / "due.CSV").read_text().startswith("psn_no,year,insutype")


def test_corrupt_lake_file_and_impossible_year_reported(tmp_path):
    folder = lake(tmp_path)
    (folder / "enrollments.parquet").write_bytes(b"PAR1 not really")
    r = CliRunner().invoke(app(), ["registry", "contributions", str(folder), "--year", "2024"])
    assert r.exit_code == 1
    assert "enrollments.parquet: enrollments: cannot be read as the lake's enrollments table" in r.output
    for year in ("0", "99999"):
        r = CliRunner().invoke(app(), ["registry", "ratio", "--year", year])
        assert r.exit_code == 2 and "Invalid value for '--year'" in r.output


def test_contributions_say_how_rows_and_persons_differ(tmp_path):
    """p1 is enrolled in 310 and 390 at once: two rows, one person; the output says so."""
    r = CliRunner().invoke(app(), ["registry", "contributions", str(lake(tmp_path)), "--year", "2024"])
    assert r.exit_code == 0, r.output
    all_row = next(line for line in r.output.splitlines() if "│      all │" in line)
    assert all_row.split("│")[2].strip() == "2"
    text = " ".join(r.output.split())
    assert ("3 rows for 2 persons owing (of 2 enrolled during 2024): 1 owe in both 310 and 390 — 0 switched "
            "scheme during the year, 1 were enrolled in both at once") in text


def test_lake_text_that_is_no_utf8_reported(tmp_path):
    import pyarrow.parquet as pq

    folder = lake(tmp_path)
    t = pq.read_table(folder / "enrollments.parquet")
    validity, offsets, data = t.column("psn_no").combine_chunks().buffers()
    data = pa.py_buffer(b"\xff" + data.to_pybytes()[1:])  # the first psn_no starts with a byte no UTF-8 has
    bad = pa.Array.from_buffers(pa.string(), t.num_rows, [validity, offsets, data])
    pq.write_table(t.set_column(1, "psn_no", bad), folder / "enrollments.parquet")
    for command in (["contributions", "--year", "2024"], ["accruals", "--year", "2024"], ["duplicates"]):
        r = CliRunner().invoke(app(), ["registry", command[0], str(folder), *command[1:]])
        assert r.exit_code == 1, r.output
        assert "enrollments.parquet: psn_no: cannot be read" in r.output and "text must be UTF-8" in r.output
