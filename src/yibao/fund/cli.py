"""``yibao fund …``: the fund's year — accounts, risk warning and the plans' indicators — from a lake."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from yibao.console import new_console
from yibao.errors import ValidationError
from yibao.fund.accounts import FundAccounts, lake_accounts, lake_contributions
from yibao.fund.kpi import Indicator, indicators
from yibao.fund.warning import FIGURE_NAMES, SCHEME_NAMES, SchemeFigures, Warning, fund_warnings, scheme_figures
from yibao.money import show_yuan, yuan_to_fen
from yibao.policy.pack import load_pack

fund_app = typer.Typer(help="基金运行: fund accounts, risk warning and the plans' indicators of a lake's year.",
                       no_args_is_help=True)


@dataclass(frozen=True)
class FundYear:
    accounts: FundAccounts
    schemes: list[SchemeFigures]
    warnings: list[Warning]
    indicators: list[Indicator]


def parse_opening(items: list[str]) -> dict[str, int] | None:
    """``310=1200000`` (yuan) per scheme → fen; both schemes or none."""
    if not items:
        return None
    out = {}
    for item in items:
        scheme, sep, yuan = item.partition("=")
        if not sep or scheme not in SCHEME_NAMES:
            raise ValidationError("--opening", f"{item!r}: expected 310=YUAN or 390=YUAN", record=item)
        out[scheme] = yuan_to_fen(yuan, f"--opening {scheme}")
    missing = [s for s in SCHEME_NAMES if s not in out]
    if missing:
        raise ValidationError("--opening", f"no opening balance for {', '.join(missing)}: give both schemes",
                              record=" ".join(items))
    return out


def fund_year(lake: str | Path, pack_name, opening: dict[str, int] | None,
              statements: pd.DataFrame | None = None, clearing: bool = False, payment: dict | None = None,
              source: str | None = None) -> FundYear:
    """The lake's year — its ``statements`` as given (``source`` says whence), else as
    :func:`yibao.fund.settled.settled_year` finds them — as accounts, warnings and indicators; with
    ``clearing``, the payment engine pays the year (unless its ``payment`` result is given) and its
    clearing is booked."""
    from dataclasses import replace

    from yibao.fund.settled import settled_year
    from yibao.lake.io import has_table, read_table

    pack = load_pack(pack_name) if isinstance(pack_name, (str, Path)) else pack_name
    if statements is None:
        statements, source = settled_year(lake, pack)
    if not clearing:
        payment = None
    elif payment is None:
        from yibao.payment import pay_year

        payment = pay_year(lake, pack)
    accounts = lake_accounts(lake, pack, statements, opening, payment)
    if source:
        accounts = replace(accounts, notes=(source,) + accounts.notes)
    schemes = scheme_figures(accounts, opening)
    identities = (read_table(lake, "identities").to_pandas() if has_table(lake, "identities")
                  else pd.DataFrame(columns=["psn_no", "identity", "start_date", "end_date"]))
    contributions = lake_contributions(lake, pack, accounts.year)
    return FundYear(accounts, schemes, fund_warnings(accounts, pack.at(dt.date(accounts.year, 12, 31)), opening),
                    indicators(statements, accounts, contributions, identities, schemes))


def _filled(title: str, table: tuple[list[str], list[list]], left: int = 1) -> Table:
    """One of the accounts' tables (:mod:`yibao.fund.report`), money in yuan."""
    header, rows = table
    t = _table(title, header, tuple(header[:left]))
    for r in rows:
        t.add_row(*[v if isinstance(v, str) else show_yuan(v) for v in r])
    return t


def print_accounts(accounts: FundAccounts, console) -> None:
    """The year per fund, its items, the month-end balances, the clearing per institution and the notes."""
    from yibao.fund.report import account_rows, balance_rows, clearing_rows, item_rows

    for title, table, left in (
            (f"基金账户 fund accounts {accounts.year} (元)", account_rows(accounts), 2),
            ("收支项目 income and spending by item (元)", item_rows(accounts), 3),
            ("按月结存 month-end balance by fund (元)", balance_rows(accounts), 1)):
        console.print(_filled(title, table, left))
    if accounts.institutions is not None:
        console.print(_filled("年终清算 clearing by institution (元)", clearing_rows(accounts)))
    for note in accounts.notes:
        console.print(f"note: {note}", highlight=False)


def print_year(year: FundYear, console) -> None:
    print_accounts(year.accounts, console)
    t = Table(title="基金风险预警 risk warning", title_justify="left")
    for col in ("scheme", *FIGURE_NAMES.values()):
        t.add_column(col, justify="left" if col == "scheme" else "right")
    for s in year.schemes:
        t.add_row(SCHEME_NAMES[s.insutype], *[("—" if (v := s.figure(k)) is None else f"{float(v):.2f}")
                                             for k in FIGURE_NAMES])
    console.print(t)
    if any(s.opening_fen is None for s in year.schemes):
        console.print("no opening balance given (--opening): 累计结存 is this year's surplus only", highlight=False)
    for w in year.warnings:
        console.print(f"warning: {w.message()}", highlight=False)
    if not year.warnings:
        console.print("no warning line crossed", highlight=False)
    t = Table(title="主要指标 the plans' indicators", title_justify="left")
    for col in ("indicator", "value", "2025 targets", "note"):
        t.add_column(col, justify="right" if col == "value" else "left")
    for ind in year.indicators:
        t.add_row(ind.name, ind.shown(), "; ".join(f"{_plan_short(x.plan)} {x.text}{_met(x, ind)}" for x in ind.targets),
                  ind.why or ind.detail)
    console.print(t)


def _plan_short(plan: str) -> str:
    return plan[:2]


def _met(target, ind: Indicator) -> str:
    met = target.met(ind.value)
    return "" if met is None else (" ✓" if met else " ✗")


# the options every year command takes
LAKE = typer.Option(..., "--lake", help="Lake folder (one settled year).")
PACK = typer.Option("demo", "--pack", help="Policy pack name or folder.")
XLSX = typer.Option(None, "--xlsx", help="Also write the workbook (.xlsx) here.")
OPENING = typer.Option([], "--opening", help="上年末累计结存 of a scheme: 310=YUAN and 390=YUAN (both, or none).")
STATEMENTS = typer.Option(None, "--statements", help="The year as `yibao settle --claims LAKE --out F.parquet` "
                          "settled it under this --pack: booked as given, not settled again.")
CLEARING = typer.Option(True, "--clearing/--no-clearing",
                        help="Pay the year by the payment engine and book its 年终清算 (default), or book the statements only.")


def _write_workbook(year, xlsx: Path | None) -> None:
    if xlsx is not None:
        from yibao.fund.report import write_workbook

        write_workbook(year, xlsx)
        new_console().print(f"workbook: {xlsx}", highlight=False)


@fund_app.command("kpi")
def kpi_cmd(
    lake: Path = LAKE, pack: str = PACK, xlsx: Path | None = XLSX, opening: list[str] = OPENING,
    clearing: bool = CLEARING, statements: Path | None = STATEMENTS,
) -> None:
    """The plans' indicators of a lake's year against their 2025 targets, with the fund accounts by month and warnings."""
    _suffix(xlsx, "--xlsx", ".xlsx")
    pk, settled, source = _settled(lake, pack, statements)
    year = fund_year(lake, pk, parse_opening(opening), settled, clearing, source=source)
    print_year(year, new_console())
    _write_workbook(year, xlsx)


def _suffix(path: Path | None, option: str, suffix: str) -> None:
    if path is not None and path.suffix.lower() != suffix:
        raise ValidationError(option, f"{path.suffix or 'no suffix'}: give a {suffix} file", record=str(path))


@fund_app.command("report")
def report_cmd(
    pdf: Path = typer.Option(..., "--pdf", help="Write the report (.pdf) here."),
    lake: Path = LAKE, pack: str = PACK, xlsx: Path | None = XLSX, opening: list[str] = OPENING,
    years: int = typer.Option(5, "--years", help="The forecast's horizon, 5–10 years."),
    reform: Path | None = typer.Option(None, "--reform", help="Also simulate this reform (as `yibao fund simulate`)."),
    clearing: bool = CLEARING, statements: Path | None = STATEMENTS,
) -> None:
    """The fund's year as a PDF with charts.

    Accounts, spending by fund and month, the warning, the indicators, the forecast's balance and months
    of payment, and a reform's distributional effect."""
    from yibao.fund.forecast import SCENARIOS
    from yibao.fund.pdf import forecast_chapter, reform_chapter, write_pdf, year_chapters

    _suffix(pdf, "--pdf", ".pdf")
    _suffix(xlsx, "--xlsx", ".xlsx")
    balances = parse_opening(opening)
    pk, settled, source = _settled(lake, pack, statements)
    year = fund_year(lake, pk, balances, settled, clearing, source=source)
    base, rows = _lake_forecast(lake, pk, settled, years, SCENARIOS, balances, None, 0)
    chapters = [*year_chapters(year), forecast_chapter(rows, base.year)]
    if reform is not None:
        from yibao.fund.simulate import simulate_reform

        chapters.append(reform_chapter(simulate_reform(lake, pk, reform)))
    write_pdf(f"医疗保障基金运行报告 fund report {year.accounts.year}", chapters, pdf, dt.date.today())
    new_console().print(f"report: {pdf}", highlight=False)
    _write_workbook(year, xlsx)


@fund_app.command("simulate")
def simulate_cmd(
    reform: Path = typer.Option(..., "--reform", help="Reform YAML: name, ref and overrides {parameter path: …}."),
    lake: Path = LAKE, pack: str = PACK, xlsx: Path | None = XLSX,
) -> None:
    """政策模拟: a reform replayed on the lake's year through the settlement and payment engines.

    Beside the baseline: spending by tier, the persons' burden, the catastrophic line, DRG/DIP payment."""
    from yibao.fund.simulate import print_simulation, simulate_reform, write_simulation

    _suffix(xlsx, "--xlsx", ".xlsx")
    sim = simulate_reform(lake, pack, reform)
    print_simulation(sim, new_console())
    if xlsx is not None:
        write_simulation(sim, xlsx)
        new_console().print(f"workbook: {xlsx}", highlight=False)


@fund_app.command("calibrate")
def calibrate_cmd(
    pack: str = typer.Option(..., "--pack", help="A seed city's pack with published facts (shenyang)."),
    persons: int = typer.Option(20_000, "--persons", help="Persons in the synthesized region."),
    seed: int = typer.Option(1, "--seed", help="Random seed of the region."),
    year: int = typer.Option(2024, "--year", help="Year of claims (the pack's benefit rules must be in force)."),
    out: Path | None = typer.Option(None, "--out", help="Keep the synthesized lake here (default: a temporary folder)."),
) -> None:
    """The calibration check: a city's pack on a region synthesized to its published facts.

    Its 政策范围内住院费用报销比例 beside the published one, with the gap and what explains it, measured."""
    import tempfile

    from yibao.fund.calibration import calibrate, facts_for, print_calibration

    facts_for(pack)  # a pack without facts fails before anything is synthesized
    if out is not None:
        check = calibrate(pack, persons, seed, year, out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            check = calibrate(pack, persons, seed, year, tmp)
    print_calibration(check, new_console())


def register(app: typer.Typer) -> None:
    app.add_typer(fund_app, name="fund")


# --- 精算预测: forecast, backtest, IBNR and budget -------------------------------------------------------

def _settled(lake: Path, pack_name: str, given: Path | None = None):
    """The pack, the lake's settled year (one row per claim; the ``given`` file's when named) and
    where it came from."""
    from yibao.fund.settled import settled_year

    pack = load_pack(pack_name)
    return (pack, *settled_year(lake, pack, given))


def _table(title: str, columns, left=("scheme", "figure")) -> Table:
    t = Table(title=title, title_justify="left")
    for col in columns:
        t.add_column(col, justify="left" if col in left else "right")
    return t


def _lake_forecast(lake: Path, pack, statements, years: int, scenarios, opening, year: int | None, seed: int):
    from yibao.fund.forecast import forecast, lake_base_year

    base = lake_base_year(lake, pack, statements, year)
    return base, forecast(base, pack.at(dt.date(base.year, 12, 31)), years, scenarios, opening, seed)


def print_forecast(base_year: int, rows: pd.DataFrame, opening, console) -> None:
    for scenario, part in rows.groupby("scenario", sort=False):
        t = _table(f"基金精算预测 forecast from {base_year}, {scenario} growth (元; band: bootstrap 5–95%)",
                   ("year", "scheme", "insured", "income", "spending", "spending band", "balance", "balance band",
                    "months"))
        for r in part.itertuples(index=False):
            t.add_row(str(r.year), SCHEME_NAMES[r.insutype], f"{r.insured:,}", show_yuan(r.income_fen),
                      show_yuan(r.spending_fen), f"{show_yuan(r.spending_p05_fen)} – {show_yuan(r.spending_p95_fen)}",
                      show_yuan(r.balance_fen), f"{show_yuan(r.balance_p05_fen)} – {show_yuan(r.balance_p95_fen)}",
                      f"{r.months_of_payment:.1f}")
        console.print(t)
    if opening is None:
        console.print(f"no opening balance given (--opening): the balance starts at 0 at the end of {base_year}",
                      highlight=False)


def write_forecast(rows: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "预测 forecast"
    money = [c for c in rows.columns if c.endswith("_fen")]
    ws.append([c.removesuffix("_fen") + (" (元)" if c in money else "") for c in rows.columns])
    for r in rows.itertuples(index=False):
        ws.append([int(v) / 100 if c in money else (v.item() if hasattr(v, "item") else v)
                   for c, v in zip(rows.columns, r)])
    wb.save(path)


@fund_app.command("forecast")
def forecast_cmd(
    lake: Path = typer.Option(..., "--lake", help="Lake folder (one settled year: the base of the forecast)."),
    pack: str = typer.Option("demo", "--pack", help="Policy pack name or folder."),
    years: int = typer.Option(5, "--years", help="Projection horizon, 5–10 years."),
    scenario: list[str] = typer.Option([], "--scenario", help="low, central or high (repeatable; default all)."),
    opening: list[str] = typer.Option([], "--opening", help="年末累计结存 of the base year: 310=YUAN and 390=YUAN."),
    year: int | None = typer.Option(None, "--year", help="The base year (must be the lake's settled year)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the forecast (.xlsx) here."),
    statements: Path | None = STATEMENTS,
) -> None:
    """Income, spending and balance per scheme for 5–10 years: cohort-component population × per-capita cost."""
    from yibao.fund.forecast import HORIZON, SCENARIOS

    _suffix(xlsx, "--xlsx", ".xlsx")
    if years not in HORIZON:
        raise ValidationError("--years", f"{years}: the projection horizon is {HORIZON.start}–{HORIZON.stop - 1} years")
    for s in scenario:
        if s not in SCENARIOS:
            raise ValidationError("--scenario", f"{s!r}: expected one of {', '.join(SCENARIOS)}")
    balances = parse_opening(opening)
    pk, settled, source = _settled(lake, pack, statements)
    base, rows = _lake_forecast(lake, pk, settled, years, tuple(scenario) or SCENARIOS, balances, year, seed)
    print_forecast(base.year, rows, balances, new_console())
    new_console().print(source, highlight=False)
    if xlsx is not None:
        write_forecast(rows, xlsx)
        new_console().print(f"workbook: {xlsx}", highlight=False)


@fund_app.command("backtest")
def backtest_cmd() -> None:
    """The forecast's structure fitted on earlier years of the national 2021–2025 series, against the later ones."""
    from yibao.fund.backtest import SCHEMES, backtest, mean_abs_error

    misses = backtest()
    t = _table("回测 backtest on the national series (亿元; 全国医疗保障事业发展统计公报 2021–2025)",
               ("fit until", "year", "scheme", "figure", "forecast", "published", "error %"))
    for m in misses:
        t.add_row(str(m.fit_until), str(m.year), SCHEMES[m.scheme], m.figure, f"{m.forecast:,.2f}", f"{m.actual:,.2f}",
                  f"{m.error_pct:+.1f}")
    console = new_console()
    console.print(t)
    t = _table("mean |error| % by years ahead", ("scheme", "figure", "years ahead", "mean |error| %"))
    for (scheme, figure, ahead), err in mean_abs_error(misses).items():
        t.add_row(SCHEMES[scheme], figure, str(ahead), f"{err:.1f}")
    console.print(t)


@fund_app.command("ibnr")
def ibnr_cmd(
    lake: Path = LAKE, pack: str = PACK,
    seed: int = typer.Option(0, "--seed", help="Seed of the drawn settlement delays."),
    statements: Path | None = STATEMENTS,
) -> None:
    """The IBNR reserve of the year's claims: chain ladder on the lag triangle with Mack's standard error."""
    from yibao.fund.ibnr import lake_ibnr

    pk, settled, source = _settled(lake, pack, statements)
    console = new_console()
    console.print(source, highlight=False)
    for insutype in SCHEME_NAMES:
        r = lake_ibnr(lake, pk, settled, seed, insutype)
        console.print(_ibnr_table(r, insutype))
        console.print(f"{SCHEME_NAMES[insutype]}: reserve {show_yuan(r.reserve.total_reserve)} 元 ± "
                      f"{show_yuan(r.reserve.total_se)} (Mack s.e.); outstanding by the drawn delays "
                      f"{show_yuan(r.triangle.outstanding_fen())} 元", highlight=False)
    console.print("delays are drawn from the pack's fund.ibnr.lags (an assumption: the lake has no settlement dates)",
                  highlight=False)


def _ibnr_table(r, insutype: str) -> Table:
    res = r.reserve
    t = _table(f"未决赔款准备金 IBNR {r.triangle.year} {SCHEME_NAMES[insutype]} by month of service (元)",
               ("month", "settled by 31 Dec", "ultimate", "reserve", "Mack s.e."))
    for m in range(len(res.latest)):
        t.add_row(str(m + 1), show_yuan(res.latest[m]), show_yuan(res.ultimate[m]), show_yuan(res.reserve[m]), show_yuan(res.se[m]))
    return t


@fund_app.command("budget")
def budget_cmd(
    lake: Path = LAKE, pack: str = PACK,
    seed: int = typer.Option(0, "--seed", help="Seed of the IBNR delays and the forecast's bootstrap."),
    statements: Path | None = STATEMENTS,
) -> None:
    """Next year's 收支预算 per scheme from this year's accounts, the forecast and the IBNR, by payment pool."""
    from yibao.fund.budget import lake_budget

    pk, settled, source = _settled(lake, pack, statements)
    budgets = lake_budget(lake, pk, settled, seed)
    print_budget(budgets, new_console())
    new_console().print(source, highlight=False)


def print_budget(budgets, console) -> None:
    t = _table(f"收支预算 budget {budgets[0].year} per scheme's pooling fund (元)",
               ("scheme", "this year income", "this year spending", "income budget", "forecast spending", "IBNR",
                "以收定支 ceiling", "spending budget", "gap", "payment rule"))
    for b in budgets:
        t.add_row(SCHEME_NAMES[b.insutype], show_yuan(b.this_year_income_fen), show_yuan(b.this_year_spending_fen),
                  show_yuan(b.income_fen), show_yuan(b.forecast_spending_fen), show_yuan(b.ibnr_fen), show_yuan(b.ceiling_fen),
                  show_yuan(b.spending_fen), show_yuan(b.gap_fen), show_yuan(b.payment_rule_fen))
    console.print(t)
    pools = list(budgets[0].pools)
    t = _table("spending budget by payment pool (元; payment.budget.pools)", ("scheme", *pools))
    for b in budgets:
        t.add_row(SCHEME_NAMES[b.insutype], *[show_yuan(b.pools[p]) for p in pools])
    console.print(t)
    for b in budgets:
        if b.gap_fen:
            console.print(f"{SCHEME_NAMES[b.insutype]}: the need ({show_yuan(b.need_fen)} 元: forecast spending plus IBNR) "
                          f"exceeds the 以收定支 ceiling by {show_yuan(b.gap_fen)} 元", highlight=False)
    console.print("payment rule: this year's spending grown by payment.budget.growth_rate (the payment engine's "
                  "regional budget), for comparison", highlight=False)


__all__ = ["FundYear", "fund_year", "parse_opening", "print_accounts", "print_year", "register"]
