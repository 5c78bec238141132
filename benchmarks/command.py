"""The command a user runs, timed as a child process: wall seconds, the child's own CPU seconds and its
peak resident set (``wait4`` reports this child's use, not that of earlier children)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def run_yibao(args: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS bytes) of ``yibao *args``; a failing command ends the benchmark."""
    yibao = Path(sys.executable).with_name("yibao")
    t0 = time.perf_counter()
    child = subprocess.Popen([str(yibao), *map(str, args)], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"yibao {' '.join(map(str, args))} failed with status {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


CLOCK = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[str, int, int, float]]:
    """Every live process: pid → (name, parent pid, process group, CPU seconds of it and its reaped
    children: utime, stime, cutime, cstime), read from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1: stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        out[int(entry)] = (name, int(fields[1]), int(fields[2]), sum(int(x) for x in fields[11:15]) / CLOCK)
    return out
