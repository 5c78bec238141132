import importlib.util
from pathlib import Path

import typer
from typer.testing import CliRunner

from yibao.store import cli, db


def _app() -> typer.Typer:
    app = typer.Typer()
    cli.register(app)
    return app


def _test_load_module():
    spec = importlib.util.spec_from_file_location("store_test_load", Path(__file__).with_name("test_load.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_db_upgrade_current_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    r = runner.invoke(_app(), ["db", "upgrade", "--url", url])
    assert r.exit_code == 0, r.output
    assert db.head() in r.output and db.current(url) == db.head()
    assert runner.invoke(_app(), ["db", "current", "--url", url]).output.strip() == db.head()
    r = runner.invoke(_app(), ["db", "downgrade", "base", "--url", url])
    assert r.exit_code == 0 and db.current(url) is None


def test_load_command(tmp_path, make):
    lake = _test_load_module().write_lake(tmp_path / "lake", make)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    r = CliRunner().invoke(_app(), ["load", str(lake), "--url", url, "--no-check-codes"])
    assert r.exit_code == 0, r.output
    assert "claim_lines" in r.output and "total" in r.output and "29" in r.output
    assert "coverage_choices" in r.output and "account_balances" in r.output


def test_load_command_reports_bad_lake(tmp_path, make):
    people = [make.person(n) for n in range(1, 5)]
    people[1] = {**people[1], "admdvs": "99"}
    lake = _test_load_module().write_lake(tmp_path / "lake", make, persons=people)
    r = CliRunner().invoke(_app(), ["load", str(lake), "--url", f"sqlite:///{tmp_path / 'cli.db'}",
                                    "--no-check-codes"])
    assert r.exit_code == 1
    assert "Nothing loaded" in r.output and "row 2" in r.output and "admdvs" in r.output


def test_load_command_checks_codes_with_the_shipped_code_sets(tmp_path, make):
    mod = _test_load_module()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    good = mod.write_lake(tmp_path / "good", make)
    r = CliRunner().invoke(_app(), ["load", str(good), "--url", url])
    assert r.exit_code == 0, r.output
    claims = [make.claim("C1"), make.claim("C2", diagnoses="K35.800|K35.999"), make.claim("C3")]
    bad = mod.write_lake(tmp_path / "bad", make, claims=claims)
    r = CliRunner().invoke(_app(), ["load", str(bad), "--url", f"sqlite:///{tmp_path / 'other.db'}"])
    assert r.exit_code == 1 and "K35.999" in r.output and "claims.parquet row 2" in r.output


def _yibao(*args: str):
    from yibao.cli import app

    return CliRunner().invoke(app, list(args))


def test_db_upgrade_refuses_a_string_that_is_no_url():
    r = _yibao("db", "upgrade", "--url", "notaurl")
    assert r.exit_code == 1
    assert "notaurl: url: is not a database URL" in r.output and "Traceback" not in r.output


def test_unreachable_postgresql_named_with_its_password_masked(tmp_path, make):
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
    for args in (["db", "upgrade", "--url", url], ["db", "current", "--url", url]):
        r = _yibao(*args)
        assert r.exit_code == 1, r.output
        assert "postgresql+psycopg://u:***@127.0.0.1:1/x: url: cannot connect to the database" in r.output
        assert "secret" not in r.output
    lake = _test_load_module().write_lake(tmp_path / "lake", make)
    r = _yibao("load", str(lake), "--url", url, "--no-check-codes")
    assert r.exit_code == 1 and "cannot connect to the database" in r.output and "secret" not in r.output


def test_sqlite_file_in_a_missing_folder(tmp_path):
    r = _yibao("db", "upgrade", "--url", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert r.exit_code == 1 and "cannot connect to the database: unable to open database file" in r.output


def test_unknown_or_backward_revisions_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert _yibao("db", "upgrade", "--url", url).exit_code == 0
    r = _yibao("db", "downgrade", "9999", "--url", url)
    assert r.exit_code == 1 and "revision: '9999' is not a revision of the store (known: base, 0001" in r.output
    r = _yibao("db", "upgrade", "--rev", "0001", "--url", url)
    assert r.exit_code == 1 and f"the store is at {db.head()}, later than 0001: downgrade" in r.output
    assert _yibao("db", "downgrade", "0001", "--url", url).exit_code == 0
    r = _yibao("db", "downgrade", "0002", "--url", url)
    assert r.exit_code == 1 and "'0002': Destination 0002 is not a valid downgrade target" in r.output
    assert db.current(url) == "0001"
