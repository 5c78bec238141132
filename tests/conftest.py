"""Shared fixtures. ``db_url`` runs a test on SQLite and on PostgreSQL.

PostgreSQL comes from ``YIBAO_TEST_PG_URL`` (set by ``.ci/run``); without it, a throwaway cluster is
started here from Debian's ``postgresql`` package, so the README's test command works on its own.

Property tests explore new random examples on every local run; under CI (``CI`` set) they draw the
same examples every time, so a submission's result does not depend on the draw.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _start_cluster() -> tuple[str, callable]:
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        pytest.fail("PostgreSQL is needed for the store tests: `apt-get install postgresql` or set YIBAO_TEST_PG_URL")
    bindir = Path(initdbs[-1]).parent
    data = tempfile.mkdtemp(prefix="yibao-test-pg.")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run_as = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*run_as, bindir / "initdb", "-D", data, "-U", "yibao", "--auth=trust", "-E", "UTF8"], **quiet)
    opts = f"-p {port} -k /tmp -c listen_addresses=127.0.0.1"
    subprocess.run([*run_as, bindir / "pg_ctl", "-D", data, "-o", opts, "-w", "-l", f"{data}/log", "start"], **quiet)
    subprocess.run([bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "yibao", "yibao_test"], **quiet)

    def stop() -> None:
        subprocess.run([*run_as, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)

    return f"postgresql+psycopg://yibao@127.0.0.1:{port}/yibao_test", stop


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
