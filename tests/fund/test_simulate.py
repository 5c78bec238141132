"""Policy simulation: a reform replayed through the settlement engine beside the baseline — a deductible
reform whose effect is computed by hand on a 3-person lake, the one-pass totals equal to two separate
settlements, the catastrophic line, deciles, and the reform file's strictness."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from yibao.cli import app
from yibao.errors import PolicyError
from yibao.fund.simulate import TIERS, catastrophic_line_fen, deciles, simulate_reform
from yibao.lake import io as lake_io
from yibao.policy.pack import load_pack
from yibao.settlement.batch import settle_lake
from yibao.synth import SynthConfig, generate
from yibao.vocab import INPATIENT_MED_TYPES, MED_DAY_SURGERY

DAY = "2024-01-01"
RULES = "benefits.pooling.rules"


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim-region")
    generate(SynthConfig(persons=400, seed=5), out)
    return out


def _yaml_rows(rows):
    """A table of rules as a reform file writes it: yuan and plain numbers."""
    out = []
    for r in rows:
        r = {k: float(v) if isinstance(v, Decimal) else v for k, v in r.items()}
        if "deductible" in r:
            r["deductible"] = r["deductible"] / 100
        out.append(r)
    return out


def flat_pack():
    """The demo pack with every inpatient stay paid at 100% above its deductible, without Nth-stay or
    age rules: a deductible reform's effect on the fund is then the deductible itself."""
    demo = load_pack("demo")
    rules = []
    for r in _yaml_rows(demo.at(dt.date(2024, 6, 1)).get(RULES)):
        if r["med"] == "inpatient":
            r = {k: v for k, v in r.items() if k not in ("bands", "band_basis")} | {"rate": 1.0}
        rules.append(r)
    return demo.reform({RULES: {DAY: rules}, "benefits.pooling.nth_stay": {DAY: []},
                        "benefits.pooling.deductible_free_age": {DAY: []}}, name="flat")


def deductible_reform(pack, path, add_yuan=100):
    rows = _yaml_rows(pack.at(dt.date(2024, 6, 1)).get(RULES))
    for r in rows:
        if r["med"] == "inpatient" and r["per"] == "stay":
            r["deductible"] += add_yuan
    path.write_text(yaml.safe_dump({"name": f"deductible+{add_yuan}", "ref": "simulation: 起付线 +100 元",
                                    "overrides": {RULES: {DAY: rows}}}, allow_unicode=True))
    return path


def three_person_lake(region, out):
    """The region cut to three persons with inpatient stays (every table of persons kept whole)."""
    claims = lake_io.read_table(region, "claims")
    stays = claims.filter(pc.is_in(claims["med_type"], value_set=pa.array(sorted(INPATIENT_MED_TYPES))))
    keep = pc.unique(stays["psn_no"])[:3]
    shutil.copytree(region, out)
    for table in ("claims", "claim_lines"):
        shutil.rmtree(out / table)
    mine = claims.filter(pc.is_in(claims["psn_no"], value_set=keep))
    lake_io.ChunkWriter(out, "claims").write(mine)
    lines = lake_io.read_table(region, "claim_lines")
    lake_io.ChunkWriter(out, "claim_lines").write(lines.filter(pc.is_in(lines["claim_id"], value_set=mine["claim_id"])))
    for table in ("persons", "enrollments", "identities", "coverage_choices", "account_balances"):
        if lake_io.has_table(out, table):
            t = lake_io.read_table(region, table)
            pq.write_table(t.filter(pc.is_in(t["psn_no"], value_set=keep)), lake_io.table_path(out, table))
    return out


def tier(sim, field, insutype=None):
    t = sim.tiers[sim.tiers["field"] == field]
    if insutype:
        t = t[t["insutype"] == insutype]
    return int(t["b_fen"].sum()), int(t["r_fen"].sum())


def test_deductible_plus_100_costs_the_fund_100_yuan_per_stay_above_it(region, tmp_path):
    lake = three_person_lake(region, tmp_path / "three")
    base = flat_pack()
    sim = simulate_reform(lake, base, deductible_reform(base, tmp_path / "ded.yaml"))
    rows, _ = settle_lake(lake, base)
    assert rows["psn_no"].nunique() == 3
    stays = rows[rows["med_type"].isin(INPATIENT_MED_TYPES) & (rows["med_type"] != MED_DAY_SURGERY)]  # not 日间手术 (unchanged)
    # by hand: each stay's fund share falls by 100 yuan, or by what the fund paid where that was less
    expect = int(np.minimum(stays["hifp_pay"].to_numpy(), 10_000).sum())
    assert expect > 0
    b, r = tier(sim, "hifp_pay")
    assert b == int(rows["hifp_pay"].sum())
    assert b - r == expect
    # the bill is unchanged: what the fund no longer pays, someone else does (the person, or a tier above)
    changes = {f: tier(sim, f)[1] - tier(sim, f)[0] for f, _ in TIERS}
    assert sum(changes.values()) == 0
    burden = sim.burden[sim.burden["by"] == "scheme"]
    assert int(burden["change_fen"].sum()) == changes["acct_pay"] + changes["acct_mulaid_pay"] + changes["psn_cash_pay"]
    assert int(burden["persons"].sum()) == 3


def test_one_pass_equals_two_settlements(region, tmp_path):
    base = load_pack("demo")
    f = deductible_reform(base, tmp_path / "ded.yaml", add_yuan=300)
    sim = simulate_reform(region, base, f)
    b_rows, summary = settle_lake(region, base)
    r_rows, _ = settle_lake(region, base.reform_file(f))
    assert all(said in sim.notes for said in summary["note"].split("; "))  # what the settlement says, said too
    for field, _ in TIERS:
        for ins in ("310", "390"):
            assert tier(sim, field, ins) == (int(b_rows.loc[b_rows["insutype"] == ins, field].sum()),
                                             int(r_rows.loc[r_rows["insutype"] == ins, field].sum())), (field, ins)
    assert tier(sim, "hifp_pay")[1] < tier(sim, "hifp_pay")[0]
    per_person = r_rows.groupby("psn_no")["psn_part_amt"].sum()
    line = catastrophic_line_fen(base, 2024)
    assert int(sim.catastrophic["r_above"].sum()) == int((per_person > line).sum())
    assert int(sim.burden.loc[sim.burden["by"] == "decile", "persons"].sum()) == b_rows["psn_no"].nunique()
    assert sim.payment is None and any("payment" in n for n in sim.notes)


def test_a_scope_reform_reworks_the_lines_scope(region, tmp_path):
    base = load_pack("demo")
    lines = lake_io.read_table(region, "claim_lines", columns=["item_code"]).to_pandas()
    common = lines["item_code"].value_counts().index[:20].tolist()  # the region's most billed items
    rows = [{"item_code": c, "preselfpay": 0.3, "fund_rate": 0.5} for c in common]
    f = tmp_path / "scope.yaml"
    f.write_text(yaml.safe_dump({"name": "item-rates", "ref": "simulation: 先行自付 30%, 统筹 50% for 20 items",
                                 "overrides": {"benefits.scope.item_rates": {"values": {DAY: {
                                     "value": rows, "ref": "simulation"}}}}}, allow_unicode=True))
    sim = simulate_reform(region, base, f)
    r_rows, summary = settle_lake(region, base.reform_file(f))
    assert tier(sim, "hifp_pay")[1] == int(r_rows["hifp_pay"].sum())
    ratio = sim.ratio.set_index("insutype")
    for ins in ("310", "390"):  # the inpatient ratio over the reform's own 政策范围
        assert ratio.loc[ins, "r_ratio"] == pytest.approx(summary["by_insutype"][ins]["inscope_ratio_inpatient"], abs=0)
    assert (ratio["r_ratio"] != ratio["b_ratio"]).all()
    assert any("benefits.scope" in n for n in sim.notes)


def test_catastrophic_line_is_the_cited_share_of_income():
    pack = load_pack("demo")
    at = pack.at(dt.date(2024, 12, 31))
    assert catastrophic_line_fen(pack, 2024) == at["fund.burden.disposable_income"] * 25 // 100
    assert "统计公报" in at.cite("fund.burden.disposable_income").ref


def test_deciles_split_persons_evenly_by_burden():
    d = deciles(np.array([50, 10, 40, 30, 20, 0, 90, 80, 70, 60]))
    assert d.tolist() == [6, 2, 5, 4, 3, 1, 10, 9, 8, 7]
    assert np.bincount(deciles(np.arange(25)))[1:].tolist() == [3, 2, 3, 2, 3, 2, 3, 2, 3, 2]


def test_a_misspelled_key_names_the_file_the_key_and_the_nearest(region, tmp_path):
    f = tmp_path / "typo.yaml"
    f.write_text("name: t\noverrides:\n  benefits.pooling.rulez: {2024-01-01: []}\n")
    with pytest.raises(PolicyError, match=r"typo\.yaml.*rulez.*did you mean rules"):
        simulate_reform(region, "demo", f)
    f.write_text("name: t\noverides:\n  benefits.pooling.rules: {2024-01-01: []}\n")
    with pytest.raises(PolicyError, match="needs 'overrides'"):
        simulate_reform(region, "demo", f)
    f.write_text("name: t\nrefs: x\noverrides: {}\n")
    with pytest.raises(PolicyError, match=r"typo\.yaml.*'refs'.*did you mean ref"):
        simulate_reform(region, "demo", f)
    f.write_text("name: t\noverrides:\n  benefits.pooling.rules:\n    2024-01-01:\n      - {insutype: '310', med: inpatient, "
                 "level: '*', psn: '*', deductable: 900, per: stay, rate: 0.9, cap_group: pooling}\n")
    with pytest.raises(PolicyError, match=r"typo\.yaml.*unknown column 'deductable'.*did you mean deductible"):
        simulate_reform(region, "demo", f)
    f.write_text("name: t\noverrides: [benefits.pooling.rules]\n")
    with pytest.raises(PolicyError, match=r"typo\.yaml: overrides: expected a mapping"):
        simulate_reform(region, "demo", f)
    with pytest.raises(PolicyError, match="no such reform file"):
        simulate_reform(region, "demo", tmp_path / "missing.yaml")


def test_the_command_prints_the_report_and_writes_the_workbook(region, tmp_path):
    from openpyxl import load_workbook

    f = deductible_reform(load_pack("demo"), tmp_path / "ded.yaml")
    out = tmp_path / "sim.xlsx"
    res = CliRunner().invoke(app, ["fund", "simulate", "--lake", str(region), "--reform", str(f), "--xlsx", str(out)])
    assert res.exit_code == 0, res.output
    assert "统筹基金" in res.output and "高额医疗费用支出" in res.output and "D10" in res.output
    wb = load_workbook(out)
    assert {"tiers", "burden", "catastrophic", "ratio", "notes"} <= set(wb.sheetnames)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\noverrides:\n  benefits.pooling.rulez: {2024-01-01: []}\n")
    res = CliRunner().invoke(app, ["fund", "simulate", "--lake", str(region), "--reform", str(bad)])
    assert res.exit_code == 1 and "error:" in res.output and "bad.yaml" in res.output
    res = CliRunner().invoke(app, ["fund", "simulate", "--lake", str(region), "--reform", str(f), "--xlsx",
                                   str(tmp_path / "sim.csv")])
    assert res.exit_code == 1 and "--xlsx" in res.output and ".csv" in res.output


def test_a_payment_reform_goes_through_the_payment_engine(region, tmp_path):
    """A budget growing 5 points faster: the DIP point value, and so every institution's DIP value, rises
    in proportion to the budget (to the fen per case)."""
    base = load_pack("demo")
    growth = base.at(dt.date(2024, 7, 1))["payment.budget.growth_rate"]
    f = tmp_path / "growth.yaml"
    f.write_text(f"name: growth\nref: 'simulation: budget growth +5 points'\noverrides:\n"
                 f"  payment.budget.growth_rate: {{2024-01-01: {float(growth) + 0.05}}}\n")
    sim = simulate_reform(region, base, f)
    assert sim.changed == ["payment.budget.growth_rate"]
    assert tier(sim, "hifp_pay")[0] == tier(sim, "hifp_pay")[1]  # the settlement reads no payment rule
    dip = sim.payment[sim.payment["method"] == "DIP"]
    factor = (1 + float(growth) + 0.05) / (1 + float(growth))
    assert int(dip["r_fen"].sum()) == pytest.approx(int(dip["b_fen"].sum()) * factor, rel=1e-4)
    assert (sim.payment.loc[sim.payment["b_fen"] > 0, "change_fen"] > 0).all()


def test_an_account_reform_reads_the_balances_under_each_pack(region, tmp_path):
    """No accrual to the 个人账户 of active employees: the accounts pay less and cash more, as two
    separate settlements say."""
    base = load_pack("demo")
    f = tmp_path / "account.yaml"
    f.write_text("name: no-accrual\nref: 'simulation: 在职 划入 0'\noverrides:\n"
                 "  account.active_share_of_base: {2024-01-01: 0}\n")
    sim = simulate_reform(region, base, f)
    r_rows, _ = settle_lake(region, base.reform_file(f))
    for field in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay", "hifp_pay"):
        assert tier(sim, field)[1] == int(r_rows[field].sum()), field
    assert tier(sim, "acct_pay")[1] < tier(sim, "acct_pay")[0]
