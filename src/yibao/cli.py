"""The ``yibao`` command line: each domain adds its commands in its own ``cli.py``."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="yibao",
    help="yibao — medical-security platform (医疗保障信息平台) for a pooling region.",
    no_args_is_help=True,
    add_completion=False,
)

# Domain command modules; each defines ``register(app)``.
_DOMAINS: list[str] = [
    "yibao.catalog.cli",
    "yibao.payment.cli",
    "yibao.payment.drg.cli",
    "yibao.registry.cli",
    "yibao.settlement.cli",
    "yibao.store.cli",
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

    from rich.console import Console

    from yibao.demo import run

    console = Console()
    run(Path(out), persons, year, seed, pack, Console(width=max(console.width, 132)))

if __name__ == "__main__":  # pragma: no cover
    app()
