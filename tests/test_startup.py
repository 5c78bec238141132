"""What a command loads before it does its work: help and the settlement face stay free of the table
libraries, and ``yibao settle`` loads what it settles with, not the other domains'."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "sqlalchemy", "ibis", "duckdb", "yaml")


def _loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    """The ``modules`` loaded once ``code`` has run in a fresh interpreter."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return eval(out.strip().splitlines()[-1])  # noqa: S307 - our own probe's printed list


def _cli(*args: str) -> str:
    return ("from typer.testing import CliRunner\nfrom yibao.cli import app\n"
            f"r = CliRunner().invoke(app, {list(args)!r})\nassert r.exit_code == 0, r.output")


def test_the_command_line_itself_loads_no_table_library():
    assert _loaded_after("import yibao.cli") == []


def test_settle_help_loads_no_table_library():
    assert _loaded_after(_cli("settle", "--help")) == []


def test_the_settlement_face_loads_its_modules_on_use():
    assert _loaded_after("import yibao.settlement") == []
    assert _loaded_after("from yibao.settlement import settle_lake") == ["pandas", "pyarrow", "yaml"]


def test_checking_diagnosis_codes_builds_no_name_table():
    # the batch checks codes by position; the 47,101-entry name dict and the sorted copy are for look-ups
    code = ("from yibao.catalog.codes import icd10\ns = icd10()\nassert s.validate_many(['K35.800x001', 'nope']).tolist() "
            "== [True, False]\nprint(sorted(k for k in ('_names', '_sorted') if k in vars(s)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    from yibao.catalog.codes import icd10

    assert icd10().name("K35.800x001") and len(icd10()) == 47_101 and list(icd10().codes_with_prefix("K35.8"))


def test_the_grouper_and_the_store_commands_help_loads_no_table_library():
    assert _loaded_after(_cli("drg", "--help")) == []
    assert _loaded_after(_cli("load", "--help")) == []
    assert _loaded_after("import yibao.store, yibao.payment.drg") == []


def test_lazy_faces_still_give_their_names():
    from yibao.payment.drg import GroupInput, group, group_many
    from yibao.store import Store, load_lake

    assert callable(group) and callable(group_many) and callable(load_lake) and isinstance(Store, type)
    assert GroupInput.__module__ == "yibao.payment.drg.grouper"


def test_yibao_settle_starts_reading_the_lake_before_it_loads_the_engine(tmp_path):
    # the first part is read (Arrow, without the GIL) while pandas and the engine are imported
    from yibao.synth import SynthConfig, generate

    generate(SynthConfig(persons=300, seed=2, with_lines=True), tmp_path)
    code = (f"from yibao.settlement.memory import lake_files\nfiles = lake_files({str(tmp_path)!r})\n"
            "(claims_path, _), (claims, lines) = files.next()\nassert claims.num_rows and lines.num_rows")
    assert _loaded_after(code) == ["pyarrow"]
