"""settle_lake on a small synthetic region: every claim settled, conservation, KPI by scheme."""

from __future__ import annotations

import pytest

from yibao.settlement import settle_lake
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.settlement.statement import check_conservation


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    out = tmp_path_factory.mktemp("region")
    generate(SynthConfig(persons=400, seed=5), out)
    return out


@pytest.fixture(scope="module")
def settled(region):
    return settle_lake(region, "demo")


def test_settle_lake(region, settled):
    from yibao.lake.io import read_table

    result, summary = settled
    n = read_table(region, "claims", columns=["claim_id"]).num_rows
    assert len(result) == n == summary["claims"]
    for row in result.head(2000).to_dict("records"):
        check_conservation({k: int(row[k]) for k in SETLINFO_FIELDS}, row["claim_id"])
    assert result["medfee_sumamt"].sum() == sum(g["totals_fen"]["medfee_sumamt"] for g in summary["by_insutype"].values())
    for scheme in summary["by_insutype"].values():
        totals = scheme["totals_fen"]
        ratio = scheme["inscope_ratio"]
        assert ratio == (totals["hifp_pay"] + totals["hifmi_pay"] + totals["hifob_pay"]) / totals["inscp_scp_amt"]
        assert 0.2 < ratio < 1.0


def test_employee_accounts_pay_from_the_year_accrual(region, settled):
    result, summary = settled
    assert "accruals" in summary["note"]
    employees = result[result["insutype"] == "310"]
    assert employees["acct_pay"].sum() > 0
    assert (result.loc[result["insutype"] == "390", "acct_pay"] == 0).all()
    none, _ = settle_lake(region, "demo", accounts=False)
    assert none["acct_pay"].sum() == 0
    assert none["fund_pay_sumamt"].sum() == result["fund_pay_sumamt"].sum()  # accounts move no fund money


def test_cli_settles_the_region_to_parquet(region, tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from yibao.cli import app
    out = tmp_path / "settled.parquet"
    r = CliRunner().invoke(app, ["settle", "--pack", "zibo", "--claims", str(region / "claims"), "--out", str(out)],
                           terminal_width=220)
    assert r.exit_code == 0, r.output
    assert "account balances:" in r.output  # the summary was printed
    df = pd.read_parquet(out)
    assert (df["medfee_sumamt"] == df["fund_pay_sumamt"] + df["psn_part_amt"] + df["hosp_part_amt"]).all()


def test_cli_continues_a_year_from_its_accumulators(region, tmp_path):
    """--accumulators-out then --opening: the second run continues the first run's year (here the
    same claims again, so every stay count doubles)."""
    import pandas as pd
    from typer.testing import CliRunner

    from yibao.cli import app
    first, second = tmp_path / "acc1.csv", tmp_path / "acc2.parquet"
    r = CliRunner().invoke(app, ["settle", "--claims", str(region), "--accumulators-out", str(first)], terminal_width=220)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["settle", "--claims", str(region), "--opening", str(first),
                                 "--accumulators-out", str(second)], terminal_width=220)
    assert r.exit_code == 0, r.output
    a = pd.read_csv(first, dtype={"psn_no": str}).set_index(["psn_no", "year", "key"])["amount_fen"]
    b = pd.read_parquet(second).set_index(["psn_no", "year", "key"])["amount_fen"]
    stays = a.xs("stays", level="key")
    assert len(stays) > 10
    assert (b.xs("stays", level="key").loc[stays.index] == 2 * stays).all()
    r = CliRunner().invoke(app, ["settle", "--claims", str(region), "--opening", str(tmp_path / "none.csv")])
    assert r.exit_code == 1 and "opening" in r.output
