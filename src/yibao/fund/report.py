"""The fund year as an xlsx workbook (openpyxl): accounts, monthly spending, warning and indicators."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from yibao.fund.warning import FIGURE_NAMES, SCHEME_NAMES


def _yuan(fen):
    return None if fen is None or pd.isna(fen) else int(fen) / 100


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
    ws = wb.create_sheet("基金账户 accounts")
    ws.append(["fund", "名称", "income (元)", "spending (元)", "surplus (元)"])
    for r in year.accounts.funds.itertuples(index=False):
        ws.append([r.fund, r.name, _yuan(r.income_fen), _yuan(r.spending_fen), _yuan(r.surplus_fen)])
    ws = wb.create_sheet("按月 monthly")
    ws.append(["fund", "名称", "month", "spending (元)", "income (元)"])
    for r in year.accounts.monthly.itertuples(index=False):
        ws.append([r.fund, r.name, r.month, _yuan(r.spending_fen), _yuan(r.income_fen)])
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


__all__ = ["write_workbook"]
