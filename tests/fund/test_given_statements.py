"""A year settled once by ``yibao settle --claims LAKE --out F.parquet`` is booked by the fund's commands
as given (``--statements F``): the same figures as settling it again, without settling it again, and
refused under another pack or when it is not that lake's year."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.synth.config import SynthConfig
from yibao.synth.generate import generate


def yibao(*args):
    return CliRunner().invoke(app, list(args), terminal_width=250)


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    lake = tmp_path_factory.mktemp("given")
    generate(SynthConfig(persons=300, seed=8), lake)
    out = lake.parent / "given-statements.parquet"
    res = yibao("settle", "--pack", "demo", "--claims", str(lake), "--out", str(out))
    assert res.exit_code == 0, res.output
    return lake, out


def _without_source(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if "statements: " not in line)


def test_the_settled_file_says_whence_and_under_which_pack(settled):
    _, out = settled
    said = pq.read_schema(out).metadata
    assert said[b"yibao.statements"] == b"batch" and said[b"yibao.pack"] == b"demo"


def test_kpi_books_the_given_year_as_it_books_the_year_settled_again(settled, monkeypatch):
    lake, out = settled
    again = yibao("fund", "kpi", "--lake", str(lake), "--no-clearing")
    assert again.exit_code == 0, again.output

    def no_second_settlement(*args, **kwargs):
        raise AssertionError("the lake was settled again")

    monkeypatch.setattr("yibao.settlement.batch.settle_lake", no_second_settlement)
    given = yibao("fund", "kpi", "--lake", str(lake), "--no-clearing", "--statements", str(out))
    assert given.exit_code == 0, given.output
    assert f"statements: {out}, as yibao settle wrote them with pack demo" in given.output
    assert "statements: the lake's claims settled here with pack demo" in again.output
    assert _without_source(given.output) == _without_source(again.output)
    for command in ("forecast", "ibnr", "budget"):
        res = yibao("fund", command, "--lake", str(lake), "--statements", str(out))
        assert res.exit_code == 0, (command, res.output)
        assert "as yibao settle wrote them" in res.output


def test_a_year_settled_under_another_pack_is_refused(settled):
    lake, out = settled
    res = yibao("fund", "kpi", "--lake", str(lake), "--pack", "zibo", "--statements", str(out))
    assert res.exit_code == 1
    assert "--statements: settled with pack 'demo', not 'zibo'" in res.output


def test_a_file_that_does_not_say_it_was_settled_is_refused(settled, tmp_path):
    lake, out = settled
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(out).replace_schema_metadata(None), bare)
    res = yibao("fund", "ibnr", "--lake", str(lake), "--statements", str(bare))
    assert res.exit_code == 1 and "not a year settled by `yibao settle" in res.output
    res = yibao("fund", "ibnr", "--lake", str(lake), "--statements", str(tmp_path / "none.parquet"))
    assert res.exit_code == 1 and "--statements: no such file" in res.output


def test_a_year_short_of_one_of_the_lakes_claims_is_refused(settled, tmp_path):
    lake, out = settled
    table = pq.read_table(out)
    short = tmp_path / "short.parquet"
    pq.write_table(table.slice(1), short)  # the metadata goes with the schema
    res = yibao("fund", "budget", "--lake", str(lake), "--statements", str(short))
    assert res.exit_code == 1
    assert f"has no statement in {short.name} (1 in all)" in res.output
    assert table.column("claim_id")[0].as_py() in res.output
