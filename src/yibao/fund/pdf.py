"""The fund year as a PDF people read (ReportLab): accounts by fund and item, month-end balances and
spending by month, the clearing by institution, the risk warning and the indicators against their
targets, as tables and charts.

Chinese text is set in ReportLab's built-in CID font STSong-Light (Adobe's Chinese font pack, which
every PDF reader carries), so no font file ships with yibao. Later chapters (the forecast, a reform)
add themselves as :class:`Chapter` objects: a heading, the tables and the drawings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from yibao.fund.warning import FIGURE_NAMES, SCHEME_NAMES
from yibao.money import show_yuan

FONT = "STSong-Light"
CHART_W, CHART_H = 440, 170
PALETTE = ("#1f5a96", "#d9822b", "#3a8f4b", "#a33b3b", "#6b4c9a", "#7a7a7a")


@dataclass
class Chapter:
    """One part of the report: a heading, tables (header row first) and drawings, in that order."""

    heading: str
    tables: list[list[list[Any]]] = field(default_factory=list)
    drawings: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    widths: list[list[float] | None] = field(default_factory=list)  # column widths in mm, per table

    def width_of(self, i: int) -> list[float] | None:
        return self.widths[i] if i < len(self.widths) else None


def _wan(fen) -> float:
    """Fen → 万元, for chart axes (tables keep yuan to the fen)."""
    return 0.0 if fen is None or pd.isna(fen) else int(fen) / 1_000_000


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]], unit: str):
    """A vertical bar chart of one or more series over ``labels``."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart

    chart = _plotted(VerticalBarChart(), labels, series)
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.angle = 30 if len(labels) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    chart.valueAxis.valueMin = min(0.0, *(min(v) for v in chart.data if v))
    for i, color in enumerate(_colors(series)):
        chart.bars[i].fillColor = color
    return _drawing(title, unit, chart, series)


def line_chart(title: str, xs: list[str], series: dict[str, list[float]], unit: str):
    """A line chart of one or more series over the category labels ``xs``."""
    from reportlab.graphics.charts.linecharts import HorizontalLineChart

    chart = _plotted(HorizontalLineChart(), xs, series)
    for i, color in enumerate(_colors(series)):
        chart.lines[i].strokeColor, chart.lines[i].strokeWidth = color, 1.5
    return _drawing(title, unit, chart, series)


def _plotted(chart, labels: list[str], series: dict[str, list[float]]):
    chart.x, chart.y, chart.width, chart.height = 40, 30, CHART_W - 150, CHART_H - 20
    chart.data = [list(v) for v in series.values()]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.joinAxisMode = "bottom"  # labels under the plot, also when values go below zero
    return chart


def _colors(series: dict) -> list:
    from reportlab.lib import colors

    return [colors.HexColor(PALETTE[i % len(PALETTE)]) for i in range(len(series))]


def _drawing(title: str, unit: str, chart, series: dict):
    """The chart under its title, with a legend of its series on the right."""
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String

    d = Drawing(CHART_W, CHART_H + 40)
    d.add(String(0, CHART_H + 28, f"{title} ({unit})", fontName=FONT, fontSize=9))
    d.add(chart)
    legend = Legend()
    legend.x, legend.y = CHART_W - 100, CHART_H
    legend.fontName, legend.fontSize, legend.alignment = FONT, 7, "right"
    legend.colorNamePairs = list(zip(_colors(series), series))
    d.add(legend)
    return d


def _cells(table: tuple[list[str], list[list]]) -> list[list[str]]:
    header, rows = table
    return [header, *[[v if isinstance(v, str) else show_yuan(v) for v in r] for r in rows]]


def accounts_chapter(year) -> Chapter:
    """The year per fund and by item, with spending by fund."""
    from yibao.fund.report import account_rows, item_rows

    accounts = year.accounts
    funds = accounts.funds
    spent = funds[funds["spending_fen"] > 0]
    chart = bar_chart("各基金支出 spending by fund", list(spent["name"]),
                      {"支出 spending": [_wan(v) for v in spent["spending_fen"]]}, "万元")
    notes = ["金额 元. 收入为空的基金不由登记或政策包筹资 (公务员补助、企业补充等), 而非零收入。", *accounts.notes]
    return Chapter(f"基金账户 fund accounts {accounts.year}", [_cells(account_rows(accounts)), _cells(item_rows(accounts))],
                   [chart], notes, [[18, 22, 24, 24, 24, 24, 24], [22, 20, 100, 30]])


def monthly_chapter(year) -> Chapter:
    """Month-end balances per fund (table and chart), spending by month, and the clearing by institution."""
    from yibao.fund.report import balance_rows, clearing_rows

    accounts = year.accounts
    monthly = accounts.monthly
    months = sorted(monthly["month"].unique())
    spending, balance = {}, {}
    for name, part in monthly.groupby("name", sort=False):
        by_month = part.set_index("month")
        if by_month["spending_fen"].sum() > 0:
            spending[name] = [_wan(by_month.loc[m, "spending_fen"]) for m in months]
        if by_month["balance_fen"].notna().all():
            balance[name] = [_wan(by_month.loc[m, "balance_fen"]) for m in months]

    def top(series):  # the five largest funds stay legible
        return dict(sorted(series.items(), key=lambda kv: -sum(abs(v) for v in kv[1]))[:5])

    xs = [str(m) for m in months]
    tables = [_cells(balance_rows(accounts))]
    if accounts.institutions is not None:
        tables.append(_cells(clearing_rows(accounts)))
    return Chapter("按月收支与结存 monthly income, spending and balance (元)", tables,
                   [line_chart("月末结存 month-end balance", xs, top(balance), "万元"),
                    line_chart("按月支出 spending by month (清算 in December)", xs, top(spending), "万元")])


def warning_chapter(year) -> Chapter:
    rows = [["险种 scheme", "上年结存 (元)", "收入 (元)", "支出 (元)", "累计结存 (元)", *FIGURE_NAMES.values()]]
    for s in year.schemes:
        rows.append([SCHEME_NAMES[s.insutype], show_yuan(s.opening_fen), show_yuan(s.income_fen), show_yuan(s.spending_fen),
                     show_yuan(s.balance_fen), *["—" if (v := s.figure(k)) is None else f"{float(v):.2f}"
                                             for k in FIGURE_NAMES]])
    notes = [w.message() for w in year.warnings] or ["未触及预警线 no warning line crossed"]
    if any(s.opening_fen is None for s in year.schemes):
        notes.append("未给上年末累计结存 (--opening): 累计结存仅为本年结余")
    return Chapter("基金风险预警 risk warning", [rows], [], notes)


def indicators_chapter(year) -> Chapter:
    rows = [["指标 indicator", "本年 value", "2025 目标 targets", "说明 note"]]
    for ind in year.indicators:
        targets = "; ".join(f"{t.plan} {t.text}" + ("" if t.met(ind.value) is None else
                                                     (" ✓" if t.met(ind.value) else " ✗")) for t in ind.targets)
        rows.append([ind.name, ind.shown(), targets, ind.why or ind.detail])
    shares = [ind for ind in year.indicators if ind.unit == "share" and ind.value is not None
              and any(t.value is not None for t in ind.targets)]
    drawings = []
    if shares:
        target = [max(float(t.value) for t in ind.targets if t.value is not None) * 100 for ind in shares]
        drawings.append(bar_chart("指标与目标 indicators against their targets", [ind.name[:10] for ind in shares],
                                  {"本年 value": [float(ind.value) * 100 for ind in shares], "目标 target": target},
                                  "%"))
    return Chapter("主要指标 the plans' indicators", [rows], drawings, widths=[[45, 20, 70, 45]])


def forecast_chapter(rows: pd.DataFrame, base_year: int) -> Chapter:
    """The forecast: balance and months of payment per scheme and scenario over the horizon."""
    years = sorted(rows["year"].unique())
    balance, months = {}, {}
    for (scenario, insutype), part in rows.groupby(["scenario", "insutype"], sort=False):
        label = f"{SCHEME_NAMES[insutype]} {scenario}"
        by_year = part.set_index("year")
        balance[label] = [_wan(by_year.loc[y, "balance_fen"]) for y in years]
        months[label] = [float(by_year.loc[y, "months_of_payment"]) for y in years]
    central = rows[rows["scenario"] == "central"] if (rows["scenario"] == "central").any() else rows
    table = [["年度 year", "险种 scheme", "收入 (元)", "支出 (元)", "累计结存 (元)", "5–95% (元)", "可支付月数"]]
    table += [[str(r.year), SCHEME_NAMES[r.insutype], show_yuan(r.income_fen), show_yuan(r.spending_fen), show_yuan(r.balance_fen),
               f"{show_yuan(r.balance_p05_fen)} – {show_yuan(r.balance_p95_fen)}", f"{r.months_of_payment:.1f}"]
              for r in central.itertuples(index=False)]
    xs = [str(y) for y in years]
    return Chapter(f"基金精算预测 forecast from {base_year} (central scenario in the table)", [table],
                   [line_chart("累计结存 balance", xs, balance, "万元"),
                    line_chart("累计结存可支付月数 months of payment", xs, months, "月")],
                   ["band: bootstrap of the base year's persons (sampling error only); scenarios: cost growth "
                    "low / central / high (fund.forecast in the pack)"])


def reform_chapter(sim) -> Chapter:
    """A reform beside the baseline: spending by tier, the persons' mean burden by decile (the
    distributional effect), and the persons above the catastrophic-spending line."""
    tiers = [["险种 scheme", "支付层次 tier", "基线 baseline (元)", "改革 reform (元)", "变化 change (元)"]]
    tiers += [[SCHEME_NAMES.get(r.insutype, r.insutype), r.tier, show_yuan(r.b_fen), show_yuan(r.r_fen), show_yuan(r.change_fen)]
              for r in sim.tiers.itertuples(index=False) if r.b_fen or r.r_fen]
    above = [["险种 scheme", "高额支出线 line (元)", "人数 persons", "基线 baseline", "改革 reform"]]
    above += [[SCHEME_NAMES.get(r.insutype, r.insutype), show_yuan(r.r_line_fen), f"{r.persons:,}", f"{r.b_above:,}",
               f"{r.r_above:,}"] for r in sim.catastrophic.itertuples(index=False)]
    deciles = sim.burden[sim.burden["by"] == "decile"]
    chart = bar_chart("人均个人负担 (自付+自费) 按负担十分位 mean burden by decile", [str(g) for g in deciles["group"]],
                      {"基线 baseline": [int(v) / 100 for v in deciles["b_mean_fen"]],
                       "改革 reform": [int(v) / 100 for v in deciles["r_mean_fen"]]}, "元")
    return Chapter(f"政策模拟 {sim.reform} beside {sim.baseline}, {sim.year}", [tiers, above], [chart],
                   [f"changed: {', '.join(sim.changed) or 'nothing'}", *sim.notes])


def year_chapters(year) -> list[Chapter]:
    return [accounts_chapter(year), monthly_chapter(year), warning_chapter(year), indicators_chapter(year)]


def write_pdf(title: str, chapters: list[Chapter], path: str | Path, made_on: dt.date) -> None:
    """The report: a title, then each chapter's heading, tables, drawings and notes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    h1 = ParagraphStyle("h1", fontName=FONT, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=11)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=7, leading=9)
    flow = [Paragraph(title, h1), Paragraph(f"编制日期 {made_on.isoformat()} — yibao", body)]
    for ch in chapters:
        flow.append(Paragraph(ch.heading, h2))
        for i, rows in enumerate(ch.tables):
            widths = ch.width_of(i)
            t = Table([[Paragraph(str(c), cell) for c in r] for r in rows], repeatRows=1,
                      colWidths=[w * mm for w in widths] if widths else None)
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            flow += [t, Spacer(1, 4 * mm)]
        flow += [x for d in ch.drawings for x in (d, Spacer(1, 2 * mm))]
        flow += [Paragraph(n, body) for n in ch.notes]
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title, author="yibao",
                            leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
    doc.build(flow)


__all__ = ["Chapter", "bar_chart", "forecast_chapter", "line_chart", "reform_chapter", "write_pdf", "year_chapters"]
