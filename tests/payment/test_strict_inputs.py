"""Input a user can get wrong is refused with the file, the record and the field — never paid twice,
defaulted silently or turned into a traceback; figures print in their own unit."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yibao.errors import ValidationError
from yibao.lake.io import read_table
from yibao.payment.clearing import ClearingRules, clear
from yibao.payment.dip import DipRules, check_catalog, dip_settle, format_point_value
from yibao.vocab import INPATIENT_MED_TYPES


@pytest.fixture(scope="module")
def cli():
    from yibao.cli import app

    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def catalog(lake, tmp_path_factory, cli):
    """A DIP catalog built on the lake's own year (three times, for 1:2:7)."""
    path = tmp_path_factory.mktemp("dip") / "catalog.csv"
    r = cli("dip", "build", *["--history", lake] * 3, "--out", path, "--date", "2024-06-30")
    assert r.exit_code == 0, r.output
    return path


def _settle(cli, lake, catalog, out, *extra):
    return cli("dip", "settle", "--catalog", catalog, "--cases", lake, "--fund-yuan", "5000000", "--out", out,
               "--date", "2024-06-30", *extra)


def _refused(r, *words):
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert r.output.startswith("error: ") and all(w in r.output for w in words), r.output


def test_a_catalog_row_given_twice_is_refused_naming_it(lake, catalog, tmp_path, cli):
    rows = pacsv.read_csv(catalog)
    doubled = pa.concat_tables([rows, rows.slice(4, 1)])
    pacsv.write_csv(doubled, tmp_path / "doubled.csv")
    group = rows.column("group_id")[4].as_py()
    r = _settle(cli, lake, tmp_path / "doubled.csv", tmp_path / "s.csv")
    _refused(r, "doubled.csv", f"DIP catalog row {rows.num_rows + 1} (group {group})", "duplicate group, also row 5")
    assert not (tmp_path / "s.csv").exists()


def test_a_catalog_without_scores_or_of_an_unknown_kind_is_refused(lake, catalog, tmp_path, cli):
    rows = pacsv.read_csv(catalog)
    pacsv.write_csv(rows.drop_columns(["score_e2"]), tmp_path / "unscored.csv")
    _refused(_settle(cli, lake, tmp_path / "unscored.csv", tmp_path / "s.csv"), "unscored.csv", "score_e2: missing column")
    kinds = rows.column("kind").to_pylist()
    bogus = rows.set_column(rows.column_names.index("kind"), "kind", pa.array(["bogus"] + kinds[1:]))
    pacsv.write_csv(bogus, tmp_path / "bogus.csv")
    _refused(_settle(cli, lake, tmp_path / "bogus.csv", tmp_path / "s.csv"), "row 1", "kind: 'bogus' is not core")


def test_check_catalog_refuses_scores_and_means_that_cannot_pay(lab):
    def cat(score, mean):
        return lab.table(group_id=["A09.9/"], kind=["core"], score_e2=[score], mean_cost_fen=[mean])

    with pytest.raises(ValidationError, match="row 1 .*score_e2: missing or negative score -5"):
        check_catalog(cat(-5, 100))
    with pytest.raises(ValidationError, match="mean_cost_fen: mean cost 0 is not positive"):
        check_catalog(cat(100, 0))


def test_dip_settle_leaves_cross_region_stays_to_the_national_clearing(lake, catalog, tmp_path, cli):
    claims = read_table(lake, "claims", ["claim_id", "med_type", "out_of_region"]).to_pylist()
    stays = [c for c in claims if c["med_type"] in INPATIENT_MED_TYPES]
    away = {c["claim_id"] for c in stays if c["out_of_region"]}
    assert away, "the synthetic lake should hold cross-region stays"
    r = _settle(cli, lake, catalog, tmp_path / "s.csv")
    assert r.exit_code == 0, r.output
    settled = set(pacsv.read_csv(tmp_path / "s.csv").column("case_id").to_pylist())
    assert settled == {c["claim_id"] for c in stays} - away
    assert f"{len(away)} cross-region stays (异地就医) left out" in r.output


@pytest.mark.parametrize("args, words", [
    (("dip", "build", "--history", "LAKE", "--out", "OUT/c.csv", "--date", "2024-02-30"),
     ("--date: '2024-02-30' is not a date",)),
    (("dip", "build", "--history", "LAKE", "--out", "OUT/c.csv", "--min-cases", "-1"), ("--min-cases: -1",)),
    (("dip", "settle", "--catalog", "CAT", "--cases", "LAKE", "--out", "OUT/s.csv", "--fund-yuan", "0"),
     ("--fund-yuan: 0 yuan", "must be positive")),
    (("dip", "settle", "--catalog", "CAT", "--cases", "LAKE", "--out", "OUT/s.csv", "--fund-yuan", "1e30"),
     ("--fund-yuan: 1e30 yuan", "at most 1,000,000,000,000 yuan")),
])
def test_bad_options_are_refused_naming_them(lake, catalog, tmp_path, cli, args, words):
    names = {"LAKE": lake, "CAT": catalog, "OUT/c.csv": tmp_path / "c.csv", "OUT/s.csv": tmp_path / "s.csv"}
    _refused(cli(*[names.get(a, a) for a in args]), *words)


def test_a_point_value_beyond_64_bit_fen_is_refused(lab, params):
    points = lab.table(case_id=["c1"], points_e2=[10**9])
    with pytest.raises(ValidationError, match="point_value: .* yuan per point × 10000000.00 points is beyond"):
        dip_settle(points, 10**12, DipRules.from_params(params))


def test_clearing_refuses_negative_amounts_and_an_institution_twice(lab, params):
    rules = ClearingRules.from_params(params)

    def accounts(codes, budgets):
        return lab.table(fixmedins_code=codes, budget_fen=budgets, due_fen=[100] * len(codes),
                         advances_fen=[0] * len(codes))

    with pytest.raises(ValidationError, match="institution B: budget_fen: negative or missing amount -104"):
        clear(accounts(["A", "B"], [1000, -104]), rules)
    with pytest.raises(ValidationError, match="institution A: fixmedins_code: institution listed 2 times"):
        clear(accounts(["A", "A"], [1000, 1000]), rules)


def test_pay_clear_names_the_file_and_takes_the_year_from_the_data(tmp_path, cli):
    acc = {"fixmedins_code": ["A"], "budget_fen": [1_000_000], "due_fen": [1_100_000], "advances_fen": [900_000]}
    pacsv.write_csv(pa.table({**acc, "budget_fen": [-104]}), tmp_path / "neg.csv")
    _refused(cli("pay", "clear", "--accounts", tmp_path / "neg.csv", "--year", "2024"), "neg.csv", "budget_fen")
    pacsv.write_csv(pa.table(acc), tmp_path / "acc.csv")
    _refused(cli("pay", "clear", "--accounts", tmp_path / "acc.csv"), "--year: give the year cleared")
    pacsv.write_csv(pa.table({**acc, "year": [2023]}), tmp_path / "dated.csv")
    r = cli("pay", "clear", "--accounts", tmp_path / "dated.csv")
    assert r.exit_code == 0 and "annual clearing statement 2023, 金额 元 / amounts in yuan" in r.output, r.output
    _refused(cli("pay", "clear", "--accounts", tmp_path / "dated.csv", "--year", "2024"), "2024, but the accounts are of 2023")


def test_pay_year_refuses_a_claim_id_given_twice(lake, tmp_path, cli):
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    claims = read_table(copy, "claims")
    pq.write_table(claims.slice(7, 1), copy / "claims" / "part-99999.parquet")
    r = cli("pay", "year", "--lake", copy)
    _refused(r, f"claim {claims.column('claim_id')[7].as_py()}", "claim_id: duplicate claim id (2 rows)")


def test_figures_print_in_their_own_unit(lake, catalog, tmp_path, cli):
    r = _settle(cli, lake, catalog, tmp_path / "s.csv")
    value = pacsv.read_csv(tmp_path / "s.csv").column("point_value_e4")[0].as_py()
    assert f"point value {format_point_value(value)} yuan per point" in r.output
    assert format_point_value(123_456) == "0.123456"  # ×10 000 fen per point → yuan
    r = cli("pay", "year", "--lake", lake)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # the header line wraps
    assert "yuan per point" in text and "yuan per unit weight" in text and "payment (yuan)" in text
    assert "_e4" not in text and "×1e4" not in text and "(×100)" not in text
