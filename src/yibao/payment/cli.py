"""``yibao dip build|settle`` and ``yibao pay clear|year``: institution payment from files or a lake.

Inputs are Parquet or CSV (by suffix) or a lake folder; outputs Parquet or CSV by suffix. Money
columns are integer fen (``*_fen``); scores and points ×100 (``*_e2``), coefficients and point
values ×10 000 (``*_e4``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer

from yibao.errors import PolicyError, ValidationError, YibaoError

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


def _lake_cases(be, folder: Path):
    """Inpatient claims of a lake folder as DIP cases (no grouping needed)."""
    from yibao.lake.cases import inpatient_claims, lake_claims

    c = inpatient_claims(lake_claims(be, folder))
    return c.select(case_id=c.claim_id, fixmedins_code=c.fixmedins_code, diagnoses=c.diagnoses.fill_null(""),
                    procedures=c.procedures.fill_null(""), cost_fen=c.medfee_sumamt_fen,
                    los=c.los.cast("int64"), dscg_way=c.dscg_way)


def _cases(be, path: Path):
    from yibao.lake.io import has_table

    if path.is_dir() and has_table(path, "claims"):
        return _lake_cases(be, path)
    return be.table(read_any(path, str(path)))


def _params(pack: str, on: str | None):
    from yibao.policy import load_pack

    return load_pack(pack).at(dt.date.fromisoformat(on) if on else dt.date.today())


def _fail(e: Exception) -> None:
    typer.secho(f"error: {e}", fg="red", err=True)
    raise typer.Exit(2)


@dip_app.command("build")
def dip_build(
    history: list[Path] = typer.Option(None, "--history", help="History cases, oldest first, once per year (three "
                                       "for 1:2:7): a lake folder or a file with case_id, diagnoses, procedures, cost_fen."),
    lake: Path = typer.Option(None, "--lake", help="Instead of --history: the lake's history/<year> folders "
                              "(`yibao synth --history-years 3`), the last as many as the pack weights."),
    out: Path = typer.Option(..., "--out", help="Catalog file (.parquet or .csv)."),
    pack: str = typer.Option("demo", help="Policy pack with payment.dip parameters."),
    on: str = typer.Option(None, "--date", help="Date the pack is read at (YYYY-MM-DD; default today)."),
    min_cases: int = typer.Option(None, help="Core-group threshold; default from the pack (15)."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
) -> None:
    """Build the DIP catalog (core and comprehensive groups with scores) from three years of history,
    outliers trimmed by the pack's rule (the catalog's ``trimmed`` column counts them)."""
    import dataclasses

    from yibao.payment.common import fetch
    from yibao.payment.dip import DipRules, build_catalog

    try:
        rules = DipRules.from_params(_params(pack, on))
        if min_cases is not None:
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
    except (YibaoError, ValidationError, PolicyError) as e:
        _fail(e)
    core = sum(1 for k in catalog.column("kind").to_pylist() if k == "core")
    trimmed = sum(catalog.column("trimmed").to_pylist())
    typer.echo(f"{catalog.num_rows} groups ({core} core, {catalog.num_rows - core} comprehensive), "
               f"{trimmed} outlier cases trimmed from the means → {out}")


@dip_app.command("settle")
def dip_settle_cmd(
    catalog: Path = typer.Option(..., help="Catalog from `yibao dip build`."),
    cases: Path = typer.Option(..., help="The year's cases: a lake folder or a file (case_id, fixmedins_code, "
                               "diagnoses, procedures, cost_fen; optional age, los, dscg_way, cc_level)."),
    fund_yuan: str = typer.Option(..., help="Fund available for DIP this year, in yuan."),
    institutions: Path = typer.Option(None, help="fixmedins_code, level file; default: the lake's institutions."),
    out: Path = typer.Option(..., "--out", help="Per-case settlement (.parquet or .csv)."),
    by_institution: Path = typer.Option(None, help="Also write the per-institution results here."),
    reviews: Path = typer.Option(None, help="特病单议 outcomes (case_id, decision approved/rejected, optional "
                                 "approved_fen); without them the cases set aside stay pending, unpaid."),
    pack: str = typer.Option("demo", help="Policy pack."),
    on: str = typer.Option(None, "--date", help="Date the pack is read at (default today)."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
) -> None:
    """Settle a year: points per case, the 结算点值 = (fund ÷ ratio) ÷ total points, money per case and institution."""
    from yibao.money import yuan_to_fen
    from yibao.lake.cases import lake_table
    from yibao.payment.common import cached
    from yibao.payment.dip import DipRules, dip_institutions, dip_points, dip_review, dip_settle, point_value, total_points
    from yibao.payment.review import ReviewRules

    try:
        params = _params(pack, on)
        rules = DipRules.from_params(params)
        be = _backend(backend)
        year = _cases(be, cases)
        if institutions is not None:
            inst = be.table(read_any(institutions, "--institutions"))
        elif cases.is_dir():
            inst = lake_table(be, cases, "institutions")
        else:
            raise ValidationError("--institutions", "needed when --cases is a file")
        points = cached(dip_points(year, be.table(read_any(catalog, "--catalog")), inst, rules))
        value = point_value(yuan_to_fen(fund_yuan, "--fund-yuan"), rules.reimbursement_ratio, total_points(points))
        settled = dip_settle(points, value, rules)
        outcomes = (be.table(read_any(reviews, "--reviews")) if reviews is not None
                    else be.table(pa.table({"case_id": pa.array([], pa.string()), "decision": pa.array([], pa.string())})))
        settled = dip_review(settled, outcomes, rules, ReviewRules.from_params(params, "dip"))
        write_any(be.to_arrow(settled), out)
        if by_institution is not None:
            write_any(be.to_arrow(dip_institutions(settled)), by_institution)
    except (YibaoError, ValidationError, PolicyError) as e:
        _fail(e)
    typer.echo(f"point value {value / 10_000:.4f} fen per point → {out}")


@pay_app.command("clear")
def pay_clear(
    accounts: Path = typer.Option(..., help="Per institution: fixmedins_code, budget_fen, due_fen, advances_fen."),
    out: Path = typer.Option(None, "--out", help="Clearing statements table (.parquet or .csv)."),
    pack: str = typer.Option("demo", help="Policy pack with payment.clearing parameters."),
    on: str = typer.Option(None, "--date", help="Date the pack is read at (default today)."),
    show: bool = typer.Option(True, "--print/--no-print", help="Print a statement per institution."),
    backend: str = typer.Option("duckdb", help="duckdb or spark."),
) -> None:
    """Annual clearing: payment due vs budget and advances, with 结余留用 and 合理超支分担 from the pack."""
    from yibao.payment.clearing import ClearingRules, clear, render_statement

    try:
        params = _params(pack, on)
        be = _backend(backend)
        table = be.to_arrow(clear(be.table(read_any(accounts, "--accounts")), ClearingRules.from_params(params)))
        if out is not None:
            write_any(table, out)
    except (YibaoError, ValidationError, PolicyError) as e:
        _fail(e)
    if show:
        for row in table.to_pylist():
            typer.echo(render_statement(row, params.pack.title, params.date.year) + "\n")


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

    try:
        outcomes = read_any(reviews, "--reviews") if reviews is not None else None
        results = pay_year(lake, pack, backend, reviews=outcomes, panel=panel_outcomes)
    except (YibaoError, ValidationError, PolicyError) as e:
        _fail(e)
    print_results(results, new_console())
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, df in results.items():
            df.to_parquet(out / f"{name}.parquet", index=False)


def register(app: typer.Typer) -> None:
    app.add_typer(dip_app, name="dip")
    app.add_typer(pay_app, name="pay")
