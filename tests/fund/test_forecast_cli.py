import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.synth.config import SynthConfig
from yibao.synth.generate import generate


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("forecastlake")
    generate(SynthConfig(persons=300, seed=5, year=2025), out)
    return out


def run(*args):
    return CliRunner().invoke(app, ["fund", *args])


def test_forecast_prints_each_year_and_writes_the_workbook(lake, tmp_path):
    book = tmp_path / "f.xlsx"
    res = run("forecast", "--lake", str(lake), "--years", "6", "--scenario", "central", "--scenario", "high",
              "--opening", "310=1000", "--opening", "390=500", "--xlsx", str(book))
    assert res.exit_code == 0, res.output
    assert "central growth" in res.output and "high growth" in res.output and "low growth" not in res.output
    assert "2031" in res.output and "2032" not in res.output
    rows = list(load_workbook(book)["预测 forecast"].iter_rows(values_only=True))
    assert rows[0][:4] == ("scenario", "year", "insutype", "insured")
    assert len(rows) == 1 + 2 * 2 * 6
    first = rows[1]
    header = rows[0]
    assert first[header.index("balance (元)")] == pytest.approx(1000 + first[header.index("surplus (元)")])


@pytest.mark.parametrize("args, says", [
    (["--years", "4"], "--years: 4: the projection horizon is 5–10 years"),
    (["--years", "11"], "horizon is 5–10"),
    (["--scenario", "medium"], "--scenario: 'medium': expected one of low, central, high"),
    (["--year", "2023"], "--year: 2023: the lake holds the settled year 2025 only"),
    (["--xlsx", "f.csv"], "give a .xlsx file"),
    (["--opening", "310=1"], "no opening balance for 390"),
])
def test_bad_forecast_options_are_named(lake, args, says):
    res = run("forecast", "--lake", str(lake), *args)
    assert res.exit_code == 1
    assert says in res.output


def test_a_lake_without_persons_is_named(lake, tmp_path):
    import shutil

    broken = tmp_path / "lake"
    shutil.copytree(lake, broken)
    (broken / "persons.parquet").unlink()
    res = run("forecast", "--lake", str(broken))
    assert res.exit_code == 1 and "persons" in res.output and "Traceback" not in res.output


def test_backtest_prints_each_cut_off_and_the_mean_errors():
    res = run("backtest")
    assert res.exit_code == 0, res.output
    assert "fit until" in res.output and "mean |error| %" in res.output
    assert "10,550.14" in res.output and "10,569.71" in res.output  # 居民 income 2023 fitted on 2021–2022


def test_ibnr_prints_the_reserve_of_each_scheme(lake):
    res = run("ibnr", "--lake", str(lake), "--seed", "3")
    assert res.exit_code == 0, res.output
    assert "职工: reserve" in res.output and "居民: reserve" in res.output and "Mack s.e." in res.output


def test_budget_prints_each_scheme_and_pool(lake):
    res = run("budget", "--lake", str(lake))
    assert res.exit_code == 0, res.output
    assert "收支预算 budget 2026" in res.output
    assert "drg_dip" in res.output and "capitation" in res.output and "以收定支 ceiling" in res.output
