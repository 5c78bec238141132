"""CHS-DRG grouping throughput through the command a user runs, beside the inner grouping time.

    python benchmarks/grouping.py [--cases 1000000] [--version chs-1.1] [--lake FOLDER] [--keep DIR]

Builds N cases — without ``--lake`` from the grouper's own tables (``yibao.payment.drg.synthetic``:
principal diagnoses from the MDC tables, main procedures from the surgical/operation ADRG lists, other
diagnoses with a share of MCC/CC codes, a few newborns), with ``--lake`` the lake's inpatient claims
joined to persons — and writes them as a CSV and a Parquet file (building and writing are not timed).
Then for each file it runs ``yibao drg group --version V --in FILE --out OUT`` as a subprocess and
prints its wall time, cases per second and peak RSS (start-up, reading, grouping and writing
together). The inner grouping time is :func:`group_many` on the cases already in memory, in this
process. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lake_cases(folder: str, limit: int | None):
    from yibao.lake.io import read_table
    from yibao.payment.drg.batch import cases_from_claims

    claims = read_table(folder, "claims").to_pandas()
    claims = claims[claims["med_type"].astype(str).str.startswith("2")]  # 住院 (inpatient) med_types 2x
    if limit:
        claims = claims.head(limit)
    persons = read_table(folder, "persons", columns=["psn_no", "sex", "birth_date"]).to_pandas()
    return cases_from_claims(claims, persons)


def _yibao() -> list[str]:
    """The installed ``yibao`` command next to this interpreter (a venv), else the module through it."""
    script = Path(sys.executable).with_name("yibao")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from yibao.cli import app; app()"]


def run_command(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one command run as a child process (its own RSS,
    through ``os.wait4``)."""
    t0 = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{out}")
    return wall, usage.ru_maxrss / 1024, out.strip()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--version", default="chs-1.1")
    ap.add_argument("--lake", default=None, help="a lake folder: group its inpatient claims instead")
    ap.add_argument("--seed", type=int, default=20240701)
    ap.add_argument("--keep", default=None, help="a folder to keep the input and output files in")
    args = ap.parse_args(argv)

    from yibao.payment.drg import Grouper, group_many
    from yibao.payment.drg.synthetic import synthetic_cases

    t0 = time.perf_counter()
    Grouper.load(args.version)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    cases = _lake_cases(args.lake, args.cases) if args.lake else synthetic_cases(args.cases, args.seed, args.version)
    t_gen = time.perf_counter() - t0
    n = len(cases)

    t0, c0 = time.perf_counter(), time.process_time()
    groups = group_many(cases, args.version)
    t_group = time.perf_counter() - t0
    cpu = time.process_time() - c0
    status = groups["status"].value_counts()

    print(f"version              {args.version}")
    print(f"cases                {n:,} ({'lake ' + args.lake if args.lake else 'synthetic'}); built in {t_gen:.1f} s")
    print(f"load tables          {t_load:.2f} s")
    print(f"inner grouping       {t_group:.2f} s  →  {n / t_group:,.0f} cases/s (group_many on cases in memory; "
          f"CPU {cpu:.2f} s, {n / cpu:,.0f} cases per CPU-second)")
    for k in ("ok", "QY", "0000"):
        print(f"  status {k:<5}       {int(status.get(k, 0)):,}")
    print(f"  DRG suffix 1/3/5/9 {' / '.join(str(int((groups['drg'].str[3] == s).sum())) for s in '1359')}")
    print(f"  peak RSS, this process {_peak_mb():,.0f} MB (cases, results and look-ups together)")
    del groups

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        inputs = {"csv": folder / "cases.csv", "parquet": folder / "cases.parquet"}
        cases.to_csv(inputs["csv"], index=False)
        cases.to_parquet(inputs["parquet"], index=False)
        del cases
        for kind, src in inputs.items():
            out = folder / f"groups.{kind}"
            wall, rss, said = run_command([*_yibao(), "drg", "group", "--version", args.version,
                                           "--in", str(src), "--out", str(out)])
            print(f"yibao drg group {kind:<7} {wall:6.2f} s  →  {n / wall:,.0f} cases/s, peak RSS {rss:,.0f} MB "
                  f"(input {src.stat().st_size / 2**20:,.0f} MB, output {out.stat().st_size / 2**20:,.0f} MB)")
            print(f"  {said}")


if __name__ == "__main__":
    main()
