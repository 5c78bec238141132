"""``yibao scale …``: a lake's year on Spark — the settlement by buckets of households, the fund accounts."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from yibao.errors import ValidationError
from yibao.money import show_yuan

scale_app = typer.Typer(help="The year on Spark: settlement and fund accounts by buckets of whole households.",
                        no_args_is_help=True)
MASTER = re.compile(r"local(\[(\d+|\*)\])?|(spark|yarn|k8s)(://\S+)?")


def session(master: str):
    """The Spark backend on ``master`` (``local[N]``, ``spark://…``, ``yarn``, ``k8s://…``)."""
    if not MASTER.fullmatch(master):
        raise ValidationError("--master", f"{master!r}: give local[N], local[*], spark://HOST:PORT, yarn or k8s://…")
    from yibao.payment.backends import spark_backend

    cores = re.fullmatch(r"local\[(\d+)\]", master)
    return spark_backend(int(cores.group(1)) if cores else 2, master)


def _buckets(backend, lake: Path, work: Path | None, out: Path, buckets: int | None):
    from yibao.scale.partition import partition_lake

    return partition_lake(backend.session, lake, work or out.with_name(out.name + ".buckets"), buckets)


@scale_app.command("settle")
def settle_cmd(
    lake: Path = typer.Option(..., "--lake", help="Lake folder."),
    out: Path = typer.Option(..., "--out", help="Statements: a Parquet dataset folder, one row per claim (fen)."),
    pack: str = typer.Option("demo", "--pack", help="Policy pack name, or a folder every worker can read."),
    master: str = typer.Option("local[2]", "--master", help="Spark master."),
    buckets: int = typer.Option(None, "--buckets", help="Buckets of households (default: ~500k claims each)."),
    work: Path = typer.Option(None, "--work", help="Folder for the bucketed lake (default: OUT.buckets)."),
    accounts: bool = typer.Option(False, "--accounts", help="Also print the year's fund accounts."),
) -> None:
    """Settle a lake's year on Spark: the local engine on each bucket, statements to OUT."""
    from pyspark.sql import functions as F

    from yibao.console import new_console
    from yibao.scale.partition import check_cut
    from yibao.scale.settle import settle_on_spark, write_statements

    if out.exists() and not out.is_dir():
        raise ValidationError("--out", "is a file: give a folder for the Parquet dataset", record=str(out))
    check_cut(lake, buckets)
    backend = session(master)
    cut = _buckets(backend, lake, work, out, buckets)
    write_statements(settle_on_spark(backend.session, cut, pack), out)
    statements = backend.session.read.parquet(str(out))
    sums = (statements.groupBy("insutype").agg(F.count(F.lit(1)).alias("claims"), F.sum("medfee_sumamt").alias("total"),
                                               F.sum("fund_pay_sumamt").alias("fund"))
            .orderBy("insutype").collect())
    console = new_console()
    console.print(_totals_table(sums, cut.count))
    if accounts:
        from yibao.scale.accounts import accounts_on_spark

        console.print(accounts_table(accounts_on_spark(backend.session, statements, cut, pack)))


def _totals_table(rows, buckets: int):
    from rich.table import Table

    t = Table(title=f"settled on Spark in {buckets} buckets (元)", title_justify="left")
    for col in ("insutype", "claims", "medfee_sumamt", "fund_pay_sumamt"):
        t.add_column(col, justify="left" if col == "insutype" else "right")
    for r in rows:
        t.add_row(r["insutype"], f"{r['claims']:,}", show_yuan(r['total']), show_yuan(r['fund']))
    return t


def accounts_table(accounts):
    """The year's funds: income (— where the registry does not finance the fund), spending, surplus."""
    from rich.table import Table

    t = Table(title=f"基金账户 fund accounts {accounts.year} (元)", title_justify="left")
    for col in ("fund", "名称", "income", "spending", "surplus"):
        t.add_column(col, justify="left" if col in ("fund", "名称") else "right")
    for r in accounts.funds.itertuples(index=False):
        t.add_row(r.fund, r.name, show_yuan(r.income_fen), show_yuan(r.spending_fen), show_yuan(r.surplus_fen))
    return t


def register(app: typer.Typer) -> None:
    app.add_typer(scale_app, name="scale")
