import datetime as dt
from fractions import Fraction

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.fund.accounts import fund_accounts
from yibao.fund.income import AccountRules, registry_lines
from yibao.money import Rounding
from yibao.fund.kpi import assistance_ratio, indicators, inscope_ratio, personal_burden, subsidy_to_fee
from yibao.fund.warning import scheme_figures
from yibao.synth.config import SynthConfig
from yibao.synth.generate import generate

AMOUNTS = ("medfee_sumamt", "inscp_scp_amt", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifob_pay", "hifmi_pay",
           "maf_pay", "oth_pay", "acct_pay", "acct_mulaid_pay", "psn_part_amt")


def claim(cid, psn, insutype, med_type, day, **paid):
    row = {"claim_id": cid, "psn_no": psn, "insutype": insutype, "med_type": med_type, "dscg_date": day}
    row |= {k: paid.get(k, 0) for k in AMOUNTS}
    row["fund_pay_sumamt"] = sum(row[k] for k in ("hifp_pay", "cvlserv_pay", "hifes_pay", "hifob_pay", "hifmi_pay",
                                                  "maf_pay", "oth_pay"))
    return row


STATEMENTS = pd.DataFrame([
    # 职工 stays: paid 6,000 + 1,000 大额 of 10,000 in scope, and 3,000 of 5,000
    claim("e1", "p1", "310", "21", dt.date(2024, 2, 1), medfee_sumamt=12_000, inscp_scp_amt=10_000, hifp_pay=6_000,
          hifob_pay=1_000, psn_part_amt=5_000),
    claim("e2", "p1", "310", "21", dt.date(2024, 5, 1), medfee_sumamt=5_000, inscp_scp_amt=5_000, hifp_pay=3_000,
          psn_part_amt=2_000),
    # an outpatient visit: not in the inpatient ratios
    claim("e3", "p1", "310", "11", dt.date(2024, 5, 2), medfee_sumamt=100, inscp_scp_amt=100, hifp_pay=100),
    # 居民 stays of a 低保 person (r1) while she is one, and after
    claim("r1", "p2", "390", "21", dt.date(2024, 3, 1), medfee_sumamt=10_000, inscp_scp_amt=8_000, hifp_pay=4_000,
          hifmi_pay=1_000, maf_pay=2_100, psn_part_amt=2_900),
    claim("r2", "p2", "390", "21", dt.date(2024, 9, 1), medfee_sumamt=2_000, inscp_scp_amt=2_000, hifp_pay=1_000,
          maf_pay=0, psn_part_amt=1_000),
])
IDENTITIES = pd.DataFrame({"psn_no": ["p2", "p1"], "identity": ["dibao", "disabled"],
                           "start_date": [dt.date(2023, 1, 1), dt.date(2024, 1, 1)],
                           "end_date": [dt.date(2024, 6, 30), None]})
CONTRIBUTIONS = pd.DataFrame([
    {"psn_no": "p1", "year": 2024, "insutype": "310", "employer_fen": 50_000, "individual_fen": 20_000,
     "subsidy_fen": 0, "sponsored_fen": 0},
    {"psn_no": "p2", "year": 2024, "insutype": "390", "employer_fen": 0, "individual_fen": 100,
     "subsidy_fen": 670, "sponsored_fen": 300},
])
ACCRUALS = pd.DataFrame({"psn_no": ["p1"], "month": [1], "amount_fen": [20_000]})
MONTHS = pd.DataFrame({"psn_no": ["p1", "p2"], "insutype": ["310", "390"], "month": [1, 1]})
RULES = AccountRules(None, None, None, 0, 0, Rounding.HALF_UP, {})  # no transfer, no interest: the sums by hand


def year_accounts():
    return fund_accounts(STATEMENTS, registry_lines(CONTRIBUTIONS, MONTHS, ACCRUALS, RULES, 2024), 2024, RULES)


def test_inscope_ratio_counts_inpatient_pooling_large_expense_and_serious_illness():
    assert inscope_ratio(STATEMENTS, "310") == Fraction(10_000, 15_000)
    assert inscope_ratio(STATEMENTS, "390") == Fraction(6_000, 10_000)


def test_assistance_ratio_takes_priority_persons_while_they_hold_the_identity():
    # r1 only: 2,100 of the 8,000 − 4,000 − 1,000 left after the insurance tiers
    assert assistance_ratio(STATEMENTS, IDENTITIES) == Fraction(2_100, 3_000)


def test_subsidy_to_fee_and_personal_burden():
    assert subsidy_to_fee(CONTRIBUTIONS, 2024) == Fraction(670, 400)
    assert personal_burden(STATEMENTS) == Fraction(5_000 + 2_000 + 2_900 + 1_000, 12_000 + 5_000 + 10_000 + 2_000)


def test_every_indicator_has_a_value_or_says_why_and_targets_are_judged():
    acc = year_accounts()
    out = {i.key: i for i in indicators(STATEMENTS, acc, CONTRIBUTIONS, IDENTITIES, scheme_figures(acc))}
    assert all(i.value is not None or i.why for i in out.values())
    assert out["coverage_rate"].value is None and "户籍" in out["coverage_rate"].why
    assert out["fund_income"].value == 70_000 + 1_070
    assert out["fund_spending"].value == 6_000 + 3_000 + 100 + 4_000 + 1_000 + 1_000
    zibo = next(t for t in out["inpatient_inscope_ratio_310"].targets if t.plan.startswith("淄博"))
    assert zibo.met(out["inpatient_inscope_ratio_310"].value) is False  # 66.7% < 85%
    assert next(t for t in out["subsidy_to_fee"].targets).met(out["subsidy_to_fee"].value) is True  # 1.675 ≤ 2
    shenyang = next(t for t in out["inpatient_inscope_ratio_390"].targets if t.plan.startswith("沈阳"))
    assert shenyang.met(Fraction(1, 2)) is None  # 保持稳定: words, not a line


def test_no_priority_claims_is_said_not_zero():
    acc = year_accounts()
    out = {i.key: i for i in indicators(STATEMENTS, acc, CONTRIBUTIONS, IDENTITIES.iloc[1:], scheme_figures(acc))}
    assert out["assistance_ratio"].value is None
    assert "重点救助对象" in out["assistance_ratio"].why


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("kpilake")
    generate(SynthConfig(persons=300, seed=5), out)
    return out


def test_fund_kpi_command_prints_and_writes_the_workbook(lake, tmp_path):
    book = tmp_path / "kpi.xlsx"
    res = CliRunner().invoke(app, ["fund", "kpi", "--lake", str(lake), "--pack", "zibo", "--xlsx", str(book),
                                   "--opening", "310=1", "--opening", "390=1"])
    assert res.exit_code == 0, res.output
    assert "职工医保政策范围内住院费用报销比例" in res.output and "not computable" in res.output
    wb = load_workbook(book)
    assert wb.sheetnames == ["指标 indicators", "基金账户 accounts (元)", "收支项目 items (元)", "按月结存 balances (元)",
                             "按月 monthly", "年终清算 clearing (元)", "说明 notes", "预警 warning"]
    rows = list(wb["基金账户 accounts (元)"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows][:2] == ["310100", "310200"]
    monthly = list(wb["按月 monthly"].iter_rows(min_row=2, values_only=True))
    assert round(sum(r[4] for r in monthly if r[0] == "310100"), 2) == rows[0][4]  # spending by month adds up
    december = [r for r in monthly if r[0] == "310100"][-1]
    assert december[5] == rows[0][6]  # the December balance is the closing one
    assert rows[0][2] == 1.0  # --opening 310=1
    balances = list(wb["按月结存 balances (元)"].iter_rows(values_only=True))
    assert balances[0][:2] == ("月 month", "职工统筹") and len(balances) == 13
    assert "年终清算 clearing by institution" in res.output and "按月结存" in res.output


def test_fund_kpi_without_clearing_books_the_statements_only_and_says_so(lake):
    res = CliRunner().invoke(app, ["fund", "kpi", "--lake", str(lake), "--pack", "zibo", "--no-clearing"], terminal_width=250)
    assert res.exit_code == 0, res.output
    assert "年终清算: not booked" in res.output and "clearing by institution" not in res.output
    assert "按月结存 month-end balance" in res.output and "no opening balance given" in res.output


@pytest.mark.parametrize("args, says", [
    (["--opening", "310=100"], "no opening balance for 390"),
    (["--opening", "320=100", "--opening", "390=1"], "expected 310=YUAN"),
    (["--xlsx", "out.csv"], "give a .xlsx file"),
])
def test_bad_options_are_named(lake, args, says):
    res = CliRunner().invoke(app, ["fund", "kpi", "--lake", str(lake), *args])
    assert res.exit_code == 1
    assert says in res.output
