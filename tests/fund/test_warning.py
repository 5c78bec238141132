import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from yibao.fund.accounts import FundAccounts
from yibao.fund.warning import SchemeFigures, fund_warnings, scheme_figures, warnings
from yibao.policy.pack import load_pack

PARAMS = load_pack("demo").at(dt.date(2024, 12, 31))


def accounts(emp_income, emp_spending, res_income, res_spending, serious=0) -> FundAccounts:
    funds = pd.DataFrame([
        {"fund": "310100", "name": "职工统筹", "income_fen": emp_income, "spending_fen": emp_spending},
        {"fund": "390100", "name": "居民统筹", "income_fen": res_income, "spending_fen": res_spending},
        {"fund": "390200", "name": "大病保险", "income_fen": pd.NA, "spending_fen": serious},
    ])
    return FundAccounts(2024, funds, pd.DataFrame())


def crossed(ws):
    return {(w.insutype, w.figure, w.level, str(w.line)) for w in ws}


def test_employee_balance_of_two_months_crosses_the_red_and_yellow_lines():
    # spending 1,200 a year = 100 a month; opening 100 + surplus 100 = 200 → 2 months of payment
    ws = fund_warnings(accounts(1_300, 1_200, 1_000, 900), PARAMS, {"310": 100, "390": 0})
    assert {("310", "months_of_payment", "红色", "3"), ("310", "months_of_payment", "黄色", "6")} <= crossed(ws)
    red = next(w for w in ws if w.level == "红色" and w.figure == "months_of_payment")
    assert red.value == Fraction(2)
    assert "累计结存可支付月数 2.00 is below the 红色 line 3" in red.message()
    assert "人社部发〔2009〕67号" in red.message()


def test_seven_months_cross_no_employee_line():
    # balance 700 over 100 a month: inside the 6–9 month range
    ws = fund_warnings(accounts(1_300, 1_200, 1_000, 900), PARAMS, {"310": 600, "390": 0})
    assert not [w for w in ws if w.insutype == "310"]


def test_twenty_months_is_too_much_balance():
    ws = fund_warnings(accounts(1_300, 1_200, 1_000, 900), PARAMS, {"310": 1_900, "390": 0})
    assert {("310", "months_of_payment", "蓝色", "9"), ("310", "months_of_payment", "橙色", "15")} == \
        {k for k in crossed(ws) if k[0] == "310"}


def test_resident_deficit_counts_the_serious_illness_it_finances():
    # 居民统筹 900 + 大病 200 = 1,100 spent against 1,000 income: a deficit of 10%
    figures = scheme_figures(accounts(1_000, 500, 1_000, 900, serious=200), {"310": 10_000, "390": 500})
    res = next(f for f in figures if f.insutype == "390")
    assert (res.spending_fen, res.surplus_fen, res.balance_fen) == (1_100, -100, 400)
    ws = warnings(figures, PARAMS.cite("fund.warning.lines").value, "")
    assert ("390", "surplus_rate", "红色", "0") in crossed(ws)
    # 400 ÷ 1,000 income = 0.40 > 0.25
    assert ("390", "balance_to_income", "橙色", "0.25") in crossed(ws)


def test_a_line_is_crossed_strictly():
    figures = [SchemeFigures("390", 0, 1_000, 750)]  # balance 250 = 25% of income: on the line, not past it
    lines = [{"insutype": "390", "figure": "balance_to_income", "side": "above", "value": Decimal("0.25"),
              "level": "橙色", "meaning": "累计结余过多"}]
    assert warnings(figures, lines, "ref") == []
    assert len(warnings([SchemeFigures("390", 1, 1_000, 750)], lines, "ref")) == 1
