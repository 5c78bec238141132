"""Fund accounts (基金账户) of a pooling region's year: income, spending and surplus per scheme and fund,
and spending by month.

Income comes from the registry: the contributions due for the year (the lake's ``contributions``
table, or computed from ``enrollments`` by :func:`yibao.registry.contributions.contributions_for_year`
when the lake has none) and the 个人账户 accruals (:func:`yibao.registry.accounts.account_accruals_for_year`),
which move part of the 职工 contributions from the pooling fund to the accounts. Spending is the
settled year, one row per claim (``yibao.settlement.settle_lake``), each setlinfo field booked to the fund
it reports; the claim's discharge date gives the month. A fund the registry does not finance
(大病, 大额, 救助 …: their money comes by transfer or fiscal budget, outside the lake) has no income
figure rather than a zero one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError

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
MONEY = ("employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen")
STATEMENT_COLUMNS = ("claim_id", "insutype", "dscg_date") + tuple(sorted({f for _, fs, _ in FUNDS.values() for f in fs}))


@dataclass(frozen=True)
class FundAccounts:
    """A year's accounts: ``year`` one row per fund (income_fen may be NA: not financed by the registry),
    ``monthly`` one row per fund and month of discharge (spending; the 个人账户's accruals as income)."""

    year: int
    funds: pd.DataFrame
    monthly: pd.DataFrame

    def spending_fen(self) -> int:
        return int(self.funds["spending_fen"].sum())


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


def _spending(statements: pd.DataFrame) -> pd.DataFrame:
    """Spending by fund and month (fen)."""
    month = pd.to_datetime(statements["dscg_date"]).dt.month.to_numpy()
    rows = []
    for code, (name, fields, insutype) in FUNDS.items():
        hit = np.ones(len(statements), bool) if insutype is None else (statements["insutype"] == insutype).to_numpy()
        paid = sum(statements[f].to_numpy(dtype=np.int64) for f in fields) * hit
        by_month = np.zeros(13, dtype=np.int64)
        np.add.at(by_month, month, paid)
        rows += [{"fund": code, "name": name, "month": m, "spending_fen": int(by_month[m])} for m in range(1, 13)]
    return pd.DataFrame(rows)


def _income(contributions: pd.DataFrame, accruals: pd.DataFrame, year: int) -> dict[str, int]:
    """Year income by fund: 职工 contributions less what accrues to the accounts; 居民 fees, subsidies and 资助."""
    due = contributions[contributions["year"].astype(int) == year]
    by = due.groupby("insutype")[list(MONEY)].sum()
    emp = int(by.loc[vocab.EMPLOYEE].sum()) if vocab.EMPLOYEE in by.index else 0
    res = int(by.loc[vocab.RESIDENT].sum()) if vocab.RESIDENT in by.index else 0
    accrued = int(accruals["amount_fen"].sum())
    if accrued > emp:
        raise ValidationError("amount_fen", f"the 个人账户 accruals ({accrued} fen) exceed the 职工 contributions "
                              f"({emp} fen)", f"year {year}")
    return {vocab.FUND_EMPLOYEE_POOLING: emp - accrued, vocab.FUND_EMPLOYEE_ACCOUNT: accrued,
            vocab.FUND_RESIDENT_POOLING: res}


def fund_accounts(statements: pd.DataFrame, contributions: pd.DataFrame, accruals: pd.DataFrame,
                  year: int) -> FundAccounts:
    """The accounts of ``year`` from its settled rows, the contributions due and the account accruals
    (psn_no, month, amount_fen). Pure: every input is a frame."""
    _check_statements(statements, year)
    monthly = _spending(statements)
    accrued = accruals.groupby("month")["amount_fen"].sum()
    account = monthly["fund"] == vocab.FUND_EMPLOYEE_ACCOUNT
    monthly["income_fen"] = pd.array([pd.NA] * len(monthly), dtype="Int64")
    monthly.loc[account, "income_fen"] = monthly.loc[account, "month"].map(accrued).fillna(0).astype("int64").to_numpy()
    income = _income(contributions, accruals, year)
    funds = monthly.groupby(["fund", "name"], sort=False)["spending_fen"].sum().reset_index()
    funds["income_fen"] = pd.array([income.get(c, pd.NA) for c in funds["fund"]], dtype="Int64")
    funds["surplus_fen"] = funds["income_fen"] - funds["spending_fen"]
    _reconcile(funds, statements)
    return FundAccounts(year, funds[["fund", "name", "income_fen", "spending_fen", "surplus_fen"]], monthly)


def _reconcile(funds: pd.DataFrame, statements: pd.DataFrame) -> None:
    """The funds' spending is, to the fen, what the settled rows say the funds and accounts paid."""
    paid = int(sum(statements[f].to_numpy(dtype=np.int64).sum() for f in PAID_FIELDS))
    booked = int(funds["spending_fen"].sum())
    if paid != booked:
        raise ValidationError("fund_pay_sumamt", f"the fund accounts book {booked} fen but the settled rows paid "
                              f"{paid} fen (fund_pay_sumamt + acct_pay + acct_mulaid_pay)", "settlement statements")


def lake_accounts(folder, pack, statements: pd.DataFrame | None = None) -> FundAccounts:
    """The accounts of a lake's year: settles it (unless ``statements`` are given) and reads its registry."""
    from yibao.lake.io import read_table
    from yibao.registry.accounts import account_accruals_for_year
    from yibao.settlement.batch import settle_lake

    if statements is None:
        statements, _ = settle_lake(folder, pack)
    year = lake_year(statements, folder)
    enrollments = read_table(folder, "enrollments").to_pandas()
    accruals = account_accruals_for_year(enrollments, read_table(folder, "persons").to_pandas(), pack, year)
    return fund_accounts(statements, lake_contributions(folder, pack, year), accruals, year)


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


__all__ = ["FUNDS", "FundAccounts", "fund_accounts", "lake_accounts", "lake_contributions", "lake_year"]
