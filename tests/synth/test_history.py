"""History years of a synthetic region: the same region's inpatient stays for the years before the
main one, deterministic per seed, cheap (claims only)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from yibao.lake.io import read_table
from yibao.synth import SynthConfig, generate
from yibao.synth.history import generate_history
from yibao.vocab import INPATIENT_MED_TYPES

CFG = SynthConfig(persons=2000, year=2024, seed=7, with_lines=False)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("region")
    generate(CFG, out)
    written = generate_history(CFG, out / "history", [2021, 2022, 2023])
    return out, written


def test_history_years_are_the_same_regions_inpatient_stays(region):
    out, written = region
    assert sorted(written) == [2021, 2022, 2023] and all(n > 100 for n in written.values())
    main_inst = read_table(out, "institutions")["fixmedins_code"].to_pylist()
    for year, n in written.items():
        folder = out / "history" / str(year)
        claims = read_table(folder, "claims")
        assert claims.num_rows == n
        assert set(claims["med_type"].to_pylist()) <= set(INPATIENT_MED_TYPES)
        assert set(pc.year(claims["adm_date"]).to_pylist()) == {year}
        assert all(c.startswith(f"C{year}") for c in claims["claim_id"].to_pylist())
        # the main year's institutions (same codes) and a persons table covering every claim
        assert read_table(folder, "institutions")["fixmedins_code"].to_pylist() == main_inst
        assert set(claims["psn_no"].to_pylist()) <= set(read_table(folder, "persons")["psn_no"].to_pylist())


def test_history_is_deterministic_per_seed_and_differs_by_year_and_seed(region, tmp_path):
    out, _ = region
    again = generate_history(CFG, tmp_path / "again", [2023])
    a = read_table(out / "history" / "2023", "claims")
    assert again[2023] == a.num_rows and read_table(tmp_path / "again" / "2023", "claims").equals(a)
    costs = {y: read_table(out / "history" / str(y), "claims")["medfee_sumamt_fen"].to_pylist()[:50] for y in (2022, 2023)}
    assert costs[2022] != costs[2023]
    other = generate_history(SynthConfig(persons=2000, year=2024, seed=8, with_lines=False), tmp_path / "other", [2023])
    b = read_table(tmp_path / "other" / "2023", "claims")
    assert other[2023] != a.num_rows or not b.equals(a)


def test_synth_cli_writes_history_years(tmp_path):
    import typer
    from typer.testing import CliRunner

    from yibao.synth.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps "synth" a subcommand
    r = CliRunner().invoke(app, ["synth", "--persons", "800", "--seed", "9", "--year", "2024", "--out", str(tmp_path),
                                 "--no-lines", "--history-years", "2"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["2022", "2023"]
    assert "history (inpatient stays): 2022" in r.output
