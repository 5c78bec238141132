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
from yibao.money import yuan_to_fen
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
              statements: pd.DataFrame | None = None) -> FundYear:
    """The lake's year — settled here unless its ``statements`` are given — as accounts, warnings and
    indicators."""
    from yibao.lake.io import has_table, read_table
    from yibao.settlement.batch import settle_lake

    pack = load_pack(pack_name) if isinstance(pack_name, (str, Path)) else pack_name
    if statements is None:
        statements, _ = settle_lake(lake, pack)
    accounts = lake_accounts(lake, pack, statements)
    schemes = scheme_figures(accounts, opening)
    identities = (read_table(lake, "identities").to_pandas() if has_table(lake, "identities")
                  else pd.DataFrame(columns=["psn_no", "identity", "start_date", "end_date"]))
    contributions = lake_contributions(lake, pack, accounts.year)
    return FundYear(accounts, schemes, fund_warnings(accounts, pack.at(dt.date(accounts.year, 12, 31)), opening),
                    indicators(statements, accounts, contributions, identities, schemes))


def _yuan(fen) -> str:
    return "—" if pd.isna(fen) else f"{int(fen) / 100:,.2f}"


def print_year(year: FundYear, console) -> None:
    t = Table(title=f"基金账户 fund accounts {year.accounts.year} (元)", title_justify="left")
    for col in ("fund", "名称", "income", "spending", "surplus"):
        t.add_column(col, justify="left" if col in ("fund", "名称") else "right")
    for r in year.accounts.funds.itertuples(index=False):
        t.add_row(r.fund, r.name, _yuan(r.income_fen), _yuan(r.spending_fen), _yuan(r.surplus_fen))
    console.print(t)
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


@fund_app.command("kpi")
def kpi_cmd(
    lake: Path = typer.Option(..., "--lake", help="Lake folder (one settled year)."),
    pack: str = typer.Option("demo", "--pack", help="Policy pack name or folder."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the workbook (.xlsx) here."),
    opening: list[str] = typer.Option([], "--opening",
                                      help="上年末累计结存 of a scheme: 310=YUAN and 390=YUAN (both, or none)."),
) -> None:
    """The plans' indicators of a lake's year against their 2025 targets, with the fund accounts and warnings."""
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise ValidationError("--xlsx", f"{xlsx.suffix or 'no suffix'}: give a .xlsx file", record=str(xlsx))
    year = fund_year(lake, pack, parse_opening(opening))
    print_year(year, new_console())
    if xlsx is not None:
        from yibao.fund.report import write_workbook

        write_workbook(year, xlsx)
        new_console().print(f"workbook: {xlsx}", highlight=False)


@fund_app.command("simulate")
def simulate_cmd(
    lake: Path = typer.Option(..., "--lake", help="Lake folder (one year of claims)."),
    pack: str = typer.Option("demo", "--pack", help="The baseline policy pack: name or folder."),
    reform: Path = typer.Option(..., "--reform", help="Reform YAML: name, ref and overrides {parameter path: …}."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the report as a workbook (.xlsx) here."),
) -> None:
    """政策模拟: a reform replayed on the lake's year through the settlement (and payment) engines,
    beside the baseline: spending by tier, the persons' burden, the catastrophic line, DRG/DIP payment."""
    from yibao.fund.simulate import print_simulation, simulate_reform, write_simulation

    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise ValidationError("--xlsx", f"{xlsx.suffix or 'no suffix'}: give a .xlsx file", record=str(xlsx))
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
    """The calibration check: the city's pack on a region synthesized to its published facts, its
    政策范围内住院费用报销比例 beside the published one, with the gap and what explains it, measured."""
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


__all__ = ["FundYear", "fund_year", "parse_opening", "print_year", "register"]
