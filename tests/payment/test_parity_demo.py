"""DuckDB–Spark parity on random inputs, the CLI, and a whole synthetic year."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.csv  # noqa: F401 - pa.csv
import pyarrow.parquet  # noqa: F401 - pa.parquet
import pytest
from typer.testing import CliRunner

from yibao.payment.backends import duckdb_backend
from yibao.payment.dip import DipRules, build_catalog, dip_institutions, dip_points, dip_settle, point_value, total_points
from yibao.payment.drg.payment import DrgRules, base_rate, drg_institutions, drg_pay, drg_weights

DX = ["K35.800", "K35.801", "J18.900", "J18.000", "I10.x00", "E11.900", "S72.000", "C34.900"]
PROC = ["", "", "47.0100", "47.0100x001", "87.4400", "45.1300", "79.3500|93.3900", "32.4100|54.9100"]


def _random_cases(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "case_id": [f"c{seed}-{i}" for i in range(n)],
        "fixmedins_code": [f"H{k}" for k in rng.integers(1, 6, n)],
        "diagnoses": [DX[k] for k in rng.integers(0, len(DX), n)],
        "procedures": [PROC[k] for k in rng.integers(0, len(PROC), n)],
        "drg": [f"G{k}" for k in rng.integers(0, 12, n)],
        "status": ["ok" if k else "0000" for k in rng.integers(0, 30, n)],
        "cost_fen": pa.array(rng.lognormal(13, 0.8, n).astype(np.int64)),
        "los": pa.array(rng.integers(0, 70, n), pa.int64()),
        "age": pa.array(rng.integers(0, 95, n), pa.int64()),
        "dscg_way": [("5" if k == 0 else "1") for k in rng.integers(0, 40, n)],
        "cc_level": [["MCC", "CC", None][k] for k in rng.integers(0, 3, n)],
    })


def _run(backend, params):
    drg_r = DrgRules.from_params(params)
    dip_r = dataclasses.replace(DipRules.from_params(params), core_min_cases=10)
    hist = [backend.table(_random_cases(800, s)) for s in (1, 2, 3)]
    year = backend.table(_random_cases(800, 4))
    inst = backend.table(pa.table({"fixmedins_code": [f"H{k}" for k in range(1, 6)], "level": ["3", "3", "2", "1", "0"]}))
    w = drg_weights(hist[2], drg_r)
    rate = base_rate(year, w, drg_r, 900_000_000)
    drg = drg_pay(year, w, drg_r, rate, inst)
    cat = build_catalog(hist, dip_r)
    pts = dip_points(year, cat, inst, dip_r)
    settled = dip_settle(pts, point_value(600_000_000, dip_r.reimbursement_ratio, total_points(pts)), dip_r)
    out = {"weights": w, "drg": drg, "drg_inst": drg_institutions(drg), "catalog": cat, "dip": settled,
           "dip_inst": dip_institutions(settled)}
    return rate, {k: backend.to_arrow(v).to_pandas() for k, v in out.items()}


def test_duckdb_and_spark_pay_the_same_fen(spark, params):
    rate_d, duck = _run(duckdb_backend(), params)
    rate_s, spk = _run(spark, params)
    assert rate_d == rate_s
    keys = {"weights": "drg", "drg": "case_id", "drg_inst": "fixmedins_code", "catalog": "group_id",
            "dip": "case_id", "dip_inst": "fixmedins_code"}
    for name, key in keys.items():
        a = duck[name].sort_values(key).reset_index(drop=True)
        b = spk[name].sort_values(key).reset_index(drop=True)[a.columns]
        assert len(a) > 0
        assert a.astype(object).where(a.notna(), None).equals(b.astype(object).where(b.notna(), None)), name
    assert (duck["dip"]["deviation"] != "normal").any() and (duck["drg"]["kind"] == "review").any()


@pytest.fixture
def cli():
    from yibao.cli import app

    return lambda *args: CliRunner().invoke(app, list(args))


def test_cli_build_settle_clear(tmp_path, cli):
    for year, seed in enumerate((1, 2, 3)):
        pa.csv.write_csv(_random_cases(300, seed), tmp_path / f"h{year}.csv")
    pa.csv.write_csv(_random_cases(300, 4), tmp_path / "year.csv")
    pa.csv.write_csv(pa.table({"fixmedins_code": [f"H{k}" for k in range(1, 6)], "level": ["3", "3", "2", "1", "0"]}),
                     tmp_path / "inst.csv")
    r = cli("dip", "build", "--history", str(tmp_path / "h0.csv"), "--history", str(tmp_path / "h1.csv"),
            "--history", str(tmp_path / "h2.csv"), "--out", str(tmp_path / "cat.parquet"), "--min-cases", "10",
            "--date", "2024-06-30")
    assert r.exit_code == 0, r.output
    assert "core" in r.output
    r = cli("dip", "settle", "--catalog", str(tmp_path / "cat.parquet"), "--cases", str(tmp_path / "year.csv"),
            "--institutions", str(tmp_path / "inst.csv"), "--fund-yuan", "2000000", "--out", str(tmp_path / "s.csv"),
            "--by-institution", str(tmp_path / "i.parquet"), "--date", "2024-06-30")
    assert r.exit_code == 0, r.output
    pending = sum(x["value_fen"] for x in pa.parquet.read_table(tmp_path / "i.parquet").to_pylist())
    # the cases set aside for 特病单议 are unpaid until reviewed; rejecting them all pays their points
    aside = [c for c in pa.csv.read_csv(tmp_path / "s.csv").to_pylist() if c["review_reason"]]
    pa.csv.write_csv(pa.table({"case_id": [str(c["case_id"]) for c in aside], "decision": ["rejected"] * len(aside)}),
                     tmp_path / "reviews.csv")
    r = cli("dip", "settle", "--catalog", str(tmp_path / "cat.parquet"), "--cases", str(tmp_path / "year.csv"),
            "--institutions", str(tmp_path / "inst.csv"), "--fund-yuan", "2000000", "--out", str(tmp_path / "s.csv"),
            "--by-institution", str(tmp_path / "i.parquet"), "--date", "2024-06-30", "--reviews", str(tmp_path / "reviews.csv"))
    assert r.exit_code == 0, r.output
    inst = pa.parquet.read_table(tmp_path / "i.parquet").to_pylist()
    # all the money of the year is spread: Σ value ≈ fund ÷ ratio = 2 000 000 ÷ 0.7 yuan (± a fen per case)
    assert abs(sum(x["value_fen"] for x in inst) - 285_714_286) <= 300
    assert aside and pending < 285_714_286 - 300
    pa.csv.write_csv(pa.table({"fixmedins_code": ["A"], "budget_fen": [1_000_000], "due_fen": [1_300_000],
                               "advances_fen": [900_000]}), tmp_path / "acc.csv")
    r = cli("pay", "clear", "--accounts", str(tmp_path / "acc.csv"), "--out", str(tmp_path / "st.csv"), "--year", "2024")
    assert r.exit_code == 0, r.output
    assert "合理超支" in r.output and "1500.00" in r.output
    r = cli("dip", "settle", "--catalog", str(tmp_path / "cat.parquet"), "--cases", str(tmp_path / "year.csv"),
            "--fund-yuan", "1", "--out", str(tmp_path / "x.csv"))
    assert r.exit_code == 1 and "--institutions" in r.output


def _half_up(x: int, ppm: int) -> int:
    return (2 * x * ppm + 10**6) // (2 * 10**6)


@pytest.mark.parametrize("pack, method", [("demo", "dip"), ("shenyang", "drg")])
def test_pay_a_synthetic_year(lake, pack, method):
    from yibao.payment.year import pay_year

    res = pay_year(lake, pack, "duckdb")
    s = res["summary"].iloc[0]
    assert s["method"] == method
    assert s["inpatient_cases"] == res["dip"]["cases"].sum() + res["per_diem"]["stays"].sum()
    assert s["drg_base_rate_fen"] > 0 and s["dip_settlement_point_value_e4"] > 0
    clearing = res["clearing"]
    assert set(clearing["outcome"]) <= {"savings", "overrun", "on budget"}
    assert (clearing["settled_fen"] - clearing["advances_fen"] == clearing["balance_fen"]).all()
    assert res["budget"]["budget_fen"].sum() == clearing["budget_fen"].sum()
    # the clearing's payment due is the chosen inpatient method's fund share plus the other methods
    ratio = 700_000  # payment.dip.reimbursement_ratio 0.70 (ppm)
    inpatient = (res["dip"]["fund_due_fen"].sum() if method == "dip"
                 else sum(_half_up(int(x), ratio) for x in res["drg"]["payment_fen"]))
    others = (sum(_half_up(int(x), ratio) for x in res["per_diem"]["payment_fen"])
              + res["capitation"]["amount_fen"].sum() + res["fee_for_service"]["payment_fen"].sum())
    assert clearing["due_fen"].sum() == inpatient + others


def test_only_institutions_of_the_region_are_budgeted_and_cleared(lake):
    """Cross-region stays (异地就医) are cleared nationally: the region's budget and clearing hold only
    institutions that treated in-region claims, though the lake has out-of-region claims."""
    import pyarrow.compute as pc

    from yibao.lake.io import read_table
    from yibao.payment.year import pay_year

    claims = read_table(lake, "claims", ["fixmedins_code", "out_of_region"])
    away = set(pc.filter(claims["fixmedins_code"], pc.fill_null(claims["out_of_region"], False)).to_pylist())
    home = set(pc.filter(claims["fixmedins_code"], pc.invert(pc.fill_null(claims["out_of_region"], False))).to_pylist())
    assert away - home, "the synthetic lake should hold institutions seen only in cross-region claims"
    res = pay_year(lake, "demo", "duckdb")
    cleared = set(res["clearing"].iloc[:, 0]) | set(res["dip"]["fixmedins_code"])
    assert cleared <= home and not cleared & (away - home)


def test_review_outcomes_feed_the_institutions_and_clearing(lake):
    """The demo panel's 特病单议 decisions are paid and enter the clearing's payment due; with no
    outcomes every case set aside stays unpaid."""
    from yibao.payment.year import pay_year

    none = pa.table({"case_id": pa.array([], pa.string()), "decision": pa.array([], pa.string())})
    from yibao.payment.demo import panel_outcomes

    panel = pay_year(lake, "shenyang", "duckdb", panel=panel_outcomes)
    pending = pay_year(lake, "shenyang", "duckdb", reviews=none)
    assert panel["drg"]["review_payment_fen"].sum() > 0 and pending["drg"]["review_payment_fen"].sum() == 0
    assert (panel["drg"]["review_cost_fen"].sum() < pending["drg"]["review_cost_fen"].sum())
    ratio = 700_000
    extra = (sum(_half_up(int(x), ratio) for x in panel["drg"]["payment_fen"])
             - sum(_half_up(int(x), ratio) for x in pending["drg"]["payment_fen"]))
    assert extra > 0 and panel["clearing"]["due_fen"].sum() - pending["clearing"]["due_fen"].sum() == extra
    assert pending["dip"]["review_value_fen"].sum() == 0
    assert panel["dip"]["review_value_fen"].sum() >= 0 and panel["dip"]["review_cases"].sum() == pending["dip"]["review_cases"].sum()


@pytest.fixture(scope="module")
def lake_with_history(tmp_path_factory):
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate
    from yibao.synth.history import generate_history

    folder = tmp_path_factory.mktemp("lake_history")
    cfg = SynthConfig(persons=3000, year=2024, seed=3, with_lines=False)
    generate(cfg, folder)
    generate_history(cfg, folder / "history", [2020, 2021, 2022, 2023])
    return folder


def test_payment_is_fitted_on_the_history_years(lake_with_history):
    """DRG weights and the DIP catalog come from the years before the paid one (the last three: DIP's
    1:2:7, DRG's payment.drg.history_years; 2020 is not used); the 预算点值 from the last history
    year's points."""
    from yibao.lake.cases import history_folders
    from yibao.payment.year import pay_year

    assert [p.name for p in history_folders(lake_with_history, 2024)] == ["2020", "2021", "2022", "2023"]
    assert [p.name for p in history_folders(lake_with_history, 2022)] == ["2020", "2021"]
    fitted = pay_year(lake_with_history, "demo", "duckdb")
    itself = pay_year(lake_with_history, "demo", "duckdb", history=[])
    s, t = fitted["summary"].iloc[0], itself["summary"].iloc[0]
    assert (s["year"], s["history_years"], t["history_years"]) == (2024, "2021,2022,2023", "")
    assert s["inpatient_cases"] == t["inpatient_cases"]
    # other weights and scores: another base rate, and a budget point value set on other points
    assert s["drg_base_rate_fen"] != t["drg_base_rate_fen"]
    assert s["dip_budget_point_value_e4"] != s["dip_settlement_point_value_e4"]
    assert t["dip_budget_point_value_e4"] == t["dip_settlement_point_value_e4"]


def test_dip_build_from_a_lakes_history(lake_with_history, tmp_path, cli):
    r = cli("dip", "build", "--lake", str(lake_with_history), "--out", str(tmp_path / "cat.csv"), "--date", "2024-06-30")
    assert r.exit_code == 0, r.output
    cat = pa.csv.read_csv(tmp_path / "cat.csv").to_pylist()
    assert cat and sum(c["trimmed"] for c in cat) > 0
    assert f"{sum(c['trimmed'] for c in cat)} outlier cases trimmed" in r.output
    # the three last history years: 2021–2023, every stay of them inside the region in some group
    # (cross-region stays are cleared nationally and priced by no local catalog)
    from yibao.lake.io import read_table
    from yibao.vocab import INPATIENT_MED_TYPES

    stays = sum(sum(1 for c in read_table(lake_with_history / "history" / y, "claims").to_pylist()
                    if c["med_type"] in INPATIENT_MED_TYPES and not c["out_of_region"]) for y in ("2021", "2022", "2023"))
    assert sum(c["cases"] for c in cat) == stays
    r = cli("dip", "build", "--out", str(tmp_path / "x.csv"))
    assert r.exit_code == 1 and "--lake" in r.output


def test_pay_year_cli_takes_review_outcomes(lake, tmp_path, cli):
    from yibao.payment.year import pay_year

    res = pay_year(lake, "shenyang", "duckdb", reviews=pa.table({"case_id": pa.array([], pa.string()),
                                                                 "decision": pa.array([], pa.string())}))
    assert res["drg"]["review_cases"].sum() > 0
    # outcome files go through the CLI; one for a case nobody set aside is refused
    pa.csv.write_csv(pa.table({"case_id": ["nope"], "decision": ["approved"]}), tmp_path / "bad.csv")
    r = cli("pay", "year", "--lake", str(lake), "--pack", "shenyang", "--reviews", str(tmp_path / "bad.csv"))
    assert r.exit_code == 1 and "case nope: review: neither DRG nor DIP set the case aside" in r.output
    pa.csv.write_csv(pa.table({"case_id": pa.array([], pa.string()), "decision": pa.array([], pa.string())}),
                     tmp_path / "none.csv")
    r = cli("pay", "year", "--lake", str(lake), "--pack", "shenyang", "--reviews", str(tmp_path / "none.csv"),
            "--out", str(tmp_path / "res"))
    assert r.exit_code == 0, r.output
    import pandas as pd

    drg = pd.read_parquet(tmp_path / "res" / "drg.parquet")
    assert drg["review_payment_fen"].sum() == 0 and drg["review_cases"].sum() == res["drg"]["review_cases"].sum()
