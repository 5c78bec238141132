"""``yibao dip build|settle`` and ``yibao pay clear|year``: institution payment from files or a lake.

Inputs are Parquet or CSV (by suffix) or a lake folder; outputs Parquet or CSV by suffix. Money
columns are integer fen (``*_fen``); scores and points ×100 (``*_e2``), coefficients and point
values ×10 000 (``*_e4``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer

from yibao.errors import ValidationError

dip_app = typer.Typer(help="DIP 按病种分值付费: build the catalog from history, settle a year.", no_args_is_help=True)
pay_app = typer.Typer(help="Institution payment: annual clearing, a whole synthetic year.", no_args_is_help=True)

_CASE_TYPES = {"case_id": pa.string(), "fixmedins_code": pa.string(), "diagnoses": pa.string(),
               "procedures": pa.string(), "dscg_way": pa.string(), "cc_level": pa.string(), "level": pa.string(),
               "drg": pa.string(), "sex": pa.string(), "dept": pa.string(), "group_id": pa.string(),
               "kind": pa.string(), "diagnosis": pa.string(), "decision": pa.string()}


def read_any(path: Path, what: str) -> pa.Table:
    """A Parquet file/folder or a CSV file; CSV integer columns are int64, codes stay text."""
    if not path.exists():
        raise ValidationError(what, f"no such file or folder: {path}")
    if path.suffix == ".parquet" or path.is_dir():
        return pq.read_table(path)
    if path.suffix in (".csv", ".gz"):
        opts = pacsv.ConvertOptions(column_types=_CASE_TYPES, strings_can_be_null=False)
        try:
            return pacsv.read_csv(path, convert_options=opts)
        except pa.ArrowInvalid as e:
            raise ValidationError(what, f"{path}: {e}") from None
    raise ValidationError(what, f"{path.name}: expected .csv, .parquet or a lake folder")


def write_any(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        raise ValidationError("--out", f"{path.name}: expected a .csv or .parquet file")


def _backend(name: str):
    from yibao.payment.backends import get_backend

    return get_backend(name)


@contextlib.contextmanager
def _naming(path: Path):
    """An input error raised inside names the file it came from."""
    try:
        yield
    except ValidationError as e:
        raise e.at(str(path)) from None


def _lake_cases(be, folder: Path):
    """The region's inpatient claims of a lake folder as DIP cases (no grouping needed); cross-region
    stays (异地就医) go to the national clearing, not to the local DIP fund."""
    from yibao.lake.cases import inpatient_claims, lake_claims, region_claims

    c = inpatient_claims(region_claims(lake_claims(be, folder)))
    return c.select(case_id=c.claim_id, fixmedins_code=c.fixmedins_code, diagnoses=c.diagnoses.fill_null(""),
                    procedures=c.procedures.fill_null(""), cost_fen=c.medfee_sumamt_fen,
                    los=c.los.cast("int64"), dscg_way=c.dscg_way)


def _is_lake(path: Path) -> bool:
    from yibao.lake.io import has_table

    return path.is_dir() and has_table(path, "claims")


def _cases(be, path: Path):
    return _lake_cases(be, path) if _is_lake(path) else be.table(read_any(path, str(path)))


def _date(text: str, option: str = "--date") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(option, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _params(pack: str, on: str | None, default: dt.date | None = None):
    from yibao.policy import load_pack

    return load_pack(pack).at(_date(on) if on else default or dt.date.today())


MAX_FUND_FEN = 10**14  # 1 万亿 yuan: more than any pooling region's yearly fund


def _fund_fen(fund_yuan: str) -> int:
    from yibao.money import yuan_to_fen

    fen = yuan_to_fen(fund_yuan, "--fund-yuan")
    if not 0 < fen <= MAX_FUND_FEN:
        raise ValidationError("--fund-yuan", f"{fund_yuan} yuan: the DIP fund must be positive and at most "
                              f"{MAX_FUND_FEN // 100:,} yuan")
    return fen


@dip_app.command("build")
def dip_build(
    history: list[Path] = typer.Option(None, "--history", help="History cases, oldest first, once per year (three "
                                       "for 1:2:7): a lake folder or a file with case_id, diagnoses, procedures, cost_fen."),
    lake: Path = typer.Option(None, "--lake", help="Instead of --history: the lake's history/<year> folders "
                              "(`yibao synth --history-years 3`), the last as many as the pack weights."),
    out: Path = typer.Option(..., "--out", help="Catalog file (.parquet or .csv)."),
    pack: str = typer.Option("demo", help="Policy pack with payment.dip parameters."),
    on: str = typer.Option(None, "--date", help="Date the pack is read at (YYYY-MM-DD; default today)."),
    min_cases: int = typer.Option(None, help="Core-group threshold (at least 1); default from the pack (15)."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
) -> None:
    """Build the DIP catalog from three years of history.

    Core and comprehensive groups with scores, outliers trimmed by the pack's rule (the catalog's
    ``trimmed`` column counts them)."""
    import dataclasses

    from yibao.payment.common import fetch
    from yibao.payment.dip import DipRules, build_catalog

    rules = DipRules.from_params(_params(pack, on))
    if min_cases is not None:
        if min_cases < 1:
            raise ValidationError("--min-cases", f"{min_cases}: a core group needs at least 1 case")
        rules = dataclasses.replace(rules, core_min_cases=min_cases)
    if lake is not None:
        from yibao.lake.cases import history_folders

        history = history_folders(lake)[-len(rules.history_weights):]
        if not history:
            raise ValidationError("--lake", f"{lake} has no history/<year> lake folders")
    elif not history:
        raise ValidationError("--history", "give the history years (--history, once per year) or --lake")
    be = _backend(backend)
    catalog = fetch(build_catalog([_cases(be, h) for h in history], rules))
    write_any(catalog, out)
    core = sum(1 for k in catalog.column("kind").to_pylist() if k == "core")
    trimmed = sum(catalog.column("trimmed").to_pylist())
    typer.echo(f"{catalog.num_rows} groups ({core} core, {catalog.num_rows - core} comprehensive), "
               f"{trimmed} outlier cases trimmed from the means → {out}")


@dip_app.command("settle")
def dip_settle_cmd(
    catalog: Path = typer.Option(..., help="Catalog from `yibao dip build`."),
    cases: Path = typer.Option(..., help="The year's cases: a lake folder (its stays inside the region) or a file "
                               "(case_id, fixmedins_code, diagnoses, procedures, cost_fen; optional age, los, "
                               "dscg_way, cc_level)."),
    fund_yuan: str = typer.Option(..., help="Fund available for DIP this year, in yuan (positive)."),
    institutions: Path = typer.Option(None, help="fixmedins_code, level file; default: the lake's institutions."),
    out: Path = typer.Option(..., "--out", help="Per-case settlement (.parquet or .csv)."),
    by_institution: Path = typer.Option(None, help="Also write the per-institution results here."),
    reviews: Path = typer.Option(None, help="特病单议 outcomes (case_id, decision approved/rejected, optional "
                                 "approved_fen); without them the cases set aside stay pending, unpaid."),
    pack: str = typer.Option("demo", help="Policy pack."),
    on: str = typer.Option(None, "--date", help="Date the pack is read at (default today)."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
) -> None:
    """Settle a year: points per case, the 结算点值, money per case and institution.

    The 结算点值 = (fund ÷ ratio) ÷ total points. Cross-region stays of a lake are left to the national
    clearing (counted)."""
    from yibao.lake.cases import cross_region_stays, lake_table
    from yibao.payment.common import cached
    from yibao.payment import dip
    from yibao.payment.review import ReviewRules

    params = _params(pack, on)
    rules = dip.DipRules.from_params(params)
    fund = _fund_fen(fund_yuan)
    be = _backend(backend)
    year = _cases(be, cases)
    if institutions is not None:
        inst = be.table(read_any(institutions, "--institutions"))
    elif cases.is_dir():
        inst = lake_table(be, cases, "institutions")
    else:
        raise ValidationError("--institutions", "needed when --cases is a file")
    cat = be.table(read_any(catalog, "--catalog"))
    with _naming(catalog):
        dip.check_catalog(cat)
    points = cached(dip.dip_points(year, cat, inst, rules))
    value = dip.point_value(fund, rules.reimbursement_ratio, dip.total_points(points))
    settled = dip.dip_settle(points, value, rules)
    outcomes = (be.table(read_any(reviews, "--reviews")) if reviews is not None
                else be.table(pa.table({"case_id": pa.array([], pa.string()), "decision": pa.array([], pa.string())})))
    settled = dip.dip_review(settled, outcomes, rules, ReviewRules.from_params(params, "dip"))
    write_any(be.to_arrow(settled), out)
    if by_institution is not None:
        write_any(be.to_arrow(dip.dip_institutions(settled)), by_institution)
    typer.echo(f"point value {dip.format_point_value(value)} yuan per point → {out}")
    if _is_lake(cases):
        away = cross_region_stays(lake_table(be, cases, "claims"))
        typer.echo(f"{away} cross-region stays (异地就医) left out: paid through the national clearing, "
                   "not from this DIP fund")


@pay_app.command("clear")
def pay_clear(
    accounts: Path = typer.Option(..., help="Per institution: fixmedins_code, budget_fen, due_fen, advances_fen "
                                  "(and optionally year)."),
    year: int = typer.Option(None, help="The year cleared; required unless the accounts have a year column."),
    out: Path = typer.Option(None, "--out", help="Clearing statements table (.parquet or .csv)."),
    pack: str = typer.Option("demo", help="Policy pack with payment.clearing parameters."),
    on: str = typer.Option(None, "--date", help="Date the pack is read at (default 1 July of the year)."),
    show: bool = typer.Option(True, "--print/--no-print", help="Print a statement per institution."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
) -> None:
    """Annual clearing: payment due vs budget and advances, with 结余留用 and 合理超支分担 from the pack."""
    from yibao.payment.clearing import ClearingRules, clear, render_statement

    table = read_any(accounts, "--accounts")
    year = _clearing_year(table, year, accounts)
    params = _params(pack, on, dt.date(year, 7, 1))
    be = _backend(backend)
    with _naming(accounts):
        statements = be.to_arrow(clear(be.table(table), ClearingRules.from_params(params)))
    if out is not None:
        write_any(statements, out)
    if show:
        for row in statements.to_pylist():
            typer.echo(render_statement(row, params.pack.title, year) + "\n")


def _clearing_year(accounts: pa.Table, year: int | None, path: Path) -> int:
    """The year cleared: ``--year``, or the accounts' single ``year``; they must agree."""
    found = sorted(set(accounts.column("year").to_pylist())) if "year" in accounts.column_names else []
    if len(found) > 1 or None in found:
        raise ValidationError("year", f"accounts of several years or without one: {found}", record=str(path))
    if year is not None and found and int(found[0]) != year:
        raise ValidationError("--year", f"{year}, but the accounts are of {found[0]}", record=str(path))
    if year is None and not found:
        raise ValidationError("--year", "give the year cleared (or a year column in the accounts)")
    return int(year if year is not None else found[0])


@pay_app.command("year")
def pay_year_cmd(
    lake: Path = typer.Option(..., help="Lake folder of a synthetic (or real) year."),
    pack: str = typer.Option("demo", help="Policy pack."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
    out: Path = typer.Option(None, help="Folder to write every result table to (Parquet)."),
    reviews: Path = typer.Option(None, help="特病单议 outcomes (case_id, decision, optional approved_fen); "
                                 "default: the demo review panel's decisions."),
) -> None:
    """Pay a whole year: DRG and DIP by institution, per-diem, capitation, budget and clearing."""
    from yibao.console import new_console
    from yibao.payment.demo import panel_outcomes
    from yibao.payment.year import pay_year, print_results

    outcomes = read_any(reviews, "--reviews") if reviews is not None else None
    results = pay_year(lake, pack, backend, reviews=outcomes, panel=panel_outcomes)
    print_results(results, new_console())
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, df in results.items():
            df.to_parquet(out / f"{name}.parquet", index=False)


def register(app: typer.Typer) -> None:
    app.add_typer(dip_app, name="dip")
    app.add_typer(pay_app, name="pay")
