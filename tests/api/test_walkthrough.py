"""The README's walkthrough: ``yibao serve --demo`` started as a HIS developer would, and
``docs/his-curl.sh`` settling an outpatient visit and an inpatient stay with curl against it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "docs" / "his-curl.sh"


def _wait_healthy(port: int, deadline: float) -> None:
    import urllib.request

    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the demo service did not answer /health")


def test_demo_and_curl_walkthrough(tmp_path):
    assert shutil.which("curl"), "curl is needed (.ci/run installs it)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "yibao.cli", "serve", "--demo", "--demo-dir", str(tmp_path / "demo"),
                             "--port", str(port), "--insecure"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "YIBAO_KEY_FILE": str(tmp_path / "k")})
    try:
        deadline = time.monotonic() + 180
        text = ""
        while "ready in" not in text and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            text = (tmp_path / "serve.log").read_text()
        url = re.search(r"ready in [\d.]+ s: (\S+)", text).group(1)
        code = re.search(r"^institution (\S+)", text, re.M).group(1)
        person = re.search(r"^person (\S+) certno (\S+) (\S+) insutype (\S+) psn_type (\S+)", text, re.M).groups()
        _wait_healthy(port, deadline)
        done = subprocess.run(["bash", str(SCRIPT), url, code, *person], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        assert "2207 结算: {" in out and "2304 结算: {" in out and "refused" not in out
        stay = out.split("2304 结算: ")[1]
        assert "'medfee_sumamt': 1932.0" in stay and "'hifp_pay': 0.0" not in stay
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
