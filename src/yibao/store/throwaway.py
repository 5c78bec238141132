"""A throwaway PostgreSQL cluster on a free loopback port, from Debian's ``postgresql`` package: for
the tests (when ``YIBAO_TEST_PG_URL`` is not set) and the service benchmark."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from yibao.errors import ValidationError


def throwaway_cluster(dbname: str = "yibao_test", settings: dict[str, str] | None = None) -> tuple[str, Callable[[], None]]:
    """Start a cluster and create ``dbname``; returns (SQLAlchemy URL, stop). ``settings`` are
    ``postgres -c`` options (e.g. ``{"max_connections": "200"}``)."""
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        raise ValidationError("postgresql", "not installed: `apt-get install postgresql` (Debian) or give a URL")
    bindir = Path(initdbs[-1]).parent
    data = tempfile.mkdtemp(prefix="yibao-pg.")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run_as = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*run_as, bindir / "initdb", "-D", data, "-U", "yibao", "--auth=trust", "-E", "UTF8"], **quiet)
    opts = " ".join([f"-p {port} -k /tmp -c listen_addresses=127.0.0.1",
                     *(f"-c {k}={v}" for k, v in (settings or {}).items())])
    subprocess.run([*run_as, bindir / "pg_ctl", "-D", data, "-o", opts, "-w", "-l", f"{data}/log", "start"], **quiet)
    subprocess.run([bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "yibao", dbname], **quiet)

    def stop() -> None:
        subprocess.run([*run_as, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)

    return f"postgresql+psycopg://yibao@127.0.0.1:{port}/{dbname}", stop


__all__ = ["throwaway_cluster"]
