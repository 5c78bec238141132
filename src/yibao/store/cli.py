"""``yibao db …`` and ``yibao load``: migrate the operational store and load a lake into it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from yibao.console import new_console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yibao.errors import YibaoError

URL_HELP = "Database URL (default: $YIBAO_DB_URL or sqlite:///yibao.db)"


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The operational store (业务库): schema migrations.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade_cmd(url: Optional[str] = typer.Option(None, "--url", help=URL_HELP),
                    rev: str = typer.Option("head", "--rev", help="Target revision")) -> None:
        """Create or migrate the store's schema to the latest revision."""
        from yibao.store import db as store_db

        store_db.upgrade(url, rev)
        typer.echo(f"{store_db.show_url(url)} at revision {store_db.current(url)}")

    @db.command("downgrade")
    def downgrade_cmd(rev: str = typer.Argument(..., help="Target revision, or 'base' to drop everything"),
                      url: Optional[str] = typer.Option(None, "--url", help=URL_HELP)) -> None:
        """Migrate the store's schema down to REV."""
        from yibao.store import db as store_db

        store_db.downgrade(url, rev)
        typer.echo(f"{store_db.show_url(url)} at revision {store_db.current(url) or 'base'}")

    @db.command("current")
    def current_cmd(url: Optional[str] = typer.Option(None, "--url", help=URL_HELP)) -> None:
        """Print the store's schema revision."""
        from yibao.store import db as store_db

        typer.echo(store_db.current(url) or "base (not migrated)")

    app.add_typer(db, name="db")

    @app.command("load")
    def load_cmd(folder: Path = typer.Argument(..., help="Lake folder (persons.parquet, claims/ …)"),
                 url: Optional[str] = typer.Option(None, "--url", help=URL_HELP),
                 check_codes: bool = typer.Option(True, help="Check claim ICD-10 / ICD-9-CM-3 codes against "
                                                             "the shipped 医保 code sets")) -> None:
        """Validate a lake and load it into the store, all or nothing."""
        from yibao.store import db as store_db
        from yibao.store.load import load_lake

        console = new_console()
        icd10 = icd9 = None
        if check_codes:
            from yibao.catalog import codes

            icd10, icd9 = codes.icd10().validate, codes.icd9().validate
        with Progress(TextColumn("{task.description:14s}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            tasks: dict[str, int] = {}

            def progress(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total)
                bar.update(tasks[table], completed=done)

            try:
                loaded = load_lake(folder, url, progress=progress, icd10=icd10, icd9=icd9)
            except YibaoError as e:
                error = e
            else:
                error = None
        if error is not None:
            console.print(f"[red]Nothing loaded:[/red] {error}", soft_wrap=True, markup=True, highlight=False)
            raise typer.Exit(1)
        table = Table(title=f"Loaded into {store_db.show_url(url)}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in loaded.items():
            table.add_row(name, f"{rows:,}")
        table.add_row("[bold]total[/bold]", f"[bold]{sum(loaded.values()):,}[/bold]")
        console.print(table)
