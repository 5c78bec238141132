"""The ``yibao`` command line: each domain adds its commands in its own ``cli.py``."""

from __future__ import annotations

import importlib

import typer
import typer.main
from typer.core import TyperGroup

from yibao.errors import YibaoError


# Domain command modules (each defines ``register(app)``) and the top-level names each registers. A
# domain is imported only when one of its commands runs, so ``yibao settle`` does not pay for the
# server, the store and the fund; ``tests/test_cli_face.py`` checks the names against the modules.
DOMAINS: dict[str, tuple[str, ...]] = {
    "yibao.api.cli": ("serve", "institution", "audit-log"),
    "yibao.catalog.cli": ("catalog", "codes"),
    "yibao.fund.cli": ("fund",),
    "yibao.ledger.cli": ("lake",),
    "yibao.payment.cli": ("dip", "pay"),
    "yibao.payment.drg.cli": ("drg",),
    "yibao.registry.cli": ("registry",),
    "yibao.settlement.allowance_cli": ("maternity",),
    "yibao.settlement.cli": ("settle",),
    "yibao.scale.cli": ("scale",),
    "yibao.store.cli": ("load", "db"),
    "yibao.supervision.cli": ("supervise",),
    "yibao.supervision.regulator_cli": ("audit", "case", "report", "credit"),
    "yibao.synth.cli": ("synth",),
}
_MODULE_OF = {command: module for module, commands in DOMAINS.items() for command in commands}


def domain_commands(module: str) -> dict:
    """The click commands a domain module registers, by name."""
    sub = typer.Typer()
    importlib.import_module(module).register(sub)
    return dict(typer.main.get_group(sub).commands)


class _Commands(TyperGroup):
    """The command tree: domain commands are loaded when named; a domain error (bad input, a
    malformed pack) raised by any command ends it with the error's message and exit status 1, never a
    traceback."""

    def list_commands(self, ctx) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_MODULE_OF))

    def get_command(self, ctx, name: str):
        if name not in self.commands and name in _MODULE_OF:
            for command_name, command in domain_commands(_MODULE_OF[name]).items():
                self.add_command(command, command_name)
        return super().get_command(ctx, name)

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


@app.callback()
def _tree() -> None:
    """yibao — medical-security platform (医疗保障信息平台) for a pooling region."""


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
