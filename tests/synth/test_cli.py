"""``yibao synth`` and ``yibao demo`` refuse bad options with ``error: …`` naming the option, exit 1,
before anything is written."""

from __future__ import annotations

from typer.testing import CliRunner

from yibao.cli import app


def _run(*args):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_unknown_region_names_the_option_and_writes_nothing(tmp_path):
    code, out = _run("synth", "--region", "atlantis", "--persons", "200", "--out", str(tmp_path / "lake"))
    assert code == 1
    assert "error:" in out and "--region" in out and "'atlantis'" in out and "zibo" in out
    assert not (tmp_path / "lake").exists()


def test_an_existing_file_as_out_is_refused(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    code, out = _run("synth", "--persons", "200", "--out", str(target))
    assert code == 1
    assert "error:" in out and "--out" in out and "existing file" in out
    assert target.read_text() == "keep me"


def test_negative_history_years_are_refused(tmp_path):
    code, out = _run("synth", "--persons", "200", "--history-years", "-2", "--out", str(tmp_path / "lake"))
    assert code == 1
    assert "error:" in out and "--history-years" in out and "-2" in out
    assert not (tmp_path / "lake").exists()


def test_too_few_persons_name_the_option(tmp_path):
    code, out = _run("synth", "--persons", "0", "--out", str(tmp_path / "lake"))
    assert code == 1
    assert "error:" in out and "--persons" in out


def test_an_institution_scale_out_of_range_names_the_option(tmp_path):
    code, out = _run("synth", "--persons", "200", "--institution-scale", "0", "--out", str(tmp_path / "lake"))
    assert code == 1
    assert "error: --institution-scale: 0.0 is not a multiple in [0.1, 200]" in out
    assert not (tmp_path / "lake").exists()
