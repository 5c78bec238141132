"""``yibao registry …``: contributions due, account accruals and double enrollment over a lake folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow as pa
import typer
from yibao import vocab
from yibao.console import new_console
from rich.table import Table

from yibao.errors import ValidationError, YibaoError
from yibao.lake import io as lake_io
from yibao.money import format_yuan
from yibao.policy import load_pack
from yibao.registry.accounts import account_accruals_for_year
from yibao.registry.contributions import contributions_for_year, due_totals, persons_behind, subsidy_ratio_check
from yibao.registry.duplicates import find_double_enrollment

registry = typer.Typer(help="Registry (参保登记与筹资): contributions, accounts, double enrollment.",
                       no_args_is_help=True)
console = new_console()

LAKE = typer.Argument(..., help="Lake folder (Parquet tables of `yibao synth`).", exists=True, file_okay=False)
PACK = typer.Option("demo", "--pack", help="Policy pack name or folder.")
OUT = typer.Option(None, "--out", help="Write the rows to a .parquet or .csv file (amounts in fen).")
# Years a contribution, accrual or pack date can name (the bounds the store's validation uses).
FIRST_YEAR, LAST_YEAR = 1990, 2200


def _year(help: str):
    return typer.Option(..., min=FIRST_YEAR, max=LAST_YEAR, help=help)


def _fail(e: YibaoError) -> None:
    console.print(f"[red]error:[/red] {e}")
    raise typer.Exit(1)


def _check_out(out: Path | None) -> None:
    if out is not None:
        try:
            lake_io.check_out(out)
        except YibaoError as e:
            _fail(e)


def _write(frame: pd.DataFrame, out: Path | None) -> None:
    if out is None:
        return
    try:
        lake_io.write_rows(frame, out)
    except YibaoError as e:
        _fail(e)
    console.print(f"wrote {len(frame):,} rows to {out}")


def _frame(lake: Path, table: str, columns: list[str] | None = None, optional: bool = False) -> pd.DataFrame | None:
    """A lake table as a frame (None when ``optional`` and absent); text that is no UTF-8 names the file."""
    if optional and not lake_io.has_table(lake, table):
        return None
    arrow = lake_io.read_table(lake, table, columns)
    for name in arrow.column_names:
        try:
            arrow.column(name).validate(full=True)
        except pa.ArrowInvalid as e:
            raise ValidationError(name, f"cannot be read: {e} (text must be UTF-8)",
                                  record=str(lake_io.table_path(lake, table))) from None
    return arrow.to_pandas()


@registry.command("contributions")
def contributions_cmd(lake: Path = LAKE, year: int = _year("Contribution year."), pack: str = PACK,
                      out: Optional[Path] = OUT) -> None:
    """Contributions due for a year (lake ``contributions`` schema), with totals and the subsidy-ratio check."""
    _check_out(out)
    try:
        p = load_pack(pack)
        spells = _frame(lake, "enrollments")
        due = contributions_for_year(spells, _frame(lake, "identities", optional=True), p, year)
        check = subsidy_ratio_check(p, year)
        behind = persons_behind(due, spells, year)
    except YibaoError as e:
        _fail(e)
    table = Table(title=f"Contributions due {year} (元)")
    for col in ("insutype", "persons", "employer", "individual", "subsidy", "sponsored", "total"):
        table.add_column(col, justify="right")
    totals = due_totals(due)
    money = ["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen", "total_fen"]
    rows = [*totals.to_dict("records"),  # a person owing in both schemes counts once in "all"
            {"insutype": "all", "persons": behind.owing, **{m: int(totals[m].sum()) for m in money}}]
    for r in rows:
        table.add_row(r["insutype"], f"{r['persons']:,}", *(format_yuan(int(r[m])) for m in money))
    console.print(table)
    console.print(behind.message)
    colour = "green" if check.ok else "red"
    console.print(f"[{colour}]residents' subsidy ratio: {check.message}[/{colour}]")
    _write(due, out)


@registry.command("accruals")
def accruals_cmd(lake: Path = LAKE, year: int = _year("Accrual year."), pack: str = PACK,
                 out: Optional[Path] = OUT) -> None:
    """Monthly personal-account accruals (个人账户划入) of every 职工医保 member for a year."""
    _check_out(out)
    try:
        accruals = account_accruals_for_year(_frame(lake, "enrollments"),
                                             _frame(lake, "persons", ["psn_no", "birth_date"]), load_pack(pack), year)
    except YibaoError as e:
        _fail(e)
    table = Table(title=f"Account accruals {year} (元)")
    for col in ("month", "accounts", "amount"):
        table.add_column(col, justify="right")
    by_month = accruals.groupby("month").agg(accounts=("psn_no", "size"), amount=("amount_fen", "sum"))
    for month, r in by_month.iterrows():
        table.add_row(str(month), f"{r.accounts:,}", format_yuan(int(r.amount)))
    console.print(table)
    _write(accruals, out)


@registry.command("duplicates")
def duplicates_cmd(lake: Path = LAKE, as_of: Optional[str] = typer.Option(None, help="Open spells run to this "
                                                                             "date (YYYY-MM-DD)."),
                   out: Optional[Path] = OUT) -> None:
    """Persons enrolled twice at the same time (two schemes or two regions, 重复参保)."""
    _check_out(out)
    try:
        when = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print(f"[red]error:[/red] --as-of: {as_of!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(1)
    try:
        found = find_double_enrollment(_frame(lake, "enrollments"),
                                       _frame(lake, "persons", ["psn_no", "certno"], optional=True), as_of=when)
    except YibaoError as e:
        _fail(e)
    table = Table(title="Double enrollment (重复参保)")
    for col in ("kind", "pairs", "persons", "overlap days"):
        table.add_column(col, justify="right")
    for kind, g in found.groupby("kind"):
        table.add_row(kind, f"{len(g):,}", f"{g.person_key.nunique():,}", f"{int(g.overlap_days.sum()):,}")
    console.print(table)
    _write(found, out)


@registry.command("ratio")
def ratio_cmd(year: int = _year("Year to check."), pack: str = PACK) -> None:
    """The residents' fiscal subsidy : individual fee ratio against the pack's ceiling, with citations."""
    try:
        check = subsidy_ratio_check(load_pack(pack), year)
    except YibaoError as e:
        _fail(e)
    colour = "green" if check.ok else "red"
    console.print(f"[{colour}]{check.message}[/{colour}]")
    for c in check.citations:
        console.print(f"  {c.path} = {c.value}  (since {c.since}; {c.ref})")
    if not check.ok:
        raise typer.Exit(2)


@registry.command("enroll")
def enroll_cmd(certno: str = typer.Option(..., "--certno", help="居民身份证号 (18 characters, checked)"),
               name: str = typer.Option(..., "--name"),
               insutype: str = typer.Option(..., "--insutype", help="310 职工 | 390 居民"),
               psn_type: str = typer.Option(..., "--psn-type", help="人员类别 (e.g. 11 在职, 12 退休, 1403 中小学生)"),
               admdvs: str = typer.Option(..., "--admdvs", help="参保地医保区划 (6 digits)"),
               begin: dt.datetime = typer.Option(..., "--begin", formats=["%Y-%m-%d"], help="First day insured"),
               emp_no: Optional[str] = typer.Option(None, "--emp-no", help="职工: the employer (单位编号); none: 灵活就业"),
               base: Optional[str] = typer.Option(None, "--base", help="职工: monthly 缴费基数 in yuan (0 until set)"),
               account_balance: Optional[str] = typer.Option(None, "--account-balance",
                                                             help="个人账户 balance to open with, in yuan"),
               db: Optional[str] = typer.Option(None, "--db", help="Database URL (default $YIBAO_DB_URL or sqlite:///yibao.db)")) -> None:
    """参保登记: enroll a person (registered when new) in a scheme from a date."""
    from yibao.money import yuan_to_fen
    from yibao.registry.service import enroll
    from yibao.store import db as store_db
    from yibao.store.repositories import Store

    url = db or store_db.default_url()
    store_db.upgrade(url)
    on = begin.date()
    opening = yuan_to_fen(account_balance, "--account-balance") if account_balance is not None else None
    employee = insutype == vocab.EMPLOYEE
    base_fen = yuan_to_fen(base, "--base") if base is not None else (0 if employee else None)
    with Store(url).unit() as uow:
        spell = enroll(uow, {"certno": certno, "name": name, "admdvs": admdvs},
                       {"insutype": insutype, "psn_type": psn_type, "admdvs": admdvs, "start_date": on,
                        "emp_no": emp_no, "emp_kind": None if not employee else "employer" if emp_no else "flexible",
                        "contribution_base_fen": base_fen})
        if opening:
            uow.accounts.open(spell["psn_no"], on)
            uow.accounts.post(spell["psn_no"], "accrual", opening, on, ref="opening balance")
    console.print(f"enrolled {spell['psn_no']} in {insutype} from {on} (spell {spell['spell_id']})"
                  + (f", 个人账户 {format_yuan(opening)} yuan" if opening else ""), highlight=False)
    if employee and base is None:
        console.print("缴费基数 not given: recorded as 0 until set (contributions due are 0 meanwhile)")


@registry.command("file")
def file_cmd(certno: str = typer.Option(..., "--certno", help="居民身份证号 of an insured person"),
             kind: str = typer.Option(..., "--kind", help="filed 异地长期居住 | referred 转诊转院"),
             place: str = typer.Option(..., "--place", help="就医地医保区划 (6 digits; its pooling region counts)"),
             begin: dt.datetime = typer.Option(..., "--begin", formats=["%Y-%m-%d"]),
             end: Optional[dt.datetime] = typer.Option(None, "--end", formats=["%Y-%m-%d"], help="Last day (none: open)"),
             db: Optional[str] = typer.Option(None, "--db", help="Database URL (default $YIBAO_DB_URL or sqlite:///yibao.db)")) -> None:
    """异地就医备案: file a person to be treated in another pooling region."""
    import sqlalchemy as sa

    from yibao.ids import validate_admdvs
    from yibao.registry.insured import person_row
    from yibao.store import db as store_db
    from yibao.store.db import connect
    from yibao.store.models import Filing

    if kind not in vocab.FILING_KINDS:
        raise ValidationError("--kind", f"{kind!r} is not one of {sorted(vocab.FILING_KINDS)}")
    validate_admdvs(place, "--place")
    if end is not None and end < begin:
        raise ValidationError("--end", f"{end.date()} is before --begin {begin.date()}")
    url = db or store_db.default_url()
    store_db.upgrade(url)
    with connect(url) as conn:
        person = person_row(conn, certno=certno)
        conn.execute(sa.insert(Filing.__table__).values(psn_no=person["psn_no"], kind=kind, place=place,
                                                        start_date=begin.date(), end_date=end.date() if end else None))
    console.print(f"filed {person['psn_no']}: {vocab.FILING_KINDS[kind]} to {place} from {begin.date()}"
                  + (f" to {end.date()}" if end else ""), highlight=False)


@registry.command("ecard")
def ecard_cmd(certno: str = typer.Option(..., "--certno", help="居民身份证号 of an insured person"),
              minutes: Optional[int] = typer.Option(None, "--minutes", help="How long the token is good (default 5)"),
              db: Optional[str] = typer.Option(None, "--db", help="Database URL (default $YIBAO_DB_URL or sqlite:///yibao.db)")) -> None:
    """医保电子凭证: issue a token the person shows instead of a card (1101 with 就诊凭证类型 01)."""
    from yibao.registry import ecard
    from yibao.registry.insured import person_row
    from yibao.store import db as store_db
    from yibao.store.db import connect

    url = db or store_db.default_url()
    store_db.upgrade(url)
    with connect(url) as conn:
        token = ecard.issue(conn, person_row(conn, certno=certno)["psn_no"], dt.datetime.now().replace(microsecond=0),
                            minutes)
    console.print(f"电子凭证 of {token['psn_no']}: {token['token']} (good until {token['expires_at']:%Y-%m-%d %H:%M:%S})",
                  highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``yibao registry …`` to the main app."""
    app.add_typer(registry, name="registry")
