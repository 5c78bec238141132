"""The ``yibao`` command line: each domain adds its commands in its own ``cli.py``."""

from __future__ import annotations

import importlib

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from yibao.errors import YibaoError


# Domain command modules (each defines ``register(app)``), the top-level names each registers and their
# one-line help. A domain is imported only when one of its commands runs, so ``yibao settle`` does not pay
# for the server, the store and the fund, and ``yibao --help`` lists the commands from this table without
# importing any; ``tests/test_cli_face.py`` checks the names and the help against the modules.
DOMAINS: dict[str, dict[str, str]] = {
    "yibao.api.cli": {
        "serve": "Serve the national institution interface (POST /fsi/api/rsfComIfsService/callService).",
        "institution": "定点医药机构: add one and issue its interface credential.",
        "audit-log": "The tamper-evident audit log of accepted messages.",
    },
    "yibao.catalog.cli": {
        "catalog": "医保目录 catalog: items, classes, prices, restrictions.",
        "codes": "医保 code sets: ICD-10 diagnoses and ICD-9-CM-3 operations.",
    },
    "yibao.fund.cli": {"fund": "基金运行: fund accounts, risk warning and the plans' indicators of a lake's year."},
    "yibao.ledger.cli": {"lake": "The lake (Parquet) of what the service settled."},
    "yibao.payment.cli": {
        "dip": "DIP 按病种分值付费: build the catalog from history, settle a year.",
        "pay": "Institution payment: annual clearing, a whole synthetic year.",
    },
    "yibao.payment.drg.cli": {"drg": "CHS-DRG grouping (疾病诊断相关分组)."},
    "yibao.registry.cli": {"registry": "Registry (参保登记与筹资): contributions, accounts, double enrollment."},
    "yibao.settlement.allowance_cli": {
        "maternity": "生育津贴 maternity allowance: one birth, or every birth of a lake's year.",
    },
    "yibao.settlement.cli": {
        "settle": "Settle claims (一站式结算): basic pooling, 大病/大额, 救助, supplementary tiers, account, cash.",
    },
    "yibao.scale.cli": {"scale": "The year on Spark: settlement and fund accounts by buckets of whole households."},
    "yibao.store.cli": {
        "load": "Validate a lake and load it into the store, all or nothing.",
        "db": "The operational store (业务库): schema migrations.",
    },
    "yibao.supervision.cli": {"supervise": "Fund supervision (基金监管): run the rule library over a lake."},
    "yibao.supervision.regulator_cli": {
        "audit": "费用审核 and 双随机一公开: screen a year, draw the re-check sample, draw inspections.",
        "case": "Cases (案件): 线索 → 核查 → 立案 → 处理 → 结案.",
        "report": "举报: intake, 受理 or 不予受理, the reward.",
        "credit": "Credit (信用): institution grades A–E, staff 医保支付资格 points, records.",
    },
    "yibao.synth.cli": {
        "synth": "Generate a synthetic region (合成统筹区): persons, enrolment, institutions, a year of claims.",
    },
}
_MODULE_OF = {command: module for module, commands in DOMAINS.items() for command in commands}
_HELP_OF = {command: text for commands in DOMAINS.values() for command, text in commands.items()}


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

    def format_help(self, ctx, formatter) -> None:
        self._listing = True  # the command list shows each domain's line from DOMAINS
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx, name: str):
        if name not in self.commands and getattr(self, "_listing", False) and name in _HELP_OF:
            return TyperCommand(name, help=_HELP_OF[name], short_help=_HELP_OF[name])
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
