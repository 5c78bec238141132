"""The real-time service under load, on PostgreSQL on loopback, the load generator on the same machine.

    python benchmarks/service.py [--db URL] [--persons 5000] [--encounters 3000] [--workers 2]
                                 [--clients 16] [--procs 2]

What it runs (the figures are the real command's: ``yibao serve`` as its own processes, signed HTTP
requests from a separate load process):
1. a PostgreSQL cluster (throwaway, from Debian's package, unless ``--db``), a synthetic region of
   ``--persons`` loaded into it, 10 institutions of the region (hospitals added where the synthetic
   region has fewer) given credentials;
2. ``yibao serve --db URL --workers W``;
3. setup: one 2201 挂号 per encounter;
4. load: per encounter a 2204 (two lines) then a 2207 结算, from ``--procs`` processes × ``--clients``
   threads; settlements/s (= 2207 answered infcode 0 per second of the load phase) and p50 / p99 of
   2207; where the CPU went (the service's processes, PostgreSQL's, the load processes'); then the
   same pair from ``--light-clients`` clients (a load the service is not saturated by: its latency);
5. the same clients sending only 1101 and only 2206 (rates);
6. the inner figure: ``Service.handle`` in this process (no HTTP, no signing, one thread), CPU and wall
   milliseconds per 2204 and per 2207, and the round trips to PostgreSQL per message (counted in the
   driver's protocol trace: each turn from sending to receiving is one);
7. the floor: a bare locked PostgreSQL transaction of the same shape (lock the person's row, insert a
   settlement, tie two lines, update the row, insert the message and an audit link) from as many
   threads, without HTTP or the engine;
8. the demo service's start-up time (``yibao serve --demo`` until /health answers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from command import processes

PATH = "/fsi/api/rsfComIfsService/callService"
DAY = "2024-06-03"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, limit: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stdout.read().decode()[-2000:]}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not come up")


def _serve(url: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yibao.cli", "serve", "--db", url, "--port", str(port),
                             "--workers", str(workers)], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _threads(work, n: int) -> float:
    """Run ``work`` on ``n`` threads until all end; seconds taken."""
    ts = [threading.Thread(target=work) for _ in range(n)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


# -- the region ---------------------------------------------------------------------------------------


INSTITUTIONS = 10


def _add_hospitals(url: str, admdvs: str, have: int) -> None:
    """一级 hospitals of the region added until it has ``INSTITUTIONS`` (a small synthetic region has fewer)."""
    from yibao.store.repositories import Store

    with Store(url).unit() as uow:
        for k in range(INSTITUTIONS - have):
            uow.institutions.add({"fixmedins_code": f"H{admdvs}{90001 + k}", "name": f"基准测试第{k + 1}医院",
                                  "kind": "hospital", "level": "1", "admdvs": admdvs, "beds": None,
                                  "agreement_start": dt.date(2024, 1, 1), "agreement_end": None})


def prepare(url: str, folder: Path, persons: int, key: bytes) -> dict:
    """The synthetic region in ``url`` and credentials for 10 institutions of the region."""
    import sqlalchemy as sa

    from yibao.api import credentials
    from yibao.api.demo import prepare as demo_prepare
    from yibao.ledger.db import ledger_engine
    from yibao.store import upgrade

    upgrade(url)
    region = demo_prepare(folder, key, persons=persons, url=url)
    engine = ledger_engine(url)
    local = sa.text("SELECT fixmedins_code FROM institutions WHERE admdvs LIKE :r ORDER BY kind, fixmedins_code LIMIT :n")
    with engine.begin() as c:
        have = len(c.execute(local, {"r": region.admdvs[:4] + "%", "n": INSTITUTIONS}).all())
    _add_hospitals(url, region.admdvs, have)
    with engine.begin() as c:
        codes = [r[0] for r in c.execute(local, {"r": region.admdvs[:4] + "%", "n": INSTITUTIONS})]
        creds = {code: credentials.issue(c, code, key, dt.datetime.now()) for code in codes}
        people = [dict(r) for r in c.execute(sa.text(
            "SELECT p.psn_no, p.certno, p.name, e.insutype, e.psn_type, e.admdvs FROM persons p "
            "JOIN enrollments e ON e.psn_no = p.psn_no WHERE e.start_date <= '2024-01-01' "
            "AND (e.end_date IS NULL OR e.end_date >= '2024-12-31') AND p.death_date IS NULL ORDER BY p.psn_no")).mappings()]
    engine.dispose()
    return {"admdvs": region.admdvs, "creds": creds, "people": people}


# -- the load process ---------------------------------------------------------------------------------


def _client_proc(port: int, jobs: list, threads: int, admdvs: str, creds: dict, phase: str, out: mp.Queue,
                 first_seq: int) -> None:
    """One load process: ``threads`` keep-alive connections working through ``jobs``; its msgids are
    numbered from ``first_seq`` (the spec's 4-digit sequence per second, split between processes)."""
    from yibao.api import his as H

    hises = {code: H.His(code, admdvs, access_key=k, secret=s, first_seq=first_seq) for code, (k, s) in creds.items()}
    lock = threading.Lock()
    todo = list(jobs)
    lat, ok, bad, errs = [], 0, 0, []

    def post(conn, his, infno, input_):
        body = his.body(infno, input_)
        headers = {"Content-Type": "application/json", **his.headers(body)}
        t = time.perf_counter()
        conn.request("POST", PATH, body=body, headers=headers)
        answer = json.loads(conn.getresponse().read())
        return answer, time.perf_counter() - t

    def work():
        nonlocal ok, bad
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not todo:
                    return
                job = todo.pop()
            his = hises[job["code"]]
            p = job["person"]
            if phase == "register":
                a, _ = post(conn, his, "2201", H.register(p, f"{DAY} 09:00:00", job["ipt"]))
                job_out = a["output"].get("data", {}).get("mdtrt_id") if a["infcode"] == 0 else None
                with lock:
                    (errs.append(a["err_msg"]) if job_out is None else None)
                    out_ids.append((job["n"], job_out))
                continue
            md = job.get("mdtrt_id")
            if phase in ("settle", "upload"):
                a, took = post(conn, his, "2204", {"feedetail": [
                    H.fee_line("1", md, p["psn_no"], "110200001", "8.00", "1", f"{DAY} 09:10:00"),
                    H.fee_line("2", md, p["psn_no"], "250203049a", "15.00", "3", f"{DAY} 09:12:00")]})
                if a["infcode"] == 0 and phase == "settle":
                    a, took = post(conn, his, "2207", H.settle(p, md, "53.00"))
            elif phase == "1101":
                a, took = post(conn, his, "1101", H.person_info(p["certno"]))
            else:  # 2206 changes nothing, so an encounter's uploaded lines presettle again and again
                a, took = post(conn, his, "2206", H.settle(p, md, "53.00"))
            with lock:
                lat.append(took)
                if a["infcode"] == 0:
                    ok += 1
                else:
                    bad += 1
                    errs.append(a["err_msg"])

    out_ids: list = []
    _threads(work, threads)
    out.put({"lat": lat, "ok": ok, "bad": bad, "errs": errs[:5], "ids": out_ids, "cpu": time.process_time()})


_PHASES = iter(range(10**6))


def _cpu_by_part(server_pid: int | None) -> dict[str, float]:
    """CPU seconds used so far by the service's processes (the server's process group) and by
    PostgreSQL's (every process named postgres)."""
    group = os.getpgid(server_pid) if server_pid else None
    procs = processes().values()
    return {"service": sum(cpu for _, _, pgrp, cpu in procs if group is not None and pgrp == group),
            "postgres": sum(cpu for name, _, _, cpu in procs if name == "postgres")}


def run_phase(port, jobs, procs, threads, region, phase, server_pid: int | None = None) -> dict:
    """``jobs`` split over ``procs`` processes of ``threads`` clients each; each phase and process gets
    its own quarter of the msgid sequence numbers, so no two tills reuse one within a second. ``cpu``:
    CPU seconds the phase cost the service, PostgreSQL and the load processes."""
    before = _cpu_by_part(server_pid)
    q: mp.Queue = mp.Queue()
    base = 1 + (next(_PHASES) % 4) * 2500
    chunks = [jobs[i::procs] for i in range(procs)]
    ps = [mp.Process(target=_client_proc, args=(port, c, threads, region["admdvs"], region["creds"], phase, q,
                                                base + k * (2500 // procs)))
          for k, c in enumerate(chunks)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    wall = time.perf_counter() - t0
    after = _cpu_by_part(server_pid)
    cpu = {k: after[k] - before[k] for k in after} | {"load": sum(r["cpu"] for r in results)}
    lat = sorted(x for r in results for x in r["lat"])
    return {"wall": wall, "ok": sum(r["ok"] for r in results), "bad": sum(r["bad"] for r in results),
            "errs": [e for r in results for e in r["errs"]][:5], "ids": [x for r in results for x in r["ids"]],
            "cpu": cpu, "p50": statistics.median(lat) * 1000 if lat else 0,
            "p99": lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0}


# -- the floor ----------------------------------------------------------------------------------------


def bare_rate(url: str, threads: int, n: int, persons: int) -> float:
    """Transactions/s of the settlement's shape straight on PostgreSQL (psycopg, one connection per thread)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS bare_pos, bare_setl, bare_line, bare_msg, bare_audit")
        c.execute("CREATE TABLE bare_pos (psn int PRIMARY KEY, acc text, account bigint, version int)")
        c.execute("CREATE TABLE bare_setl (id text PRIMARY KEY, psn int, statement text, change text)")
        c.execute("CREATE TABLE bare_line (enc int, sn int, setl text, PRIMARY KEY (enc, sn))")
        c.execute("CREATE TABLE bare_msg (msgid text PRIMARY KEY, response text)")
        c.execute("CREATE TABLE bare_audit (id bigserial PRIMARY KEY, prev text, hash text, record text)")
        c.execute("INSERT INTO bare_pos SELECT g, '{}', 100000, 0 FROM generate_series(1, %s) g", (persons,))
        c.execute("INSERT INTO bare_line SELECT g, s, NULL FROM generate_series(1, %s) g, generate_series(1, 2) s", (n,))
    counter = iter(range(1, n + 1))
    lock = threading.Lock()
    statement = json.dumps({"setlinfo": {f"f{i}": i for i in range(20)}})

    def work():
        with psycopg.connect(dsn) as c:
            while True:
                with lock:
                    k = next(counter, None)
                if k is None:
                    return
                psn = random.randint(1, persons)
                with c.transaction():
                    c.execute("SELECT acc, account, version FROM bare_pos WHERE psn = %s FOR UPDATE", (psn,))
                    c.execute("INSERT INTO bare_setl VALUES (%s, %s, %s, %s)", (f"S{k}", psn, statement, "{}"))
                    c.execute("UPDATE bare_line SET setl = %s WHERE enc = %s AND setl IS NULL", (f"S{k}", k))
                    c.execute("UPDATE bare_pos SET acc = %s, account = account - 1, version = version + 1 "
                              "WHERE psn = %s", ("{}", psn))
                    c.execute("INSERT INTO bare_msg VALUES (%s, %s)", (f"M{k}", statement))
                    c.execute("INSERT INTO bare_audit (prev, hash, record) VALUES (%s, %s, %s)", ("0" * 64, "1" * 64, "{}"))

    return n / _threads(work, threads)


def _inner_messages(svc, his, jobs: list, tag: str, infnos=("2201", "2204", "2207")) -> dict[str, tuple[float, float]]:
    """2201, 2204 and 2207 for each job through ``svc.handle``: CPU and wall ms per message of each."""
    from yibao.api import his as H

    out: dict[str, tuple[float, float]] = {}
    for infno in infnos:
        cpu, wall = time.process_time(), time.perf_counter()
        for j in jobs:
            p = j["person"]
            if infno == "2201":
                body = his.body("2201", H.register(p, f"{DAY} 09:00:00", f"I{tag}{j['n']}"))
            elif infno == "2204":
                body = his.body("2204", {"feedetail": [
                    H.fee_line("1", j["inner"], p["psn_no"], "110200001", "8.00", "1", f"{DAY} 09:10:00"),
                    H.fee_line("2", j["inner"], p["psn_no"], "250203049a", "15.00", "3", f"{DAY} 09:12:00")]})
            else:
                body = his.body("2207", H.settle(p, j["inner"], "53.00"))
            answer = json.loads(svc.handle(body))
            if answer["infcode"] != 0:
                raise SystemExit(f"inner {infno} refused: {answer['err_msg']}")
            if infno == "2201":
                j["inner"] = answer["output"]["data"]["mdtrt_id"]
        out[infno] = ((time.process_time() - cpu) / len(jobs) * 1000, (time.perf_counter() - wall) / len(jobs) * 1000)
    return out


def round_trips(trace: Path) -> int:
    """Turns from the client sending to the server answering in a libpq protocol trace."""
    turns, last = 0, "B"
    for line in trace.read_text().splitlines():
        side = line[:1]
        if side == "B" and last == "F":
            turns += 1
        if side in "FB":
            last = side
    return turns


def inner(url: str, region: dict, jobs: list) -> dict[str, tuple[float, ...]]:
    """Inner figure (no HTTP, no signing, one thread): ``Service.handle`` on the same database, CPU and
    wall milliseconds per 2204 and per 2207, then round trips per message on 20 more encounters with
    the driver's protocol trace on."""
    import psycopg
    import sqlalchemy as sa

    from yibao.api import his as H
    from yibao.api.app import service_of

    svc = service_of(url, "demo", None)
    code = jobs[0]["code"]
    his = H.His(code, region["admdvs"], first_seq=9000)
    mine = [dict(j) for j in jobs if j["code"] == code][:220]
    timed, traced_jobs = mine[: len(mine) * 10 // 11], mine[len(mine) * 10 // 11:]  # 200 and 20 at full size
    out = _inner_messages(svc, his, timed, "A")
    svc.engine.dispose()
    traced: list = []  # (driver connection, trace file) of each connection opened from here on

    @sa.event.listens_for(svc.engine, "connect")
    def _trace(dbapi_conn, _record):  # noqa: ANN001
        path = Path(tempfile.mkstemp(prefix="yibao-pq-trace.")[1])
        dbapi_conn.pgconn.trace(os.open(path, os.O_WRONLY | os.O_APPEND))
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        traced.append((dbapi_conn, path))

    for infno in ("2201", "2204", "2207"):
        _inner_messages(svc, his, traced_jobs, "T", (infno,))
        for dbapi_conn, _ in traced:
            dbapi_conn.pgconn.untrace()  # flushes the trace
        out[infno] += (sum(round_trips(path) for _, path in traced) / len(traced_jobs),)
        svc.engine.dispose()
        for _, path in traced:
            path.unlink()
        traced.clear()
    return out


def demo_startup() -> float:
    folder = Path(tempfile.mkdtemp(prefix="yibao-demo-bench."))
    port = _port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "yibao.cli", "serve", "--demo", "--demo-dir", str(folder),
                             "--port", str(port)], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "YIBAO_KEY_FILE": str(folder / "k")})
    try:
        _wait(port, proc)
        return time.perf_counter() - t0
    finally:
        _stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


def _fresh(port: int, jobs: list, a, region: dict, tag: str, offset: int) -> list:
    """``jobs`` again, each with an encounter of its own registered now (2201)."""
    done = run_phase(port, [{**j, "n": -j["n"] - offset, "ipt": f"{tag}{j['n']}"} for j in jobs], a.procs, a.clients,
                     region, "register")
    ids = {-n - offset: md for n, md in done["ids"] if md}
    return [{**j, "mdtrt_id": ids[j["n"]]} for j in jobs if j["n"] in ids]


def _print_cpu(what: str, phase: dict) -> None:
    """Where the two cores went in a phase: CPU ms per answered message by part."""
    n = max(phase["ok"] + phase["bad"], 1)
    parts = ", ".join(f"{k} {v / n * 1000:.2f}" for k, v in phase["cpu"].items())
    print(f"  CPU ms per {what}: {parts}; all {sum(phase['cpu'].values()) / n * 1000:.2f} "
          f"(2 cores give {2 * phase['wall'] / n * 1000:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db")
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--encounters", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=16, help="threads per load process")
    ap.add_argument("--procs", type=int, default=2, help="load processes")
    ap.add_argument("--light-clients", type=int, default=4, help="clients of the light-load phase (one process)")
    a = ap.parse_args()
    stop = None
    url = a.db
    if url is None:
        from yibao.store.throwaway import throwaway_cluster

        url, stop = throwaway_cluster("yibao_bench", {"max_connections": "300", "synchronous_commit": "on"})
    folder = Path(tempfile.mkdtemp(prefix="yibao-bench."))
    env = {**os.environ, "YIBAO_KEY_FILE": str(folder / "yibao.key")}
    os.environ["YIBAO_KEY_FILE"] = env["YIBAO_KEY_FILE"]
    from yibao.api.keys import master_key

    key = master_key(url)
    server = None
    try:
        t = time.perf_counter()
        region = prepare(url, folder, a.persons, key)
        print(f"region: {len(region['people']):,} persons insured all year, {len(region['creds'])} institutions "
              f"({time.perf_counter() - t:.1f} s to build and load)")
        port = _port()
        server = _serve(url, port, a.workers, env)
        print(f"yibao serve --workers {a.workers} up in {_wait(port, server):.1f} s")
        rng = random.Random(1)
        codes = sorted(region["creds"])
        jobs = [{"n": n, "code": codes[n % len(codes)], "person": rng.choice(region["people"]), "ipt": f"B{n}"}
                for n in range(a.encounters)]
        reg = run_phase(port, jobs, a.procs, a.clients, region, "register")
        ids = dict(reg["ids"])
        jobs = [{**j, "mdtrt_id": ids[j["n"]]} for j in jobs if ids.get(j["n"])]
        print(f"setup: {len(jobs):,} encounters registered (2201) in {reg['wall']:.1f} s; refused {len(reg['errs'])}")
        load = run_phase(port, jobs, a.procs, a.clients, region, "settle", server.pid)
        rate = load["ok"] / load["wall"]
        print(f"2204 + 2207 per encounter: {load['ok']:,} settled in {load['wall']:.2f} s = {rate:,.0f} settlements/s "
              f"(target ≥ 500); 2207 p50 {load['p50']:.1f} ms, p99 {load['p99']:.1f} ms (target ≤ 50); "
              f"refused {load['bad']} {load['errs'][:2]}")
        _print_cpu("2204 + 2207 pair", load)
        info = run_phase(port, jobs[: min(len(jobs), 3000)], a.procs, a.clients, region, "1101", server.pid)
        print(f"1101 人员信息: {info['ok'] / info['wall']:,.0f}/s, p50 {info['p50']:.1f} ms, p99 {info['p99']:.1f} ms; "
              f"refused {info['bad']} {info['errs'][:2]}")
        _print_cpu("1101", info)
        light = run_phase(port, _fresh(port, jobs[:600], a, region, "L", 1), 1, a.light_clients, region, "settle")
        print(f"the same pair at a light load ({a.light_clients} clients): {light['ok'] / light['wall']:,.0f} "
              f"settlements/s; 2207 p50 {light['p50']:.1f} ms, p99 {light['p99']:.1f} ms; refused {light['bad']}")
        fresh = _fresh(port, jobs[:1000], a, region, "P", 100_001)
        run_phase(port, fresh, a.procs, a.clients, region, "upload")
        pre = run_phase(port, fresh * 3, a.procs, a.clients, region, "2206", server.pid)
        print(f"2206 预结算: {pre['ok'] / pre['wall']:,.0f}/s, p50 {pre['p50']:.1f} ms, p99 {pre['p99']:.1f} ms; "
              f"refused {pre['bad']} {pre['errs'][:2]}")
        _print_cpu("2206", pre)
        _stop(server)
        server = None
        fig = inner(url, region, jobs)
        print("inner figure (Service.handle in this process, no HTTP or signing, one thread): "
              + ", ".join(f"{k} {c:.1f} ms CPU / {w:.1f} ms wall / {n:.0f} round trips"
                          for k, (c, w, n) in fig.items() if k != "2201"))
        bare = bare_rate(url, a.procs * a.clients, max(3000, a.encounters), a.persons)
        print(f"floor: bare locked PostgreSQL transaction of the same shape, {a.procs * a.clients} threads: "
              f"{bare:,.0f}/s; the service reaches {rate / bare:.0%} of it (target ≥ 40%)")
        print(f"demo start-up (yibao serve --demo, 2,000 persons synthesized and loaded): {demo_startup():.1f} s")
    finally:
        if server is not None:
            _stop(server)
        if stop:
            stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
