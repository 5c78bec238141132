from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
import sqlalchemy as sa

from yibao.store import db
from yibao.store.models import metadata
import yibao.supervision.regulator.tables  # noqa: F401 - the supervision tables (0006) in the metadata compared


def test_upgrade_and_downgrade(db_url):
    assert db.current(db_url) is None
    db.upgrade(db_url)
    assert db.current(db_url) == db.head() == "0007"
    engine = db.make_engine(db_url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= names
    finally:
        engine.dispose()
    db.downgrade(db_url, "base")
    assert db.current(db_url) is None
    engine = db.make_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_employer_supplementary_migration_keeps_rows(db_url):
    """0002 adds employers.has_supplementary (null for employers loaded before it) and drops it again."""
    db.upgrade(db_url, "0001")
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO employers (emp_no, uscc, name, admdvs) "
                                 "VALUES ('E1', '91370302MA0000001X', '单位', '370302')"))
        db.upgrade(db_url)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT has_supplementary FROM employers")).scalar_one() is None
            conn.execute(sa.text("UPDATE employers SET has_supplementary = :v"), {"v": True})
            assert conn.execute(sa.text("SELECT has_supplementary FROM employers")).scalar_one() in (True, 1)
        engine.dispose()
        db.downgrade(db_url, "0001")
        assert db.current(db_url) == "0001"
        cols = {c["name"] for c in sa.inspect(engine).get_columns("employers")}
        assert "has_supplementary" not in cols and "headcount" in cols
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT emp_no FROM employers")).scalar_one() == "E1"
    finally:
        engine.dispose()


def test_coverage_and_balances_migration_keeps_the_rest(db_url):
    """0003 adds coverage_choices and account_balances; going back to 0002 drops only them."""
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO persons (psn_no, certno, name, sex, birth_date, admdvs) "
                                 "VALUES ('P1', '370302198005060011', '参保人', '1', '1980-05-06', '370302')"))
            conn.execute(sa.text("INSERT INTO account_balances (psn_no, year, balance_fen) VALUES ('P1', 2025, 100)"))
        engine.dispose()
        db.downgrade(db_url, "0002")
        names = set(sa.inspect(engine).get_table_names())
        assert {"coverage_choices", "account_balances"} & names == set() and "persons" in names
        db.upgrade(db_url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM account_balances")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT psn_no FROM persons")).scalar_one() == "P1"
    finally:
        engine.dispose()


def test_models_match_migration(db_url):
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert compare_metadata(ctx, metadata) == []
    finally:
        engine.dispose()


def test_sqlite_engine_enforces_foreign_keys(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_default_url_from_environment(monkeypatch):
    monkeypatch.delenv("YIBAO_DB_URL", raising=False)
    assert db.default_url() == "sqlite:///yibao.db"
    monkeypatch.setenv("YIBAO_DB_URL", "postgresql+psycopg://x@localhost/y")
    assert db.default_url() == "postgresql+psycopg://x@localhost/y"
