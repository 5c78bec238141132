"""``yibao lake export``: the ledger's settlements as a lake."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from yibao.console import new_console


def register(app: typer.Typer) -> None:
    lake = typer.Typer(help="The lake (Parquet) of what the service settled.", no_args_is_help=True)

    @lake.command("export")
    def export(db: Optional[str] = typer.Option(None, "--db", help="Database URL (default $YIBAO_DB_URL or sqlite:///yibao.db)"),
               out: Path = typer.Option(..., "--out", help="Lake folder to write")) -> None:
        """Write what the service settled as a lake folder.

        The registry, every live settlement as a claim with its lines, the statements and the 结算清单."""
        from yibao.ledger.db import ledger_engine
        from yibao.ledger.export import export_lake
        from yibao.store import db as store_db

        engine = ledger_engine(db or store_db.default_url())
        try:
            counts = export_lake(engine, out)
        finally:
            engine.dispose()
        new_console().print(", ".join(f"{k} {v:,}" for k, v in counts.items()) + f" → {out}", highlight=False)

    app.add_typer(lake, name="lake")


__all__ = ["register"]
