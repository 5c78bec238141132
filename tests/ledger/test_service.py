"""The ledger service on SQLite and PostgreSQL: settle, reverse exactly, never settle a line twice,
an institution touches only its own encounters, and concurrent settlements never overdraw."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from yibao.ledger import repository as repo
from yibao.ledger import service
from yibao.ledger.service import LedgerError

NOW = dt.datetime(2025, 3, 1, 10)


def test_settle_moves_the_position_and_reversal_restores_it(ledger):
    with ledger.engine.begin() as conn:
        before = repo.position(conn, "P00001", 2025)
        inst, enc = ledger.visit(conn)
        setl_id, st = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=100_000, msgid="s1", now=NOW)
        after = repo.position(conn, "P00001", 2025)
        assert st.setlinfo["medfee_sumamt"] == 100_000
        assert after.account == before.account - st.setlinfo["acct_pay"]
        assert after.accumulators != before.accumulators
        rev_id, stored = service.reverse(conn, inst, setl_id, msgid="r1", now=NOW)
        assert repo.position(conn, "P00001", 2025) == before
        assert stored["setlinfo"]["hifp_pay"] == -st.setlinfo["hifp_pay"]
        with pytest.raises(LedgerError, match="已撤销"):
            service.reverse(conn, inst, setl_id, msgid="r2", now=NOW)
        # the lines are free again: the visit settles anew, to the same fen
        again, st2 = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=100_000, msgid="s2", now=NOW)
        assert st2.setlinfo == st.setlinfo


def test_reversing_an_earlier_settlement_takes_back_only_its_change(ledger):
    with ledger.engine.begin() as conn:
        inst, a = ledger.visit(conn, tag="a")
        first, _ = service.settle(conn, ledger.region, inst, a, medfee_sumamt=None, msgid="sa", now=NOW)
        mid = repo.position(conn, "P00001", 2025)
        _, b = ledger.visit(conn, tag="b", amount_fen=30_000)
        service.settle(conn, ledger.region, inst, b, medfee_sumamt=None, msgid="sb", now=NOW)
        service.reverse(conn, inst, first, msgid="ra", now=NOW)
        end = repo.position(conn, "P00001", 2025)
        change_a = repo.change_of_row(repo.settlement(conn, first))
        assert end.account == mid.account + change_a.account - repo.change_of_row(
            [r for r in repo.settlements_of(conn, b["mdtrt_id"])][0]).account


def test_a_line_is_settled_once(ledger):
    with ledger.engine.begin() as conn:
        inst, enc = ledger.visit(conn)
        service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid="s1", now=NOW)
        with pytest.raises(LedgerError, match="没有待结算"):
            service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid="s2", now=NOW)


def test_medfee_sumamt_must_equal_the_lines(ledger):
    with ledger.engine.begin() as conn:
        inst, enc = ledger.visit(conn)
        with pytest.raises(LedgerError) as e:
            service.settle(conn, ledger.region, inst, enc, medfee_sumamt=99_999, msgid="s1", now=NOW)
        assert e.value.field == "medfee_sumamt"


def test_another_institutions_encounter_and_settlement_are_refused(ledger):
    with ledger.engine.begin() as conn:
        inst, enc = ledger.visit(conn)
        setl_id, _ = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid="s1", now=NOW)
        other = ledger.inst(conn, ledger.other)
        with pytest.raises(LedgerError, match="不属于本机构"):
            service.own_encounter(conn, other, enc["mdtrt_id"])
        with pytest.raises(LedgerError, match="不属于本机构"):
            service.reverse(conn, other, setl_id, msgid="r1", now=NOW)


def test_refund_lines_net_against_their_item(ledger):
    with ledger.engine.begin() as conn:
        inst, enc = ledger.visit(conn, amount_fen=60_000)
        answer = service.upload(conn, ledger.region, inst, enc, [ledger.line("0002", "210200001a", -20_000, cnt="-1")], "up2")
        assert answer[0]["inscp_scp_amt"] < 0
        _, st = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=40_000, msgid="s1", now=NOW)
        assert st.setlinfo["medfee_sumamt"] == 40_000
        _, enc2 = ledger.visit(conn, tag="x", amount_fen=10_000)
        service.upload(conn, ledger.region, inst, enc2, [ledger.line("0002", "210200001a", -20_000, cnt="-1")], "up3")
        with pytest.raises(LedgerError, match="超过已收费"):
            service.settle(conn, ledger.region, inst, enc2, medfee_sumamt=None, msgid="s2", now=NOW)


def test_inpatient_stay_needs_discharge_or_mid_settlement(ledger):
    with ledger.engine.begin() as conn:
        inst = ledger.inst(conn)
        enc = service.register(conn, inst, psn_no="P00002", insutype="310", kind="inpatient",
                               begntime=dt.datetime(2025, 3, 1, 9), ipt_otp_no="IP1", msgid="adm",
                               diagnoses=("K35.800",))
        service.upload(conn, ledger.region, inst, enc, [ledger.line("0001", "210200001a", 200_000)], "up")
        with pytest.raises(LedgerError, match="未办理出院"):
            service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid="s0", now=NOW)
        mid_id, mid = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid="s1", now=NOW, mid=True)
        service.upload(conn, ledger.region, inst, enc, [ledger.line("0002", "210200001a", 100_000, when=dt.datetime(2025, 3, 5))], "up2")
        service.discharge(conn, enc, dt.datetime(2025, 3, 6, 10))
        enc = repo.encounter(conn, enc["mdtrt_id"])
        _, final = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=100_000, msgid="s2", now=NOW)
        assert mid.setlinfo["medfee_sumamt"] == 200_000 and final.setlinfo["medfee_sumamt"] == 100_000
        with pytest.raises(LedgerError, match="已出院结算"):
            service.undo_discharge(conn, enc)


def test_concurrent_settlements_never_overdraw_or_lose_an_update(ledger):
    """51 threads settle visits for the same three persons at once; every position ends as the sum of
    the changes of the settlements that committed, and no account goes below zero."""
    persons = ["P00001", "P00002", "P00003"]
    opening = {}
    with ledger.engine.begin() as conn:
        for p in persons:
            opening[p] = repo.position(conn, p, 2025)
    errors: list[BaseException] = []

    def work(i: int) -> None:  # noqa: ANN001
        try:
            with ledger.engine.begin() as conn:
                inst, enc = ledger.visit(conn, psn_no=persons[i % 3], amount_fen=40_000 + 100 * i, tag=f"t{i}")
                service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid=f"s{i}", now=NOW)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(51)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with ledger.engine.begin() as conn:
        for p in persons:
            rows = [r for r in repo.settlements_of_person(conn, p)]
            assert len(rows) == 17
            spent = sum(repo.change_of_row(r).account for r in rows)
            pos = repo.position(conn, p, 2025)
            assert pos.account == opening[p].account - spent >= 0
            assert spent == opening[p].account  # the account was used to the last fen, never past it
            acc: dict[str, int] = {}
            for r in rows:
                for k, v in repo.change_of_row(r).accumulators.items():
                    acc[k] = acc.get(k, 0) + v
            assert {k: v for k, v in acc.items() if v} == pos.accumulators


def test_out_of_region_care_takes_the_registrys_filing(ledger):
    """异地就医: at an institution of another pooling region the person's 备案 decides the rule; another
    district of the same city is not 异地."""
    import sqlalchemy as sa
    from typer.testing import CliRunner

    from yibao.cli import app
    from yibao.store.models import Institution

    with ledger.engine.begin() as conn:
        conn.execute(sa.insert(Institution.__table__), [
            {"fixmedins_code": "H11010100001", "name": "北京医院", "kind": "hospital", "level": "3", "admdvs": "110101"},
            {"fixmedins_code": "H37030300001", "name": "张店医院", "kind": "hospital", "level": "3", "admdvs": "370303"}])
        certno = conn.execute(sa.text("SELECT certno FROM persons WHERE psn_no = 'P00002'")).scalar_one()

    def settled(code: str, tag: str) -> tuple:
        """(the filing kept, the setlinfo) of a visit settled and reversed again, so every visit meets
        the same year so far."""
        with ledger.engine.begin() as conn:
            inst, enc = ledger.visit(conn, psn_no="P00002", amount_fen=300_000, code=code, tag=tag)
            setl_id, st = service.settle(conn, ledger.region, inst, enc, medfee_sumamt=None, msgid=f"s{tag}", now=NOW)
            service.reverse(conn, inst, setl_id, msgid=f"r{tag}", now=NOW)
            return json.loads(repo.encounter(conn, enc["mdtrt_id"])["insured"])["filing"], st.setlinfo

    same_city, home = settled("H37030300001", "d"), settled(ledger.hospital, "h")
    assert same_city[0] is None and same_city[1]["hifp_pay"] == home[1]["hifp_pay"]
    unfiled = settled("H11010100001", "u")
    assert unfiled[0] is None
    r = CliRunner().invoke(app, ["registry", "file", "--certno", certno, "--kind", "referred", "--place", "110105",
                                 "--begin", "2025-01-01", "--db", ledger.url])
    assert r.exit_code == 0, r.output
    referred = settled("H11010100001", "r")
    assert referred[0] == "referred" and referred[1]["hifp_pay"] > unfiled[1]["hifp_pay"]
    bad = CliRunner().invoke(app, ["registry", "file", "--certno", certno, "--kind", "moved", "--place", "110105",
                                   "--begin", "2025-01-01", "--db", ledger.url])
    assert bad.exit_code == 1 and "--kind" in bad.output
