"""``yibao catalog …`` and ``yibao codes …``: look up catalog items and 医保 ICD codes, export the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from yibao.console import new_console
from rich.table import Table

from yibao.errors import YibaoError

catalog_app = typer.Typer(help="医保目录 catalog: items, classes, prices, restrictions.", no_args_is_help=True)
codes_app = typer.Typer(help="医保 code sets: ICD-10 diagnoses and ICD-9-CM-3 operations.", no_args_is_help=True)
console = new_console()


def _fail(e: YibaoError) -> None:
    console.print(f"[red]error:[/red] {e}")
    raise typer.Exit(1)


# How ``catalog show`` labels a field whose figure has a unit (the rest print under their names).
SHOW_LABELS = {
    "preselfpay_ppm": "先行自付 preselfpay (%)",
    "price_cap_fen": "最高限价 price cap (元 / {unit})",
    "restrict_min_age": "min age (years)",
    "restrict_max_age": "max age (years)",
}


@catalog_app.command("show")
def show(code: str = typer.Argument(..., help="Item code (e.g. 110200001)."),
         on: Optional[str] = typer.Option(None, help="Date of service (YYYY-MM-DD); default: latest version."),
         version: Optional[str] = typer.Option(None, help="A version of the item.")) -> None:
    """Print one catalog item with its class, price cap and restrictions, each figure labelled with its unit."""
    from yibao.catalog.items import Catalog

    try:
        item = Catalog.shipped().get(code, on=on, version=version)
    except YibaoError as e:
        _fail(e)
    t = Table(show_header=False)
    for k, v in vars(item).items():
        t.add_row(SHOW_LABELS.get(k, k).format(unit=item.unit or "unit"), "" if v is None else _shown(k, v))
    console.print(t)


def _shown(field: str, value) -> str:
    """A field's value in the unit its label names: money in 元, ppm as a percentage."""
    from decimal import Decimal

    from yibao.money import format_yuan

    if field == "price_cap_fen":
        return format_yuan(value)
    if field == "preselfpay_ppm":
        return str(Decimal(value) / 10_000)
    return str(value)


@catalog_app.command("search")
def search(text: str = typer.Argument(..., help="Part of a name (e.g. 阑尾)."),
           kind: Optional[str] = typer.Option(None, help="drug / service / consumable."),
           limit: int = typer.Option(20, min=0, help="Rows to print.")) -> None:
    """Find items by name."""
    import pandas as pd

    from yibao.catalog.items import load_catalog
    from yibao.money import format_yuan
    from yibao.vocab import ITEM_KINDS

    if kind is not None and kind not in ITEM_KINDS:
        _fail(YibaoError(f"--kind: {kind!r} is not a catalog item kind; known kinds: {', '.join(ITEM_KINDS)}"))
    df = load_catalog()
    hit = df[df["name"].str.contains(text, regex=False, na=False)]
    if kind:
        hit = hit[hit["kind"] == kind]
    t = Table("item_code", "kind", "name", "class", "cap (元)", "unit", "restriction")
    for r in hit.head(limit).to_dict("records"):
        r = {k: (None if v is pd.NA or v is None or v != v else v) for k, v in r.items()}
        cap = "" if r["price_cap_fen"] is None else format_yuan(int(r["price_cap_fen"]))
        t.add_row(r["item_code"], r["kind"], r["name"], r["item_class"], cap, r["unit"] or "",
                  (r["restriction_text"] or "")[:40])
    console.print(t)
    console.print(f"{len(hit)} item(s)")


@catalog_app.command("export")
def export(out: Path = typer.Argument(..., help="A .parquet or .csv file."),
           prices: bool = typer.Option(False, "--prices", help="Export the per-level service prices instead.")) -> None:
    """Write the shipped catalog (lake ``catalog`` schema) or its service prices to a file."""
    from yibao.catalog.items import catalog_table, load_catalog, service_prices
    from yibao.lake.io import check_out, write_rows

    try:
        parquet = check_out(out, "OUT").suffix.lower() == ".parquet"
        write_rows(service_prices() if prices else catalog_table() if parquet else load_catalog(), out, "OUT")
    except YibaoError as e:
        _fail(e)
    console.print(f"wrote {out}")


def _codeset(system: str):
    from yibao.catalog.codes import icd9, icd10

    if system not in ("icd10", "icd9"):
        _fail(YibaoError(f"unknown code system {system!r}: icd10 or icd9"))
    return icd10() if system == "icd10" else icd9()


@codes_app.command("lookup")
def lookup(code: str = typer.Argument(..., help="A code or a prefix (e.g. K35, 47.0)."),
           system: str = typer.Option("icd10", "--system", help="icd10 (diagnoses) or icd9 (operations)."),
           limit: int = typer.Option(30, help="Rows to print for a prefix.")) -> None:
    """Print a code's name, category and chapter, and the codes under it."""
    cs = _codeset(system)
    try:
        c = cs.wellformed(code)
    except YibaoError as e:
        _fail(e)
    if c in cs:
        ch = cs.chapter(c)
        console.print(f"{c}  {cs.name(c)}\n  category {cs.category(c)} {cs.get(cs.category(c), '')}\n"
                      f"  chapter {ch}")
    under = cs.codes_with_prefix(c)
    t = Table("code", "name")
    for x in under[:limit]:
        t.add_row(x, cs.get(x))
    if len(under):
        console.print(t)
    console.print(f"{len(under)} code(s) start with {c}")
    if c not in cs and not len(under):
        _fail(YibaoError(f"unknown {cs.label} code {c!r}"))


@codes_app.command("check")
def check(codes: list[str] = typer.Argument(..., help="Codes to validate."),
          system: str = typer.Option("icd10", "--system", help="icd10 or icd9.")) -> None:
    """Validate codes; exit 1 if any is malformed or unknown."""
    cs = _codeset(system)
    bad = 0
    for code in codes:
        try:
            c = cs.validate(code)
            console.print(f"[green]ok[/green] {c} {cs.name(c)}")
        except YibaoError as e:
            bad += 1
            console.print(f"[red]bad[/red] {e}")
    if bad:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(codes_app, name="codes")
