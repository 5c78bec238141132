"""The ``yibao`` command line: each domain adds its commands in its own ``cli.py``."""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from yibao.errors import YibaoError


class _Commands(TyperGroup):
    """The command tree: a domain error (bad input, a malformed pack) raised by any command ends it
    with the error's message and exit status 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except YibaoError as e:
            from yibao.console import new_console

            new_console().print(f"[red]error:[/red] {e}", highlight=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Commands,
    name="yibao",
    help="yibao — medical-security platform (医疗保障信息平台) for a pooling region.",
    no_args_is_help=True,
    add_completion=False,
)

# Domain command modules; each defines ``register(app)``.
_DOMAINS: list[str] = [
    "yibao.api.cli",
    "yibao.catalog.cli",
    "yibao.fund.cli",
    "yibao.ledger.cli",
    "yibao.payment.cli",
    "yibao.payment.drg.cli",
    "yibao.registry.cli",
    "yibao.settlement.allowance_cli",
    "yibao.settlement.cli",
    "yibao.store.cli",
    "yibao.scale.cli",
    "yibao.supervision.cli",
    "yibao.synth.cli",
]


def _register_domains() -> None:
    import importlib

    for name in _DOMAINS:
        importlib.import_module(name).register(app)


_register_domains()


@app.command()
def demo(
    out: str = typer.Option("demo-out", help="Folder for the lake (Parquet) and the SQLite store."),
    persons: int = typer.Option(20_000, help="Persons in the synthetic region."),
    year: int = typer.Option(2024, help="Year of claims."),
    seed: int = typer.Option(2024, help="Random seed (the region is deterministic per seed)."),
    pack: str = typer.Option("demo", help="Policy pack."),
) -> None:
    """Run the demo region end to end: synthesize, load the store, print the summary."""
    from pathlib import Path

    from yibao.console import new_console
    from yibao.demo import run

    run(Path(out), persons, year, seed, pack, new_console(min_width=132))

if __name__ == "__main__":  # pragma: no cover
    app()
