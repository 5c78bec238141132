"""生育津贴 on the command line (``yibao maternity allowance|year``), over a lake's year, and in the demo."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console
from typer.testing import CliRunner

import yibao.cli
from yibao.errors import ValidationError
from yibao.lake.io import read_table, table_path, write_table
from yibao.policy import load_pack
from yibao.settlement.allowance_cli import maternity_year
from yibao.settlement.allowances import maternity_allowance, maternity_days
from yibao.synth import SynthConfig, generate


def run(*args: str):
    return CliRunner().invoke(yibao.cli.app, list(args))


# ---------------------------------------------------------------- yibao maternity allowance

def test_allowance_prints_each_day_rule_with_its_citation():
    result = run("maternity", "allowance", "--pack", "shenyang", "--date", "2024-05-01", "--wage", "9000.50")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "产假 顺产" in text and "国务院令第619号" in text
    assert "地方延长产假" in text and "辽宁省人口与计划生育条例" in text
    assert "158" in text
    assert "9000.50 × 1 ÷ 30 = 300.0167 元/天" in text
    # 900050 fen × 158 ÷ 30 = 4740263.33 → 47402.63 元
    assert "47402.63" in text


def test_allowance_json_adds_up_and_cites_every_rule():
    result = run("maternity", "allowance", "--pack", "shenyang", "--date", "2024-05-01", "--wage", "6000",
                 "--birth", "caesarean", "--extra-babies", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [(r["parameter"].rsplit(".", 1)[1], r["days"]) for r in doc["rules"]] == [
        ("counts_as", 0), ("days", 113), ("extra_baby_days", 15), ("region_extra_days", 60)]
    assert all(r["ref"] for r in doc["rules"])
    assert doc["days"] == sum(r["days"] for r in doc["rules"]) == 188
    assert (doc["amount_fen"], doc["amount_yuan"]) == (3_760_000, "37600.00")  # 6000 ÷ 30 × 188
    assert doc["daily_rate"] == {"numerator": 1, "denominator": 30, "yuan": "200.0000", "ref": "武汉/北京: ÷ 30"}


def test_allowance_warns_when_the_date_is_far_past_the_pack():
    doc = json.loads(run("maternity", "allowance", "--pack", "demo", "--date", "2099-05-01", "--wage", "9000",
                         "--json").output)
    assert doc["warnings"] and "2099-05-01" in doc["warnings"][0]


@pytest.mark.parametrize("args, option, problem", [
    (["--birth", "breech"], "--birth", "'breech' is not a birth kind of pack 'demo'"),
    (["--wage", "-1"], "--wage", "negative"),
    (["--wage", "9000.123"], "--wage", "more than two decimals"),
    (["--wage", "lots"], "--wage", "not a number"),
    (["--date", "2024-02-30"], "--date", "is not a date"),
    (["--extra-babies", "-1"], "--extra-babies", "is negative"),
    (["--pack", "atlantis"], "--pack", "unknown policy pack 'atlantis'"),
])
def test_allowance_bad_input_is_a_clean_error_naming_the_option(args, option, problem):
    base = {"--pack": "demo", "--date": "2024-05-01", "--wage": "9000"}
    given = dict(zip(args[::2], args[1::2]))
    argv = [x for k, v in {**base, **given}.items() for x in (k, v)]
    result = run("maternity", "allowance", *argv)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"error: {option}: " in result.output and problem in result.output


def test_days_rules_of_a_caesarean_in_a_region_with_an_extension():
    p = load_pack("shenyang").at(dt.date(2024, 5, 1))
    rules = maternity_days(p, "caesarean", 0)
    assert [(r.rule, r.days) for r in rules] == [("剖宫产 counts as 难产", 0), ("产假 难产", 113), ("地方延长产假", 60)]
    assert [r.days for r in maternity_days(p, "miscarriage_early", 0)] == [15]  # no extension for a miscarriage


# ---------------------------------------------------------------- yibao maternity year

@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    folder = tmp_path_factory.mktemp("maternity-lake")
    generate(SynthConfig(persons=3000, seed=7, with_lines=False), folder)
    return folder


def _births_by_hand(folder) -> pd.DataFrame:
    claims = read_table(folder, "claims").to_pandas()
    persons = read_table(folder, "persons").to_pandas().set_index("psn_no")
    births = claims[(claims["med_type"] == "52") & (claims["insutype"] == "310")]
    return births[births["psn_no"].map(persons["sex"]) == "2"]


def test_year_pays_a_birth_on_the_employer_average_wage(lake):
    rows, summary = maternity_year(lake, "demo")
    births = _births_by_hand(lake)
    assert summary["births"] == len(rows) == len(births) > 5
    row = rows[rows["wage_source"] == "employer"].iloc[0]
    claim = births.set_index("claim_id").loc[row["claim_id"]]
    spells = read_table(lake, "enrollments").to_pandas()
    spell = spells[(spells["psn_no"] == row["psn_no"]) & (spells["insutype"] == "310")
                   & (spells["start_date"] <= claim["dscg_date"])
                   & (spells["end_date"].isna() | (spells["end_date"] >= claim["dscg_date"]))]
    assert len(spell) == 1
    employers = read_table(lake, "employers").to_pandas().set_index("emp_no")
    wage = int(employers.loc[spell["emp_no"].iloc[0], "avg_wage_fen"])
    days = 113 if claim["procedures"].startswith("74.1") else 98  # 剖宫产 as 难产: 98 + 15
    assert (row["monthly_wage_fen"], row["days"]) == (wage, days)
    assert row["amount_fen"] == (2 * wage * days + 30) // (2 * 30)  # wage ÷ 30 × days, half-up to the fen


def test_year_totals_add_up_and_equal_the_one_birth_function(lake):
    rows, summary = maternity_year(lake, "demo")
    paid = rows[rows["amount_fen"].notna()]
    assert summary["amount_fen"] == int(paid["amount_fen"].sum()) == int(summary["by_kind"]["amount_fen"].sum())
    assert summary["days"] == int(paid["days"].sum()) == int(summary["by_kind"]["days"].sum())
    assert summary["paid"] == len(paid) == int(summary["by_kind"]["births"].sum())
    assert set(summary["by_kind"]["birth"]) == {"normal", "caesarean"}
    pack = load_pack("demo")
    for r in paid.itertuples():
        one = maternity_allowance(pack, r.dscg_date, int(r.monthly_wage_fen), r.birth, int(r.extra_babies))
        assert (one.days, one.amount) == (r.days, r.amount_fen), r.claim_id


def test_year_pays_flexible_workers_on_their_contribution_base_and_says_so(lake):
    rows, summary = maternity_year(lake, "demo")
    flexible = rows[rows["wage_source"] == "contribution_base"]
    assert summary["contribution_base"] == len(flexible) > 0
    spells = read_table(lake, "enrollments").to_pandas()
    for r in flexible.itertuples():
        spell = spells[(spells["psn_no"] == r.psn_no) & (spells["insutype"] == "310") & spells["emp_no"].isna()]
        assert r.monthly_wage_fen in set(spell["contribution_base_fen"])
    result = run("maternity", "year", "--lake", str(lake), "--pack", "demo")
    assert f"{len(flexible)} births paid on the 灵活就业 contribution base" in result.output


def _copy_lake(lake, tmp_path):
    folder = tmp_path / "lake"
    shutil.copytree(lake, folder)
    return folder


def _rewrite(folder, table: str, frame: pd.DataFrame) -> None:
    path = table_path(folder, table)
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    write_table(folder, table, pa.Table.from_pandas(frame, preserve_index=False))


def test_year_counts_births_without_a_spell_and_other_kinds(lake, tmp_path):
    folder = _copy_lake(lake, tmp_path)
    births = _births_by_hand(folder).sort_values("claim_id")
    no_spell, twins, abortive, dystocia = births["claim_id"].iloc[:4]
    spells = read_table(folder, "enrollments").to_pandas()
    mother = births.set_index("claim_id").loc[no_spell, "psn_no"]
    _rewrite(folder, "enrollments", spells[~((spells["psn_no"] == mother) & (spells["insutype"] == "310"))])
    claims = read_table(folder, "claims").to_pandas()
    at = claims["claim_id"].map({twins: "O82.000|O30.000", abortive: "O03.900", dystocia: "O66.000"})
    claims["diagnoses"] = at.fillna(claims["diagnoses"])
    claims.loc[claims["claim_id"] == dystocia, "procedures"] = "73.5900x002"
    claims.loc[claims["claim_id"] == twins, "procedures"] = "74.1x01"  # a caesarean twin birth, whatever was drawn
    _rewrite(folder, "claims", claims)

    rows, summary = maternity_year(folder, "demo")
    by_id = rows.set_index("claim_id")
    assert summary["abortive"] == 1 and abortive not in by_id.index
    assert summary["no_spell"] == 1 and by_id.loc[no_spell, "wage_source"] == "no_spell"
    assert pd.isna(by_id.loc[no_spell, "amount_fen"])
    assert (by_id.loc[twins, "birth"], by_id.loc[twins, "extra_babies"], by_id.loc[twins, "days"]) == ("caesarean", 1, 128)
    assert (by_id.loc[dystocia, "birth"], by_id.loc[dystocia, "days"]) == ("dystocia", 113)
    assert summary["births"] == len(births) - 1 and summary["paid"] == summary["births"] - 1

    out = tmp_path / "births.parquet"
    result = run("maternity", "year", "--lake", str(folder), "--pack", "demo", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 births of persons with no 职工 spell in force at discharge: not paid" in result.output
    assert "1 生育住院 stays of an abortive outcome" in result.output
    written = pq.read_table(out).to_pandas()
    assert len(written) == len(rows) and written["amount_fen"].isna().sum() == 1


def test_year_out_csv_and_a_bad_out_name(lake, tmp_path):
    out = tmp_path / "births.csv"
    result = run("maternity", "year", "--lake", str(lake), "--pack", "shenyang", "--out", str(out))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    rows, summary = maternity_year(lake, "shenyang")
    assert written["amount_fen"].sum() == summary["amount_fen"]
    assert set(written.loc[written["birth"] == "normal", "days"]) == {158}  # 98 + 辽宁 60
    bad = run("maternity", "year", "--lake", str(lake), "--pack", "demo", "--out", str(tmp_path / "births.txt"))
    assert bad.exit_code == 1 and "births.txt: --out: .txt: use a .parquet or .csv file" in bad.output
    missing = run("maternity", "year", "--lake", str(tmp_path / "none"), "--pack", "demo")
    assert missing.exit_code == 1 and "--lake: is not a folder" in missing.output


def test_engine_refuses_a_negative_wage_naming_the_field():
    with pytest.raises(ValidationError) as e:
        maternity_allowance("demo", dt.date(2024, 5, 1), -1)
    assert e.value.field == "monthly_wage"


# ---------------------------------------------------------------- the demo's line

def test_demo_prints_the_years_maternity_allowance(lake):
    from yibao.demo import _maternity

    out = io.StringIO()
    summary = _maternity(lake, load_pack("demo"), Console(file=out, width=200))
    _, expected = maternity_year(lake, "demo")
    assert summary["amount_fen"] == expected["amount_fen"] > 0
    line = out.getvalue()
    assert f"生育津贴 maternity allowance: {expected['paid']} births paid, {expected['amount_fen'] / 100:,.2f} 元" in line
    assert "灵活就业 contribution base" in line


def test_year_far_past_the_pack_says_the_parameters_are_old(tmp_path):
    generate(SynthConfig(persons=3000, seed=7, year=2028, with_lines=False), tmp_path)
    rows, summary = maternity_year(tmp_path, "demo")
    assert len(rows) and "2028-" in summary["stale"]
    result = run("maternity", "year", "--lake", str(tmp_path), "--pack", "demo")
    assert result.exit_code == 0 and "warning: pack 'demo' changes last on" in result.output
