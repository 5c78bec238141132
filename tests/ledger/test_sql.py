"""The hot path's statement layer (yibao.store.sql): compiled statements on the driver's cursor give
what SQLAlchemy gives; deferred writes keep their order, their checks and the transaction's fate; a
2207 costs five round trips to PostgreSQL."""

import datetime as dt
import json
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from yibao.api import his as H
from yibao.api.service import Service
from yibao.store import sql
from yibao.ledger.repository import LINES, MSG
from yibao.ledger.service import LedgerError

ROW = {"mdtrt_id": "MD1", "feedetl_sn": "1", "med_list_codg": "110200001", "medins_list_codg": None,
       "fee_ocur_time": dt.datetime(2025, 3, 1, 9, 10, 11, 123456), "pric": Decimal("8.125000"),
       "cnt": Decimal("-1.5000"), "amount_fen": -1219, "chrg_bchno": None, "status": "active", "setl_id": None,
       "msgid": "M" * 30}


def _encounter(ledger, conn) -> None:
    from yibao.ledger import service

    service.register(conn, ledger.inst(conn), psn_no="P00001", insutype="310", kind="outpatient",
                     begntime=dt.datetime(2025, 3, 1, 9), ipt_otp_no="O1", msgid="M" * 30)


def _message(msgid: str, code: str) -> dict:
    return {"msgid": msgid, "infno": "2207", "fixmedins_code": code, "body_digest": "d", "response": "{}",
            "received_at": dt.datetime(2025, 3, 1, 9), "reversed_by": None}


def _mdtrt(conn) -> str:
    return conn.execute(sa.text("SELECT mdtrt_id FROM encounters")).scalar_one()


def test_a_prepared_statement_reads_and_writes_as_sqlalchemy_does(ledger):
    with ledger.engine.begin() as conn:
        _encounter(ledger, conn)
        row = {**ROW, "mdtrt_id": _mdtrt(conn)}
        sql.run(conn, sql.Prepared(sa.insert(LINES)), row)
        by_sqlalchemy = dict(conn.execute(sa.select(LINES)).mappings().one())
        got = sql.run(conn, sql.Prepared(sa.select(LINES).where(LINES.c.mdtrt_id == sa.bindparam("id"))),
                      {"id": row["mdtrt_id"]}).rows
    assert by_sqlalchemy == row  # written by the driver, read back by SQLAlchemy: the same values
    assert got == [row] and isinstance(got[0]["fee_ocur_time"], dt.datetime) and isinstance(got[0]["cnt"], Decimal)


def test_deferred_writes_run_before_later_statements_and_commit_with_the_transaction(ledger):
    insert = sql.Prepared(sa.insert(MSG))
    message = _message("A" * 30, ledger.hospital)
    with ledger.engine.begin() as conn:
        sql.defer(conn, insert, message)
        seen = conn.execute(sa.select(sa.func.count()).select_from(MSG)).scalar()  # SQLAlchemy's own statement
    assert seen == 1
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.select(MSG.c.msgid)).scalars().all() == ["A" * 30]


def test_a_deferred_write_is_lost_with_its_transaction_and_a_missed_count_refuses_before_the_commit(ledger):
    insert = sql.Prepared(sa.insert(MSG))
    message = _message("B" * 30, ledger.hospital)
    with pytest.raises(ZeroDivisionError):
        with ledger.engine.begin() as conn:
            sql.defer(conn, insert, message)
            1 / 0
    nothing = sql.Prepared(sa.update(MSG).where(MSG.c.msgid == sa.bindparam("id")).values(infno="2208"))
    with pytest.raises(LedgerError, match="taken"):
        with ledger.engine.begin() as conn:
            sql.defer(conn, insert, message)
            sql.defer(conn, nothing, {"id": "no such msgid"}, expect=1, error=LedgerError("msgid", "taken"))
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.select(MSG.c.msgid)).all() == []  # neither transaction left its message


def test_a_duplicate_key_in_a_deferred_write_is_sqlalchemys_integrity_error(ledger):
    insert = sql.Prepared(sa.insert(MSG))
    message = _message("C" * 30, ledger.hospital)
    with ledger.engine.begin() as conn:
        sql.defer(conn, insert, message)
    with pytest.raises(sa.exc.IntegrityError):  # what the dispatcher turns into a replay of the stored answer
        with ledger.engine.begin() as conn:
            sql.defer(conn, insert, message)
            sql.run(conn, sql.Prepared(sa.select(MSG.c.msgid)))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite runs in process: no round trips
def test_a_2207_costs_five_round_trips_to_postgresql(ledger):
    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from service import round_trips  # the benchmark's own count

    import psycopg

    svc = Service(None, ledger.region, engine=ledger.engine)
    his = H.His(ledger.hospital, ledger.admdvs)
    with ledger.engine.connect() as c:
        person = dict(c.execute(sa.text("SELECT psn_no, certno, name FROM persons WHERE psn_no = 'P00001'")).mappings().one())
    person.update(insutype="310", psn_type="11", admdvs=ledger.admdvs)
    traces: list[tuple] = []
    tracing = []

    @sa.event.listens_for(ledger.engine, "connect")
    def _trace(dbapi_conn, _record):
        if not tracing:
            return
        path = Path(tempfile.mkstemp()[1])
        dbapi_conn.pgconn.trace(os.open(path, os.O_WRONLY | os.O_APPEND))
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        traces.append((dbapi_conn, path))

    counts = []
    for n in range(3):
        md = json.loads(svc.handle(his.body("2201", H.register(person, "2025-03-01 09:00:00", f"O{n}"))))
        md = md["output"]["data"]["mdtrt_id"]
        up = svc.handle(his.body("2204", {"feedetail": [
            H.fee_line("1", md, "P00001", "110200001", "8.00", "1", "2025-03-01 09:10:00")]}))
        assert json.loads(up)["infcode"] == 0
        ledger.engine.dispose()  # the 2207 alone on a traced connection
        tracing.append(True)
        answer = json.loads(svc.handle(his.body("2207", H.settle(person, md, "8.00"))))
        tracing.clear()
        assert answer["infcode"] == 0, answer["err_msg"]
        for dbapi_conn, path in traces:
            dbapi_conn.pgconn.untrace()
        counts.append(sum(round_trips(path) for _, path in traces))
        for _, path in traces:
            path.unlink()
        traces.clear()
        ledger.engine.dispose()
    # BEGIN with the replay check, the encounter with its lines, the locked position, the settlement's
    # writes with the message and the audit head, the audit link with the commit
    assert counts == [5, 5, 5]


def test_more_lines_than_one_in_list_are_checked_tied_and_freed_in_parts(ledger):
    from yibao.ledger import repository as repo
    from yibao.ledger import service

    n = 2 * 1024 + 3  # three parts: 1024, 1024 and 3 (padded to 4)
    with ledger.engine.begin() as conn:
        inst = ledger.inst(conn)
        enc = service.register(conn, inst, psn_no="P00001", insutype=None, kind="outpatient",
                               begntime=dt.datetime(2025, 3, 1, 9), ipt_otp_no="OPbig", msgid="regbig")
        lines = [ledger.line(f"{k:05d}", "110200001", 800) for k in range(n)]
        service.upload(conn, ledger.region, inst, enc, lines, "upbig")
        with pytest.raises(LedgerError, match="02050 已上传"):  # found in the third part
            service.upload(conn, ledger.region, inst, enc, [ledger.line("99999", "110200001", 800),
                                                            ledger.line("02050", "110200001", 800)], "upbig2")
    with ledger.engine.begin() as conn:
        enc = service.own_encounter(conn, inst, enc["mdtrt_id"], with_lines=True)
        setl_id, _ = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=800 * n, msgid="sbig",
                                    now=dt.datetime(2025, 3, 1, 10))
    with ledger.engine.begin() as conn:
        assert {ln["setl_id"] for ln in repo.lines(conn, enc["mdtrt_id"])} == {setl_id}
        service.reverse(conn, inst, setl_id, msgid="rbig", now=dt.datetime(2025, 3, 1, 11))
    with ledger.engine.connect() as conn:
        assert {ln["setl_id"] for ln in repo.lines(conn, enc["mdtrt_id"])} == {None}
