"""The command line as a whole: domain errors end cleanly, piped tables are not cut."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.testing import CliRunner

from yibao.cli import app
from yibao.console import WIDTH_OFF_TERMINAL, new_console
from yibao.errors import ValidationError


def test_a_domain_error_ends_with_its_message_and_status_1():
    sub = typer.Typer()

    @sub.command("boom")
    def boom() -> None:
        raise ValidationError("field_x", "is wrong", "record 7")

    app.add_typer(sub, name="_test_face")
    try:
        r = CliRunner().invoke(app, ["_test_face", "boom"])
    finally:
        app.registered_groups.pop()
    assert r.exit_code == 1
    assert "record 7: field_x: is wrong" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_piped_output_keeps_whole_cells():
    assert new_console().width == WIDTH_OFF_TERMINAL  # pytest's stdout is not a terminal
    code = "from yibao.console import new_console; c = new_console(); c.print('x' * 150)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "x" * 150


def test_the_command_table_names_what_each_domain_registers():
    from yibao.cli import DOMAINS, domain_commands

    for module, names in DOMAINS.items():
        commands = domain_commands(module)
        assert sorted(commands) == sorted(names), module
        assert {name: c.get_short_help_str(limit=500) for name, c in commands.items()} == names, module


def test_the_command_list_imports_no_domain():
    code = ("import sys; from typer.testing import CliRunner; from yibao.cli import DOMAINS, app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            "assert all(n in r.output for names in DOMAINS.values() for n in names), r.output; "
            "assert '医保目录 catalog' in r.output, r.output; "
            "print(sorted(m for m in DOMAINS if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_command_loads_only_its_own_domain():
    code = ("import sys; from typer.testing import CliRunner; from yibao.cli import app; "
            "r = CliRunner().invoke(app, ['settle', '--help']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('yibao.store.db', 'yibao.api.service', 'yibao.fund.accounts', "
            "'yibao.synth.generate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_command_opens_its_help_with_one_unbroken_line():
    from yibao.cli import DOMAINS, domain_commands

    def first_lines(command, path):
        yield path, (command.help or "").strip().split("\n\n")[0]
        for name, sub in getattr(command, "commands", {}).items():
            yield from first_lines(sub, f"{path} {name}")

    broken = [path for module in DOMAINS for name, command in domain_commands(module).items()
              for path, line in first_lines(command, name) if "\n" in line]
    assert broken == []
