"""The fund accounts' income by month (基金收入), as booking lines.

A line is one amount of one fund in one month: ``fund, month, side (income | spending), item,
amount_fen, counterpart`` — ``counterpart`` names the other fund of a transfer between funds (划转),
so a scheme's figures can net what its own funds pass to each other.

职工: the registry's yearly due of a person (单位缴费, 个人缴费) is spread evenly over the months their
职工 spell is in force on the month's last day (月末在册, the months the registry bills), the odd fen to
the earliest months; the 个人账户 accruals move their month's amount from 职工统筹 to the accounts.
居民: the year's fee (个人缴费, 资助参保 paid by 医疗救助) and the fiscal subsidy (财政补助, its own line) are
booked in January for a person enrolled on 1 January (the fee was collected in the 集中征缴期 before the
year) and in the month their spell starts for one who enrols later (assumption: the collection
month). 大病保险 receives the pack's per-capita transfer from 居民统筹 in the same month; 职工大额 the
pack's levy per person and month in force; 医疗救助 pays the 资助参保 it sponsors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError
from yibao.money import Rounding, rate_to_ppm
from yibao.registry._frames import OPEN_END, as_frame, day_numbers, month_bounds

LINE_COLUMNS = ("fund", "month", "side", "item", "amount_fen", "counterpart")
INCOME, SPENDING = "income", "spending"
# the registry's contribution parts → the line items they book as
RESIDENT_PARTS = {"individual_fen": "个人缴费", "subsidy_fen": "财政补助", "employer_fen": "单位缴费"}
EMPLOYEE_PARTS = {"employer_fen": "单位缴费", "individual_fen": "个人缴费"}


@dataclass(frozen=True)
class AccountRules:
    """What the pack says about financing and interest, at the year's end (fen, ppm; None: the pack is silent)."""

    serious_illness_per_capita_fen: int | None
    large_expense_levy_fen: int | None
    assistance_budget_fen: int | None
    current_ppm: int
    carried_ppm: int
    rounding: Rounding
    refs: dict
    ltc: bool = False  # the pack has 长护 benefits (benefits.ltc)

    @classmethod
    def from_pack(cls, pack, year: int) -> "AccountRules":
        p = pack.at(dt.date(year, 12, 31))
        paths = {"serious_illness_per_capita": "fund.income.serious_illness_per_capita",
                 "large_expense_levy": "fund.income.large_expense_levy",
                 "assistance_budget": "fund.income.assistance_budget",
                 "current_rate": "fund.interest.current_rate", "carried_rate": "fund.interest.carried_rate"}
        refs = {k: p.cite(path).ref for k, path in paths.items() if p.get(path) is not None}

        def fen(key):
            v = p.get(paths[key])
            return None if v is None else int(v)

        return cls(fen("serious_illness_per_capita"), fen("large_expense_levy"), fen("assistance_budget"),
                   rate_to_ppm(p[paths["current_rate"]]), rate_to_ppm(p[paths["carried_rate"]]), pack.rounding, refs,
                   bool(p.get("benefits.ltc.benefits")))


def lines(rows: list[dict]) -> pd.DataFrame:
    """Booking lines as a frame (amounts int64), zero amounts left out."""
    out = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
    out["amount_fen"] = out["amount_fen"].astype("int64")
    out["month"] = out["month"].astype("int64")
    return out[out["amount_fen"] != 0].reset_index(drop=True)


def _by_month(fund: str, side: str, item: str, month: np.ndarray, amount: np.ndarray,
              counterpart: str | None = None) -> list[dict]:
    sums = np.zeros(13, dtype=np.int64)
    np.add.at(sums, np.asarray(month, dtype=np.int64), np.asarray(amount, dtype=np.int64))
    return [{"fund": fund, "month": m, "side": side, "item": item, "amount_fen": int(sums[m]),
             "counterpart": counterpart} for m in range(1, 13) if sums[m]]


def enrolment_months(enrollments: pd.DataFrame, year: int) -> pd.DataFrame:
    """``psn_no, insutype, month``: each 职工 month in force on its last day (月末在册), and the one month
    a resident's year is booked in (that of the earliest 居民 spell's first day in the year)."""
    df = as_frame(enrollments, "enrollments", ("psn_no", "insutype", "start_date", "end_date"))
    start = day_numbers(df["start_date"])
    end = day_numbers(df["end_date"], open_value=OPEN_END)
    firsts, lasts = month_bounds(year)
    emp = (df["insutype"] == vocab.EMPLOYEE).to_numpy()
    parts = [pd.DataFrame({"psn_no": df["psn_no"].to_numpy()[emp & (start <= lasts[m]) & (end >= lasts[m])],
                           "insutype": vocab.EMPLOYEE, "month": m + 1}) for m in range(12)]
    res = (df["insutype"] == vocab.RESIDENT).to_numpy() & (start <= lasts[11]) & (end >= firsts[0])
    first_day = np.maximum(start[res], firsts[0])
    booked = pd.DataFrame({"psn_no": df["psn_no"].to_numpy()[res], "insutype": vocab.RESIDENT,
                           "month": np.searchsorted(firsts, first_day, side="right")})
    parts.append(booked.sort_values("month", kind="stable").drop_duplicates("psn_no"))
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    return out.astype({"month": "int64"}).sort_values(["psn_no", "insutype", "month"], kind="stable").reset_index(drop=True)


def _due(contributions: pd.DataFrame, insutype: str, year: int, parts) -> pd.DataFrame:
    c = contributions[(contributions["insutype"] == insutype).to_numpy()
                      & (contributions["year"].astype(int) == year).to_numpy()]
    return c.groupby("psn_no", sort=False)[list(parts)].sum().reset_index()


def _months_of(due: pd.DataFrame, months: pd.DataFrame, insutype: str, what: str) -> pd.DataFrame:
    """Each person's months (one row per person and month), refusing money due with no month to book it in."""
    m = months[months["insutype"] == insutype][["psn_no", "month"]]
    hit = due.merge(m, on="psn_no", how="left")
    lost = hit["month"].isna().to_numpy()
    if lost.any():
        raise ValidationError("enrollments", f"{what} is due but no enrolment spell of the year books it "
                              f"({int(lost.sum())} persons in all)", f"person {hit.loc[lost, 'psn_no'].iloc[0]}")
    return hit.astype({"month": "int64"}).sort_values(["psn_no", "month"], kind="stable").reset_index(drop=True)


def spread(total: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Each person's ``total`` (repeated on each of their rows) split evenly over their rows, the odd fen
    to the earliest rows, so the rows add up to the total exactly."""
    codes = pd.factorize(person)[0]
    n = np.bincount(codes)[codes]
    rank = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    return total // n + (rank < total % n)


def employee_lines(contributions: pd.DataFrame, months: pd.DataFrame, accruals: pd.DataFrame,
                   rules: AccountRules, year: int) -> list[dict]:
    """职工统筹's contributions by month, the accruals it passes to the 个人账户, and the 大额 levy."""
    due = _due(contributions, vocab.EMPLOYEE, year, EMPLOYEE_PARTS)
    hit = _months_of(due[due[list(EMPLOYEE_PARTS)].sum(axis=1) > 0], months, vocab.EMPLOYEE, "a 职工 contribution")
    rows = []
    for part, item in EMPLOYEE_PARTS.items():
        amount = spread(hit[part].to_numpy(dtype=np.int64), hit["psn_no"].to_numpy())
        rows += _by_month(vocab.FUND_EMPLOYEE_POOLING, INCOME, item, hit["month"].to_numpy(), amount)
    accrued = int(accruals["amount_fen"].sum())
    if accrued > int(due[list(EMPLOYEE_PARTS)].to_numpy().sum()):
        raise ValidationError("amount_fen", f"the 个人账户 accruals ({accrued} fen) exceed the 职工 contributions "
                              f"({int(due[list(EMPLOYEE_PARTS)].to_numpy().sum())} fen)", f"year {year}")
    month, amount = accruals["month"].to_numpy(dtype=np.int64), accruals["amount_fen"].to_numpy(dtype=np.int64)
    rows += _by_month(vocab.FUND_EMPLOYEE_POOLING, INCOME, "划入个人账户 (冲减)", month, -amount)
    rows += _by_month(vocab.FUND_EMPLOYEE_ACCOUNT, INCOME, "统筹基金划入 (单位缴费划转及个人缴费)", month, amount)
    if rules.large_expense_levy_fen is not None:
        billed = months[months["insutype"] == vocab.EMPLOYEE]["month"].to_numpy(dtype=np.int64)
        rows += _by_month(vocab.FUND_LARGE_EXPENSE, INCOME, "大额医疗费用补助 缴费", billed,
                          np.full(len(billed), rules.large_expense_levy_fen, dtype=np.int64))
    return rows


def resident_lines(contributions: pd.DataFrame, months: pd.DataFrame, rules: AccountRules, year: int) -> list[dict]:
    """居民统筹's fees, subsidy and 资助参保 in the booking month; the 大病 transfer; 医疗救助's sponsorship."""
    parts = [*RESIDENT_PARTS, "sponsored_fen"]
    due = _due(contributions, vocab.RESIDENT, year, parts)
    hit = _months_of(due, months, vocab.RESIDENT, "a 居民 contribution")
    month = hit["month"].to_numpy()
    rows = []
    for part, item in RESIDENT_PARTS.items():
        rows += _by_month(vocab.FUND_RESIDENT_POOLING, INCOME, item, month, hit[part].to_numpy(dtype=np.int64))
    sponsored = hit["sponsored_fen"].to_numpy(dtype=np.int64)
    rows += _by_month(vocab.FUND_RESIDENT_POOLING, INCOME, "资助参保 (医疗救助)", month, sponsored,
                      vocab.FUND_MEDICAL_ASSISTANCE)
    rows += _by_month(vocab.FUND_MEDICAL_ASSISTANCE, SPENDING, "资助参保", month, sponsored,
                      vocab.FUND_RESIDENT_POOLING)
    if rules.serious_illness_per_capita_fen is not None:
        each = np.full(len(hit), rules.serious_illness_per_capita_fen, dtype=np.int64)
        rows += _by_month(vocab.FUND_RESIDENT_POOLING, SPENDING, "划转大病保险", month, each,
                          vocab.FUND_RESIDENT_SERIOUS_ILLNESS)
        rows += _by_month(vocab.FUND_RESIDENT_SERIOUS_ILLNESS, INCOME, "居民统筹划入", month, each,
                          vocab.FUND_RESIDENT_POOLING)
    return rows


def registry_lines(contributions: pd.DataFrame, months: pd.DataFrame, accruals: pd.DataFrame,
                   rules: AccountRules, year: int) -> pd.DataFrame:
    """Every line the registry finances in ``year``: contributions due (lake ``contributions`` rows),
    the persons' months (:func:`enrolment_months`) and the 个人账户 accruals (psn_no, month, amount_fen)."""
    rows = employee_lines(contributions, months, accruals, rules, year) + resident_lines(contributions, months, rules, year)
    return lines(rows)


__all__ = ["AccountRules", "INCOME", "LINE_COLUMNS", "SPENDING", "enrolment_months", "lines", "registry_lines", "spread"]
