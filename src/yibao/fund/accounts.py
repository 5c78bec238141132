"""Fund accounts (基金账户) of a pooling region's year, by month: income, spending and balance per fund.

Every amount is a booking line (:mod:`yibao.fund.income`: fund, month, side, item, amount, counterpart):
- income from the registry — 职工 contributions spread over the months billed, 居民 fees with the fiscal
  subsidy as its own line, the 个人账户 accruals, the 大病 transfer from 居民统筹 and the 大额 levy where the
  pack has them, 医疗救助 by its fiscal budget (the pack's, or its spending stated as funded) — and the
  pooling funds' interest (``fund.interest``: 国发〔1998〕44号, the year's money at the 活期 rate and the
  balance carried from the year before at the 3-month rate, month by month on the balance at its start);
- spending from the settled year, one row per claim (:mod:`yibao.fund.settled`), each setlinfo field
  booked to the fund it reports in the claim's month of discharge, 职工 maternity claims as 生育医疗费 beside
  the 生育津贴 (:mod:`yibao.fund.maternity`), and the payment engine's year-end clearing
  (:mod:`yibao.fund.clearing`) in December;
- balances: the opening (上年末累计结存, given for the pooling funds) plus income less spending, by month.

The claims' fields reconcile to the fen with the settled rows and the clearing with each institution's
payment result, or it is an error. A fund nothing in the lake or the pack finances (公务员补助 from the
budget, 企业补充 from employers, 其他) has no income figure rather than a zero one, and no balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError
from yibao.fund.income import INCOME, LINE_COLUMNS, SPENDING, AccountRules, lines
from yibao.money import PPM, div_round

# fund code → (名称, the setlinfo field(s) it pays, the scheme (insutype) whose claims count; None: all)
FUNDS = {
    vocab.FUND_EMPLOYEE_POOLING: ("职工统筹", ("hifp_pay",), vocab.EMPLOYEE),
    vocab.FUND_EMPLOYEE_ACCOUNT: ("个人账户", ("acct_pay", "acct_mulaid_pay"), None),
    vocab.FUND_CIVIL_SERVANT: ("公务员补助", ("cvlserv_pay",), None),
    vocab.FUND_LARGE_EXPENSE: ("职工大额", ("hifob_pay",), None),
    vocab.FUND_ENTERPRISE_SUPPLEMENTARY: ("企业补充", ("hifes_pay",), None),
    vocab.FUND_RESIDENT_POOLING: ("居民统筹", ("hifp_pay",), vocab.RESIDENT),
    vocab.FUND_RESIDENT_SERIOUS_ILLNESS: ("大病保险", ("hifmi_pay",), None),
    vocab.FUND_MEDICAL_ASSISTANCE: ("医疗救助", ("maf_pay",), None),
    vocab.FUND_OTHER: ("其他 (补充保险)", ("oth_pay",), None),
}
# what a settled claim's funds paid in all: the fund total plus the personal accounts
PAID_FIELDS = ("fund_pay_sumamt", "acct_pay", "acct_mulaid_pay")
CLAIMS_ITEM, MATERNITY_ITEM = "医疗待遇 (结算单)", "生育医疗费 (结算单)"
ASSISTANCE_FUNDED, ASSISTANCE_BUDGET = "财政安排 (按当月支出列收)", "财政预算安排"
INTEREST_ITEM = "利息收入"
INTEREST_FUNDS = (vocab.FUND_EMPLOYEE_POOLING, vocab.FUND_RESIDENT_POOLING)
OPENING_FUNDS = {vocab.EMPLOYEE: vocab.FUND_EMPLOYEE_POOLING, vocab.RESIDENT: vocab.FUND_RESIDENT_POOLING}
UNFINANCED = {vocab.FUND_CIVIL_SERVANT: "公务员补助 is financed by the fiscal budget, outside the lake",
              vocab.FUND_ENTERPRISE_SUPPLEMENTARY: "企业补充 is financed by the employers, outside the lake",
              vocab.FUND_OTHER: "其他 (补充保险) is financed outside the lake"}
STATEMENT_COLUMNS = ("claim_id", "insutype", "dscg_date") + tuple(sorted({f for _, fs, _ in FUNDS.values() for f in fs}))


@dataclass(frozen=True)
class FundAccounts:
    """A year's accounts. ``funds``: one row per fund (opening, income, spending, surplus, closing; income
    and balances NA for a fund nothing finances); ``monthly``: one row per fund and month (income,
    spending, balance at the month's end); ``lines``: every booking (:data:`LINE_COLUMNS` and the fund's
    name); ``notes``: what is assumed or absent; ``institutions``: the clearing's reconciliation per
    institution, when the payment engine's year was booked."""

    year: int
    funds: pd.DataFrame
    monthly: pd.DataFrame
    lines: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LINE_COLUMNS)))
    notes: tuple[str, ...] = ()
    institutions: pd.DataFrame | None = None

    def claims_paid_fen(self) -> int:
        """What the settled claims' fields booked (the statements' own spending, every fund)."""
        claims = self.lines["item"].isin([CLAIMS_ITEM, MATERNITY_ITEM])
        return int(self.lines.loc[claims, "amount_fen"].sum())

    def consolidated(self, codes, column: str) -> int:
        """``income_fen`` or ``spending_fen`` of the funds ``codes`` together, less what they pass to
        each other (a scheme's figure: 居民统筹's transfer to 大病保险 is neither its income nor its spending)."""
        f = self.funds.set_index("fund")
        total = int(sum(0 if pd.isna(f.loc[c, column]) else int(f.loc[c, column]) for c in codes))
        if self.lines.empty:
            return total
        side = INCOME if column == "income_fen" else SPENDING
        inner = (self.lines["fund"].isin(codes) & self.lines["counterpart"].isin(codes)
                 & (self.lines["side"] == side))
        return total - int(self.lines.loc[inner, "amount_fen"].sum())


def _check_statements(statements: pd.DataFrame, year: int) -> None:
    missing = [c for c in STATEMENT_COLUMNS + PAID_FIELDS if c not in statements.columns]
    if missing:
        raise ValidationError(", ".join(missing), "missing from the settled rows", "settlement statements")
    known = statements["insutype"].isin([vocab.EMPLOYEE, vocab.RESIDENT])
    if not known.all():
        bad = statements[~known].iloc[0]
        raise ValidationError("insutype", f"{bad['insutype']!r} is neither 310 nor 390", f"claim {bad['claim_id']}")
    years = pd.to_datetime(statements["dscg_date"]).dt.year
    if (years != year).any():
        bad = statements[(years != year).to_numpy()].iloc[0]
        raise ValidationError("dscg_date", f"{bad['dscg_date']} is outside the year {year}", f"claim {bad['claim_id']}")


def claim_lines(statements: pd.DataFrame) -> pd.DataFrame:
    """Each setlinfo field booked to its fund by month of discharge; 职工 maternity claims (生育门诊 and
    生育住院, med_type 51/52) as 职工统筹's 生育医疗费 (国办发〔2019〕10号: 生育保险 merged into 职工医保)."""
    month = pd.to_datetime(statements["dscg_date"]).dt.month.to_numpy()
    maternity = (statements["med_type"].isin([vocab.MED_MATERNITY_OUTPATIENT, vocab.MED_MATERNITY_INPATIENT]).to_numpy()
                 if "med_type" in statements.columns else np.zeros(len(statements), bool))
    rows = []
    for code, (_, fields, insutype) in FUNDS.items():
        hit = np.ones(len(statements), bool) if insutype is None else (statements["insutype"] == insutype).to_numpy()
        paid = sum(statements[f].to_numpy(dtype=np.int64) for f in fields) * hit
        split = maternity if code == vocab.FUND_EMPLOYEE_POOLING else np.zeros(len(statements), bool)
        for item, keep in ((CLAIMS_ITEM, ~split), (MATERNITY_ITEM, split)):
            sums = np.zeros(13, dtype=np.int64)
            np.add.at(sums, month, paid * keep)
            rows += [{"fund": code, "month": m, "side": SPENDING, "item": item, "amount_fen": int(sums[m]),
                      "counterpart": None} for m in range(1, 13)]
    return lines(rows)


def _check_lines(booked: pd.DataFrame) -> None:
    """Every line lands in one known fund, one month of the year and one side."""
    bad = booked[~booked["fund"].isin(list(FUNDS)) | ~booked["month"].between(1, 12)
                 | ~booked["side"].isin([INCOME, SPENDING])]
    if len(bad):
        r = bad.iloc[0]
        raise ValidationError("fund", f"line {r['item']!r} of fund {r['fund']!r}, month {r['month']}, side {r['side']!r} "
                              "lands in no fund, month or side of the accounts", "fund account lines")


def assistance_lines(booked: pd.DataFrame, rules: AccountRules) -> tuple[pd.DataFrame, str]:
    """医疗救助's income: the pack's fiscal budget in twelve parts (the odd fen to January), or, where the
    pack gives none, each month's spending stated as funded by the budget."""
    code = vocab.FUND_MEDICAL_ASSISTANCE
    if rules.assistance_budget_fen is not None:
        parts = np.full(12, rules.assistance_budget_fen // 12, dtype=np.int64)
        parts[: rules.assistance_budget_fen % 12] += 1
        rows = [{"fund": code, "month": m + 1, "side": INCOME, "item": ASSISTANCE_BUDGET, "amount_fen": int(parts[m]),
                 "counterpart": None} for m in range(12)]
        return lines(rows), f"医疗救助: the pack's fiscal budget ({rules.refs['assistance_budget']}) in twelve parts"
    spent = booked[(booked["fund"] == code) & (booked["side"] == SPENDING)].groupby("month")["amount_fen"].sum()
    rows = [{"fund": code, "month": int(m), "side": INCOME, "item": ASSISTANCE_FUNDED, "amount_fen": int(v),
             "counterpart": None} for m, v in spent.items()]
    return lines(rows), ("医疗救助: the pack gives no fiscal budget (fund.income.assistance_budget), so each month's "
                         "spending is stated as funded by the budget")


def _monthly_net(booked: pd.DataFrame, code: str) -> np.ndarray:
    f = booked[booked["fund"] == code]
    net = np.zeros(13, dtype=np.int64)
    sign = np.where(f["side"] == INCOME, 1, -1)
    np.add.at(net, f["month"].to_numpy(dtype=np.int64), f["amount_fen"].to_numpy(dtype=np.int64) * sign)
    return net


def interest_lines(booked: pd.DataFrame, opening: dict[str, int], rules: AccountRules) -> pd.DataFrame:
    """Each pooling fund's interest of each month: the carried balance (the opening, if positive) at the
    3-month rate and the year's own money (the in-year net at the month's start, if positive) at the 活期
    rate, each a twelfth of the yearly rate, rounded once by the pack."""
    rows = []
    for code in INTEREST_FUNDS:
        net, carried, year_money = _monthly_net(booked, code), max(opening.get(code, 0), 0), 0
        for m in range(1, 13):
            interest = (div_round(carried * rules.carried_ppm, PPM * 12, rules.rounding)
                        + div_round(max(year_money, 0) * rules.current_ppm, PPM * 12, rules.rounding))
            rows.append({"fund": code, "month": m, "side": INCOME, "item": INTEREST_ITEM, "amount_fen": interest,
                         "counterpart": None})
            year_money += int(net[m]) + interest
    return lines(rows)


def _financed(rules: AccountRules) -> set[str]:
    out = {vocab.FUND_EMPLOYEE_POOLING, vocab.FUND_EMPLOYEE_ACCOUNT, vocab.FUND_RESIDENT_POOLING,
           vocab.FUND_MEDICAL_ASSISTANCE}
    if rules.serious_illness_per_capita_fen is not None:
        out.add(vocab.FUND_RESIDENT_SERIOUS_ILLNESS)
    if rules.large_expense_levy_fen is not None:
        out.add(vocab.FUND_LARGE_EXPENSE)
    return out


def _tables(booked: pd.DataFrame, opening: dict[str, int], financed: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monthly table (income, spending, balance at month end) and the year's table per fund."""
    keys = pd.MultiIndex.from_product([list(FUNDS), range(1, 13)], names=["fund", "month"])
    sums = booked.groupby(["fund", "month", "side"])["amount_fen"].sum().unstack("side")
    sums = sums.reindex(keys).reindex(columns=[INCOME, SPENDING]).fillna(0).astype("int64").reset_index()
    monthly = pd.DataFrame({"fund": sums["fund"], "name": sums["fund"].map(lambda c: FUNDS[c][0]),
                            "month": sums["month"].astype("int64")})
    has = monthly["fund"].isin(financed).to_numpy()
    monthly["income_fen"] = pd.array(np.where(has, sums[INCOME], 0), dtype="Int64")
    monthly.loc[~has, "income_fen"] = pd.NA
    monthly["spending_fen"] = sums[SPENDING].to_numpy(dtype=np.int64)
    net = (sums[INCOME] - sums[SPENDING]).groupby(sums["fund"]).cumsum().to_numpy(dtype=np.int64)
    start = monthly["fund"].map(lambda c: opening.get(c, 0)).to_numpy(dtype=np.int64)
    monthly["balance_fen"] = pd.array(start + net, dtype="Int64")
    monthly.loc[~has, "balance_fen"] = pd.NA
    funds = monthly.groupby(["fund", "name"], sort=False).agg(
        income_fen=("income_fen", lambda s: s.sum() if s.notna().all() else pd.NA),
        spending_fen=("spending_fen", "sum")).reset_index()
    funds.insert(2, "opening_fen", pd.array([opening.get(c, 0) if c in financed else pd.NA for c in funds["fund"]],
                                            dtype="Int64"))
    funds["income_fen"] = funds["income_fen"].astype("Int64")
    funds["surplus_fen"] = funds["income_fen"] - funds["spending_fen"]
    funds["closing_fen"] = funds["opening_fen"] + funds["surplus_fen"]
    return funds, monthly


def fund_accounts(statements: pd.DataFrame, registry: pd.DataFrame, year: int, rules: AccountRules,
                  opening: dict[str, int] | None = None, clearing: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                  notes: tuple[str, ...] = (), account_opening: int | None = None) -> FundAccounts:
    """The accounts of ``year``: the settled rows, the lines financed outside them (``registry``: the
    registry's income, the transfers, the 生育津贴 — :func:`yibao.fund.income.registry_lines`,
    :func:`yibao.fund.maternity.allowance_lines`), the pack's rules, the pooling funds' opening balance
    by scheme (fen; none: 0, said), the clearing (lines, per-institution reconciliation) of
    :func:`yibao.fund.clearing.clearing_lines` and the 个人账户's balance on 1 January. Pure: every input
    is a frame or a value."""
    _check_statements(statements, year)
    claims = claim_lines(statements)
    _reconcile(claims, statements)
    parts = [claims, registry] + ([clearing[0]] if clearing is not None else [])
    booked = pd.concat([p for p in parts if len(p)], ignore_index=True)[list(LINE_COLUMNS)]
    _check_lines(booked)
    assistance, assistance_note = assistance_lines(booked, rules)
    booked = pd.concat([booked, assistance], ignore_index=True)
    by_fund = {OPENING_FUNDS[k]: int(v) for k, v in (opening or {}).items()}
    if account_opening is not None:
        by_fund[vocab.FUND_EMPLOYEE_ACCOUNT] = int(account_opening)
    booked = pd.concat([booked, interest_lines(booked, by_fund, rules)], ignore_index=True)
    financed = _financed(rules)
    funds, monthly = _tables(booked, by_fund, financed)
    said = list(notes) + [assistance_note] + _notes(rules, by_fund, clearing is not None)
    booked.insert(1, "name", booked["fund"].map(lambda c: FUNDS[c][0]))
    return FundAccounts(year, funds, monthly, booked, tuple(said), None if clearing is None else clearing[1])


def _notes(rules: AccountRules, opening: dict[str, int], cleared: bool) -> list[str]:
    out = [f"{FUNDS[c][0]}: no income figure — {why}" for c, why in UNFINANCED.items()]
    if rules.serious_illness_per_capita_fen is None:
        out.append("大病保险: the pack gives no per-capita transfer from 居民统筹 (fund.income.serious_illness_per_capita): "
                   "no income figure")
    if rules.large_expense_levy_fen is None:
        out.append("职工大额: the pack gives no levy (fund.income.large_expense_levy): no income figure")
    out.append(f"利息: {', '.join(FUNDS[c][0] for c in INTEREST_FUNDS)} at the 活期 rate on the year's money and the "
               f"3-month rate on the carried balance ({rules.refs.get('current_rate', '')})")
    given = [FUNDS[c][0] for c in FUNDS if c in opening]
    if vocab.FUND_EMPLOYEE_POOLING not in opening:
        out.append("no opening balance given for the pooling funds (--opening): they start from 0 on 1 January")
    out.append(f"opening balances: {', '.join(given) or 'none'}"
               + (" (个人账户: the lake's account_balances on 1 January)" if vocab.FUND_EMPLOYEE_ACCOUNT in opening else "")
               + "; every other fund starts from 0 on 1 January")
    out.append("年终清算: the payment engine's year is booked in December" if cleared else
               "年终清算: not booked (no payment engine result): spending is the statements' only")
    out.append("长期护理保险: the pack has 长护 benefits (benefits.ltc) but the lake holds no 长护 contributions, "
               "assessments or bills: no 长护 fund is booked" if rules.ltc else
               "长期护理保险: absent — the pack has no 长护 parameters (benefits.ltc)")
    return out


def _reconcile(claims: pd.DataFrame, statements: pd.DataFrame) -> None:
    """The claims' lines are, to the fen, what the settled rows say the funds and accounts paid."""
    paid = int(sum(statements[f].to_numpy(dtype=np.int64).sum() for f in PAID_FIELDS))
    booked = int(claims["amount_fen"].sum())
    if paid != booked:
        raise ValidationError("fund_pay_sumamt", f"the fund accounts book {booked} fen but the settled rows paid "
                              f"{paid} fen (fund_pay_sumamt + acct_pay + acct_mulaid_pay)", "settlement statements")


def lake_income(folder, pack, year: int) -> pd.DataFrame:
    """The registry's lines of a lake part: its contributions, accruals and transfers by month."""
    from yibao.fund.income import enrolment_months, registry_lines
    from yibao.lake.io import read_table
    from yibao.registry.accounts import account_accruals_for_year

    enrollments = read_table(folder, "enrollments").to_pandas()
    accruals = account_accruals_for_year(enrollments, read_table(folder, "persons").to_pandas(), pack, year)
    return registry_lines(lake_contributions(folder, pack, year), enrolment_months(enrollments, year), accruals,
                          AccountRules.from_pack(pack, year), year)


def lake_maternity(folder, pack, year: int) -> pd.DataFrame:
    """The births of a lake part's year as ``yibao maternity year`` counts and pays them (a tally:
    :func:`yibao.fund.maternity.allowance_tally`)."""
    from yibao.fund.maternity import allowance_tally
    from yibao.lake.io import read_table
    from yibao.settlement.allowance_cli import TABLE_COLUMNS

    return allowance_tally(*(read_table(folder, t, columns=c) for t, c in TABLE_COLUMNS.items()), pack, year)


def lake_registry(folder, pack, year: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The lines a lake part finances outside its claims — the registry's income and transfers and the
    生育津贴 — with the notes they carry. Persons are independent, so a region's parts sum."""
    from yibao.fund.maternity import allowance_lines

    allowances, note = allowance_lines(lake_maternity(folder, pack, year), pack, year)
    return pd.concat([lake_income(folder, pack, year), allowances], ignore_index=True), (note,)


def lake_accounts(folder, pack, statements: pd.DataFrame | None = None, opening: dict[str, int] | None = None,
                  payment: dict | None = None) -> FundAccounts:
    """The accounts of a lake's year (its ``statements``, else :func:`yibao.fund.settled.settled_year`):
    reads its registry and, given the payment engine's year (:func:`yibao.payment.pay_year`), books
    its clearing."""
    from yibao.fund.clearing import clearing_lines, payments_of_lake
    from yibao.fund.settled import settled_year

    if statements is None:
        statements, _ = settled_year(folder, pack)
    year = lake_year(statements, folder)
    registry, notes = lake_registry(folder, pack, year)
    rules = AccountRules.from_pack(pack, year)
    cleared = None if payment is None else clearing_lines(statements, payments_of_lake(folder, payment), pack.rounding)
    return fund_accounts(statements, registry, year, rules, opening, cleared, notes, lake_account_opening(folder, year))


def lake_account_opening(folder, year: int) -> int | None:
    """The 个人账户 balances on 1 January of ``year`` (the lake's ``account_balances``), or None without them."""
    from yibao.lake.io import has_table, read_table

    if not has_table(folder, "account_balances"):
        return None
    balances = read_table(folder, "account_balances").to_pandas()
    return int(balances.loc[balances["year"].astype(int) == year, "balance_fen"].sum())


def lake_contributions(folder, pack, year: int) -> pd.DataFrame:
    """The lake's ``contributions`` table, or the registry's contributions due computed from its spells."""
    from yibao.lake.io import has_table, read_table
    from yibao.registry.contributions import contributions_for_year

    if has_table(folder, "contributions"):
        return read_table(folder, "contributions").to_pandas()
    identities = read_table(folder, "identities").to_pandas() if has_table(folder, "identities") else None
    return contributions_for_year(read_table(folder, "enrollments").to_pandas(), identities, pack, year)


def lake_year(statements: pd.DataFrame, folder) -> int:
    """The one year a lake's settled claims fall in."""
    years = sorted(set(pd.to_datetime(statements["dscg_date"]).dt.year))
    if len(years) != 1:
        raise ValidationError("dscg_date", f"claims discharged in {years or 'no year'}; the accounts take one year",
                              f"lake {folder}")
    return int(years[0])


__all__ = ["FUNDS", "FundAccounts", "claim_lines", "fund_accounts", "interest_lines", "lake_accounts", "lake_contributions",
           "lake_account_opening", "lake_income", "lake_maternity", "lake_registry", "lake_year"]
