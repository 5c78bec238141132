"""``yibao serve`` as a real process on a free loopback port, spoken to over HTTP: a visit and a stay
settled, the server killed with SIGKILL under load and restarted — every settlement a client saw is
in the ledger once, replays answer the stored result, and the day still reconciles — and a fuzz of
the endpoint that never gets an HTTP 500. Bounded counts and times; 127.0.0.1 only."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from yibao.api import his as H
from yibao.api.app import PATH

DAY = "2025-03-01"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str):
        self.url, self.port, self.proc = url, _port(), None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "yibao.cli", "serve", "--db", self.url, "--port",
                                      str(self.port), "--insecure"], env=env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stdout.read().decode())
        raise RuntimeError("server did not start in 60 s")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server(ledger):
    s = Server(ledger.url).start()
    try:
        yield s
    finally:
        s.stop()


def _people(ledger) -> list[dict]:
    with ledger.engine.begin() as c:
        rows = c.execute(sa.text("SELECT p.psn_no, p.certno, p.name, e.insutype, e.psn_type FROM persons p "
                                 "JOIN enrollments e ON e.psn_no = p.psn_no ORDER BY p.psn_no")).mappings().all()
    return [{**dict(r), "admdvs": ledger.admdvs} for r in rows]


def _post(client: httpx.Client, his: H.His, infno: str, input_: dict, msgid: str | None = None) -> tuple[bytes, dict]:
    body = his.body(infno, input_, msgid)
    r = client.post(PATH, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    return body, r.json(parse_float=Decimal)


def _ok(client, his, infno, input_, msgid=None) -> dict:
    _, answer = _post(client, his, infno, input_, msgid)
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


def test_visit_and_stay_over_http(server, ledger):
    p = _people(ledger)[0]
    his = H.His(ledger.hospital, ledger.admdvs)
    with httpx.Client(base_url=server.base, timeout=30) as c:
        assert _ok(c, his, "1101", H.person_info(p["certno"]))["baseinfo"]["psn_no"] == p["psn_no"]
        md = _ok(c, his, "2201", H.register(p, f"{DAY} 09:00:00", "OP1"))["data"]["mdtrt_id"]
        _ok(c, his, "2204", {"feedetail": [H.fee_line("1", md, p["psn_no"], "210200001a", "380.00", "1", f"{DAY} 09:10:00")]})
        s = _ok(c, his, "2207", H.settle(p, md, "380.00"))["setlinfo"]
        assert s["medfee_sumamt"] == Decimal("380.00") and s["fund_pay_sumamt"] + s["psn_part_amt"] == Decimal("380.00")
        ip = _ok(c, his, "2401", H.admit(p, f"{DAY} 08:00:00", "IP1", "K35.800"))["result"]["mdtrt_id"]
        _ok(c, his, "2301", {"feedetail": [{**H.fee_line("1", ip, p["psn_no"], "210200001a", "380.00", "3",
                                                         f"{DAY} 10:00:00"), "med_type": "21"}]})
        _ok(c, his, "2402", H.discharge(p, ip, "2025-03-04 10:00:00", "K35.800"))
        stay = _ok(c, his, "2304", H.settle(p, ip, "1140.00", inpatient=True))["setlinfo"]
        assert stay["medfee_sumamt"] == Decimal("1140.00") and stay["setl_id"].startswith("ST")
        r = c.get(PATH)
        assert r.status_code == 405


def test_kill_9_under_load_loses_nothing_and_pays_nothing_twice(ledger):
    people = _people(ledger)
    server = Server(ledger.url).start()
    seen: dict[str, tuple[bytes, dict]] = {}  # msgid → (body, answer) of every 2207 answered infcode 0
    sent: dict[str, bytes] = {}  # every 2207 body sent, answered or not
    lock = threading.Lock()
    stop = threading.Event()

    his = H.His(ledger.hospital, ledger.admdvs)  # one HIS numbering its messages, many tills

    def client(k: int) -> None:
        p = people[k % len(people)]
        with httpx.Client(base_url=server.base, timeout=10) as c:
            for i in range(40):
                if stop.is_set():
                    return
                try:
                    md = _ok(c, his, "2201", H.register(p, f"{DAY} 09:00:00", f"K{k}-{i}"))["data"]["mdtrt_id"]
                    _ok(c, his, "2204", {"feedetail": [H.fee_line("1", md, p["psn_no"], "110200001", "8.00", "1",
                                                                  f"{DAY} 09:10:00")]})
                    msgid = his.msgid()
                    body = his.body("2207", H.settle(p, md, "8.00"), msgid)
                    with lock:
                        sent[msgid] = body
                    r = c.post(PATH, content=body)
                    answer = r.json(parse_float=Decimal)
                    if answer["infcode"] == 0:
                        with lock:
                            seen[msgid] = (body, answer)
                except httpx.HTTPError:
                    return  # the server is gone

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(seen) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(seen) >= 20
    server = Server(ledger.url).start()
    try:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            for msgid, (body, answer) in seen.items():
                again = c.post(PATH, content=body).json(parse_float=Decimal)
                assert again == answer  # the stored result, not a second settlement
            for msgid, body in sent.items():  # in flight at the kill: a resend settles at most once
                if msgid not in seen:
                    c.post(PATH, content=body)
            with ledger.engine.begin() as conn:
                rows = conn.execute(sa.text("SELECT setl_id, mdtrt_id, msgid, insutype, medfee_sumamt_fen, "
                                            "fund_pay_sumamt_fen, acct_pay_fen FROM settlements")).mappings().all()
            assert {a["output"]["setlinfo"]["setl_id"] for _, a in seen.values()} <= {r["setl_id"] for r in rows}
            assert len({r["mdtrt_id"] for r in rows}) == len(rows)  # no visit settled twice
            assert len({r["msgid"] for r in rows}) == len(rows)
            today = dt.date.today().isoformat()
            for insutype in ("310", "390"):
                mine = [r for r in rows if r["insutype"] == insutype]
                total, fund, acct = (sum(r[k] for r in mine) / 100 for k in ("medfee_sumamt_fen", "fund_pay_sumamt_fen",
                                                                             "acct_pay_fen"))
                out = _ok(c, his, "3201", H.totals(insutype, "11", today, today, f"{total:.2f}", f"{fund:.2f}",
                                                  f"{acct:.2f}", len(mine), "370300"))
                assert out["stmtinfo"]["stmt_rslt"] == "0", out["stmtinfo"]["stmt_rslt_dscr"]
    finally:
        server.stop()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                           max_leaves=20)
INFNOS = ["1101", "2201", "2204", "2207", "2208", "2304", "2601", "3201", "9001", "9102", "0000", ""]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(infno=st.sampled_from(INFNOS), input_=json_values, extra=st.dictionaries(st.text(max_size=10), json_values, max_size=3))
def test_fuzzed_messages_never_get_a_500(server, ledger, infno, input_, extra):
    his = H.His(ledger.hospital, ledger.admdvs)
    message = {**his.message(infno, input_), **extra}
    r = httpx.post(f"{server.base}{PATH}", content=json.dumps(message, default=str), timeout=30)
    assert r.status_code == 200
    if infno != "9102" or r.headers["content-type"].startswith("application/json"):
        assert r.json()["infcode"] in (0, -1)
