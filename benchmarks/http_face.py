"""What the HTTP face costs a message: the service's app (``yibao.api.app.create_app``: uvicorn, Starlette,
the hand-off to a worker thread) around a stand-in service that answers at once, beside a bare ASGI
callable with the same hand-off — server CPU microseconds per request from 8 keep-alive clients on
loopback, so the figure is the face's alone (no parsing, signing, engine or database).

    python benchmarks/http_face.py [--requests 8000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import threading
import time

from command import processes
from service import _port, _stop

ANSWER = b'{"infcode":0,"output":{}}' * 40  # about the size of a 2207 answer
BODY = b'{"infno":"2207"}' * 50
CLIENTS = 8

APPS = '''
import anyio
from yibao.api.app import create_app

ANSWER = %r


class Instant:
    def handle(self, body, headers):
        return ANSWER.decode()


service_app = create_app(Instant())
running = []


async def bare_app(scope, receive, send):
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        m = await receive()
        chunks.append(m.get("body", b""))
        if not m.get("more_body"):
            break
    if not running:
        running.append(anyio.CapacityLimiter(8))
    a = await anyio.to_thread.run_sync(lambda: ANSWER, limiter=running[0])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(a)).encode())]})
    await send({"type": "http.response.body", "body": a})
''' % ANSWER


def _post(port: int, path: str, n: int) -> None:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(n):
        c.request("POST", path, body=BODY, headers={"Content-Type": "application/json"})
        c.getresponse().read()


def run(app: str, path: str, requests: int, folder: str) -> tuple[float, float]:
    """(requests/s, server CPU µs per request) of ``app`` under uvicorn."""
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", f"faces:{app}", "--port", str(port),
                               "--log-level", "warning", "--no-access-log"], cwd=folder, start_new_session=True)
    try:
        for _ in range(200):
            try:
                _post(port, path, 50)
                break
            except OSError:
                time.sleep(0.05)
        cpu0, t0 = processes()[server.pid][3], time.perf_counter()
        ts = [threading.Thread(target=_post, args=(port, path, requests // CLIENTS)) for _ in range(CLIENTS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall, cpu = time.perf_counter() - t0, processes()[server.pid][3] - cpu0
        return requests / wall, cpu / requests * 1e6
    finally:
        _stop(server)


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=8000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "faces.py"), "w") as f:
            f.write(APPS)
        for label, app, path in (("the service's app (uvicorn + Starlette + thread)", "service_app",
                                  "/fsi/api/rsfComIfsService/callService"),
                                 ("a bare ASGI callable (uvicorn + thread)", "bare_app", "/")):
            rate, us = run(app, path, a.requests, folder)
            print(f"{label}: {rate:,.0f} requests/s, server CPU {us:.0f} µs per request")


if __name__ == "__main__":
    main()
