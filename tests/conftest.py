"""Shared fixtures. ``db_url`` runs a test on SQLite and on PostgreSQL.

PostgreSQL comes from ``YIBAO_TEST_PG_URL`` (set by ``.ci/run``); without it, a throwaway cluster is
started here from Debian's ``postgresql`` package, so the README's test command works on its own.

Property tests explore new random examples on every local run; under CI (``CI`` set) they draw the
same examples every time, so a submission's result does not depend on the draw.
"""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _start_cluster() -> tuple[str, callable]:
    from yibao.errors import ValidationError
    from yibao.store.throwaway import throwaway_cluster

    try:
        return throwaway_cluster()
    except ValidationError:
        pytest.fail("PostgreSQL is needed for the store tests: `apt-get install postgresql` or set YIBAO_TEST_PG_URL")


@pytest.fixture(scope="session")
def pg_server_url():
    url = os.environ.get("YIBAO_TEST_PG_URL")
    if url:
        yield url
        return
    url, stop = _start_cluster()
    try:
        yield url
    finally:
        stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database URL: a SQLite file, or a fresh schema-isolated PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'yibao.db'}"
        return
    import sqlalchemy as sa

    server = request.getfixturevalue("pg_server_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---- a migrated store with two institutions and five insured persons (ledger and interface tests) ----



import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from yibao.catalog.items import Catalog
from yibao.ids import make_id_number
from yibao.ledger import repository as repo
from yibao.ledger import service
from yibao.ledger.db import ledger_engine
from yibao.policy.pack import load_pack
from yibao.store import upgrade
from yibao.store.models import Enrollment, Institution, Person

ADMDVS = "370302"
HOSPITAL, OTHER = "H37030200001", "H37030200002"
REGION = service.Region(load_pack("demo"), Catalog.shipped())


def _seed(conn: sa.Connection) -> None:
    conn.execute(sa.insert(Institution.__table__), [
        {"fixmedins_code": code, "name": f"医院{code[-1]}", "kind": "hospital", "level": "3", "admdvs": ADMDVS}
        for code in (HOSPITAL, OTHER)])
    people, spells = [], []
    for n in range(1, 6):
        employee = n <= 3
        born = dt.date(1980, 5, 6) if employee else dt.date(2015, 3, 1)
        psn = f"P{n:05d}"
        people.append({"psn_no": psn, "certno": make_id_number(ADMDVS, born, n, "1"), "name": f"参保人{n}", "sex": "1",
                       "birth_date": born, "admdvs": ADMDVS, "household_id": None, "death_date": None})
        spells.append({"spell_id": f"S{n}", "psn_no": psn, "insutype": "310" if employee else "390",
                       "psn_type": "11" if employee else "1403", "emp_kind": None, "emp_no": None, "admdvs": ADMDVS,
                       "start_date": dt.date(2020, 1, 1), "end_date": None, "contribution_base_fen": None,
                       "civil_servant": False})
    conn.execute(sa.insert(Person.__table__), people)
    conn.execute(sa.insert(Enrollment.__table__), spells)


@pytest.fixture
def ledger(db_url):
    upgrade(db_url)
    engine = ledger_engine(db_url)
    with engine.begin() as conn:
        _seed(conn)
        service.open_year(conn, 2025, [{"psn_no": f"P{n:05d}", "account": 50_000 if n <= 3 else 0, "family": 0}
                                       for n in range(1, 6)])
    try:
        yield SimpleNamespace(engine=engine, url=db_url, visit=visit, line=line, region=REGION, hospital=HOSPITAL,
                              other=OTHER, admdvs=ADMDVS, inst=lambda c, code=HOSPITAL: repo.institution(c, code))
    finally:
        engine.dispose()


def line(sn: str, code: str, amount_fen: int, cnt: str = "1", when=dt.datetime(2025, 3, 1, 9)) -> dict:
    cnt_d = Decimal(cnt)
    return {"feedetl_sn": sn, "med_list_codg": code, "fee_ocur_time": when, "cnt": cnt_d,
            "pric": (Decimal(amount_fen) / 100 / cnt_d).quantize(Decimal("0.000001")), "amount_fen": amount_fen}


def visit(conn, psn_no: str = "P00001", amount_fen: int = 100_000, code: str = HOSPITAL, tag: str = "1",
          day: dt.date = dt.date(2025, 3, 1)):
    """An outpatient visit with one 乙类 line (磁共振) of ``amount_fen``, registered and uploaded."""
    inst = repo.institution(conn, code)
    enc = service.register(conn, inst, psn_no=psn_no, insutype=None, kind="outpatient",
                           begntime=dt.datetime.combine(day, dt.time(9)), ipt_otp_no=f"OP{tag}", msgid=f"reg{tag}")
    service.upload(conn, REGION, inst, enc, [line("0001", "210200001a", amount_fen, when=dt.datetime.combine(day, dt.time(9)))],
                   f"up{tag}")
    return inst, enc
