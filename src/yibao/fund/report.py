"""The fund year as an xlsx workbook (openpyxl): indicators, accounts, their items and month-end balances,
the monthly income and spending, the clearing by institution, and the warning.

The accounts' tables are built once here (``*_rows``: a header and rows of text and fen) for the
workbook, the PDF and the console alike."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from yibao.fund.warning import FIGURE_NAMES, SCHEME_NAMES


def _yuan(fen):
    return None if fen is None or pd.isna(fen) else int(fen) / 100


SIDES = {"income": "收入 income", "spending": "支出 spending"}


def account_rows(accounts) -> tuple[list[str], list[list]]:
    """The year per fund: opening, income, spending, surplus and closing balance (fen; NA: not financed)."""
    header = ["fund", "名称", "年初结存 opening", "收入 income", "支出 spending", "结余 surplus", "年末结存 closing"]
    return header, [[r.fund, r.name, r.opening_fen, r.income_fen, r.spending_fen, r.surplus_fen, r.closing_fen]
                    for r in accounts.funds.itertuples(index=False)]


def item_rows(accounts) -> tuple[list[str], list[list]]:
    """The year's income and spending of each fund by item, transfers naming the other fund."""
    names = dict(zip(accounts.funds["fund"], accounts.funds["name"]))
    lines = accounts.lines.fillna({"counterpart": ""})
    by = lines.groupby(["fund", "side", "item", "counterpart"], sort=False)["amount_fen"].sum().reset_index()
    order = {c: i for i, c in enumerate(accounts.funds["fund"])}
    by = by.sort_values(["fund", "side"], key=lambda s: s.map(order) if s.name == "fund" else s, kind="stable")
    return (["名称", "side", "item", "金额 amount"],
            [[names[r.fund], SIDES[r.side], r.item + (f" (对方 {names[r.counterpart]})" if r.counterpart else ""),
              int(r.amount_fen)] for r in by.itertuples(index=False)])


def balance_rows(accounts) -> tuple[list[str], list[list]]:
    """Each month's end balance of every fund that has one (a row per month)."""
    m = accounts.monthly[accounts.monthly["balance_fen"].notna()]
    table = m.pivot(index="month", columns="fund", values="balance_fen")
    funds = [c for c in accounts.funds["fund"] if c in table.columns]
    names = dict(zip(accounts.funds["fund"], accounts.funds["name"]))
    return (["月 month", *[names[c] for c in funds]],
            [[str(month), *[int(table.loc[month, c]) for c in funds]] for month in table.index])


def clearing_rows(accounts) -> tuple[list[str], list[list]]:
    """Per institution: the claims' 统筹 share, what the payment engine settled, and the clearing by scheme."""
    header = ["institution", "结算单统筹 claims", "实际支付 settled", "清算 职工", "清算 居民"]
    return header, [[r.fixmedins_code, r.claims_fen, r.settled_fen, r.clearing_310_fen, r.clearing_390_fen]
                    for r in accounts.institutions.itertuples(index=False)]


def _sheet(wb, title: str, table: tuple[list[str], list[list]]) -> None:
    """A sheet of one of the tables above, money in yuan (the sheet's title says so)."""
    ws = wb.create_sheet(title)
    header, rows = table
    ws.append(header)
    for r in rows:
        ws.append([v if isinstance(v, str) else _yuan(v) for v in r])


def write_workbook(year, path: str | Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "指标 indicators"
    ws.append(["indicator", "value", "unit", "plan", "2025 target", "met", "note"])
    for ind in year.indicators:
        value = None if ind.value is None else (_yuan(ind.value) if ind.unit == "fen" else float(ind.value))
        unit = "元" if ind.unit == "fen" else ind.unit
        for t in ind.targets or [None]:
            met = None if t is None else t.met(ind.value)
            ws.append([ind.name, value, unit, t.plan if t else None, t.text if t else None,
                       None if met is None else ("yes" if met else "no"), ind.why or ind.detail])
    accounts = year.accounts
    _sheet(wb, "基金账户 accounts (元)", account_rows(accounts))
    _sheet(wb, "收支项目 items (元)", item_rows(accounts))
    _sheet(wb, "按月结存 balances (元)", balance_rows(accounts))
    ws = wb.create_sheet("按月 monthly")
    ws.append(["fund", "名称", "month", "income (元)", "spending (元)", "balance (元)"])
    for r in accounts.monthly.itertuples(index=False):
        ws.append([r.fund, r.name, r.month, _yuan(r.income_fen), _yuan(r.spending_fen), _yuan(r.balance_fen)])
    if accounts.institutions is not None:
        _sheet(wb, "年终清算 clearing (元)", clearing_rows(accounts))
    ws = wb.create_sheet("说明 notes")
    for note in accounts.notes:
        ws.append([note])
    ws = wb.create_sheet("预警 warning")
    ws.append(["scheme", "opening (元)", "income (元)", "spending (元)", "balance (元)", *FIGURE_NAMES.values()])
    for s in year.schemes:
        ws.append([SCHEME_NAMES[s.insutype], _yuan(s.opening_fen), _yuan(s.income_fen), _yuan(s.spending_fen),
                   _yuan(s.balance_fen), *[None if (v := s.figure(k)) is None else float(v) for k in FIGURE_NAMES]])
    ws.append([])
    ws.append(["warning", "figure", "value", "line", "level", "meaning", "ref"])
    for w in year.warnings:
        ws.append([SCHEME_NAMES[w.insutype], FIGURE_NAMES[w.figure], float(w.value), float(w.line), w.level,
                   w.meaning, w.ref])
    wb.save(path)


__all__ = ["account_rows", "balance_rows", "clearing_rows", "item_rows", "write_workbook"]
