"""The year on Spark against the local engine, on one lake:

    python benchmarks/scale.py --lake /work/lakes/p1m                  # settlement (8.65M claims)
    python benchmarks/scale.py --lake /work/lakes/p100k --accounts --rules   # and the accounts and rules
    python benchmarks/scale.py --lake /work/lakes/l10m --rules-only          # the rules alone, 11.3M lines
    python benchmarks/scale.py --lake LAKE --rules-only --one-by-one --no-local   # the rules one query each

Local: ``yibao settle --pack demo --claims LAKE --out FILE`` as a child process (wall, its CPU, peak
RSS), as ``benchmarks/settle_lake.py`` runs it. Spark (``--master``, default ``local[2]``), in this
process, phase by phase: the session start, the lake cut into buckets of households
(``partition_lake``), the buckets settled by the local engine in Spark tasks (``settle_on_spark``,
statements written as Parquet) and, if asked, the fund accounts and the supervision rules (against
``lake_accounts`` and the rules on DuckDB). Spark's CPU is the JVM's and its Python workers'
(``/proc``, the process tree under the JVM) plus this process's own; wall against CPU shows how
much of the wall the machine's other load took. The ratio is Spark wall ÷ local wall for the same
work; the per-core rate is claims ÷ CPU second.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from command import processes, run_yibao

def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and every live descendant (and their reaped children's)."""
    procs = processes()
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += procs[pid][3] if pid in procs else 0.0
        todo += [p for p, (_, ppid, _, _) in procs.items() if ppid == pid]
    return total


class Clock:
    """Wall and CPU of a phase: this process, plus the JVM's process tree once the JVM is up."""

    def __init__(self):
        self.jvm = None

    def cpu(self) -> float:
        own = time.process_time()
        return own + (tree_cpu(self.jvm) if self.jvm else 0.0)

    def phase(self, name: str, work, claims: int | None = None):
        w0, c0 = time.perf_counter(), self.cpu()
        result = work()
        wall, cpu = time.perf_counter() - w0, self.cpu() - c0
        rate = f"  {claims / cpu:>9,.0f} claims per CPU s" if claims and cpu else ""
        print(f"  {name:<28} wall {wall:8.1f} s   CPU {cpu:8.1f} s{rate}", flush=True)
        return result, wall, cpu


def local_settle(lake: Path, pack: str, out: Path) -> tuple[float, float, int]:
    """Wall, CPU and peak RSS of ``yibao settle`` on the lake, as a child process."""
    return run_yibao(["settle", "--pack", pack, "--claims", lake, "--out", out])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--pack", default="demo")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--buckets", type=int, default=None, help="default: about 500k claims each")
    ap.add_argument("--work", type=Path, default=None, help="folder for the buckets and outputs (default: a temp folder)")
    ap.add_argument("--accounts", action="store_true", help="also the fund accounts, against lake_accounts")
    ap.add_argument("--rules", action="store_true", help="also the supervision rules, against DuckDB")
    ap.add_argument("--no-local", action="store_true", help="skip the local engine runs")
    ap.add_argument("--rules-only", action="store_true", help="only the supervision rules (no settlement)")
    ap.add_argument("--one-by-one", action="store_true",
                    help="the rules on Spark one query per rule, as DuckDB runs them (the path before the union)")
    args = ap.parse_args()

    import pyarrow.dataset as ds

    from yibao.lake.io import table_path

    claims = ds.dataset(table_path(args.lake, "claims"), format="parquet").count_rows()
    lines = ds.dataset(table_path(args.lake, "claim_lines"), format="parquet").count_rows()
    print(f"lake {args.lake}: {claims:,} claims, {lines:,} lines; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        run(args, Path(tmp), claims)


def run(args, tmp: Path, claims: int) -> None:
    from yibao.scale.cli import session
    from yibao.scale.partition import partition_lake
    from yibao.scale.settle import settle_on_spark, write_statements

    if args.rules_only:
        clock = Clock()
        print(f"Spark {args.master}:")
        backend, _, _ = clock.phase("session start", lambda: session(args.master))
        clock.jvm = backend.session.sparkContext._gateway.proc.pid
        return rules(args, clock, backend)
    if not args.no_local:
        wall, cpu, rss = local_settle(args.lake, args.pack, tmp / "local.parquet")
        print(f"local engine (yibao settle)    wall {wall:8.1f} s   CPU {cpu:8.1f} s  {claims / cpu:>9,.0f} claims per CPU s"
              f"   peak RSS {rss / 2**30:.2f} GiB", flush=True)
    clock = Clock()
    print(f"Spark {args.master}:")
    backend, start, _ = clock.phase("session start", lambda: session(args.master))
    clock.jvm = backend.session.sparkContext._gateway.proc.pid
    cut, cut_wall, cut_cpu = clock.phase("partition (buckets)", lambda: partition_lake(
        backend.session, args.lake, tmp / "buckets", args.buckets), claims)
    print(f"  {cut.count} buckets of households")
    _, settle_wall, settle_cpu = clock.phase("settle buckets", lambda: write_statements(
        settle_on_spark(backend.session, cut, args.pack), tmp / "statements"), claims)
    total = cut_wall + settle_wall
    print(f"  {'partition + settle':<28} wall {total:8.1f} s   CPU {cut_cpu + settle_cpu:8.1f} s"
          f"  {claims / (cut_cpu + settle_cpu):>9,.0f} claims per CPU s")
    if not args.no_local:
        print(f"ratio Spark ÷ local (wall): settle {settle_wall / wall:.2f}, partition + settle {total / wall:.2f}")
    if args.accounts:
        accounts(args, clock, backend, cut, tmp, claims)
    if args.rules:
        rules(args, clock, backend)


def accounts(args, clock, backend, cut, tmp, claims) -> None:
    from yibao.fund.accounts import lake_accounts
    from yibao.policy.pack import load_pack
    from yibao.scale.accounts import accounts_on_spark

    statements = backend.session.read.parquet(str(tmp / "statements"))
    on_spark, wall_s, _ = clock.phase("fund accounts", lambda: accounts_on_spark(backend.session, statements, cut, args.pack),
                                      claims)
    if not args.no_local:
        import pandas as pd

        rows = pd.read_parquet(tmp / "local.parquet")
        local, wall_l, _ = Clock().phase("fund accounts (local)", lambda: lake_accounts(args.lake, load_pack(args.pack), rows),
                                         claims)
        same = on_spark.funds.equals(local.funds) and on_spark.monthly.equals(local.monthly)
        print(f"ratio Spark ÷ local (wall): accounts {wall_s / wall_l:.2f}; equal to the fen: {same}")


def rules(args, clock, backend) -> None:
    from yibao.payment.backends import duckdb_backend
    from yibao.scale.rules import rules_on_spark

    jobs = backend.session.sparkContext.statusTracker()
    backend.session.sparkContext.setJobGroup("rules", "supervision rules")
    how = "one query per rule" if args.one_by_one else "joined lines, one union"
    work = (lambda: one_query_per_rule(backend, args.lake)) if args.one_by_one else (lambda: rules_on_spark(backend, args.lake))
    on_spark, wall_s, _ = clock.phase(f"supervision rules ({how})", work)
    print(f"  {len(jobs.getJobIdsForGroup('rules'))} Spark jobs")
    if not args.no_local:
        duck, wall_d, _ = Clock().phase("supervision rules (DuckDB)", lambda: one_query_per_rule(duckdb_backend(), args.lake))
        key = ["rule_id", "claim_id", "vola_evid"]
        same = duck.sort_values(key).reset_index(drop=True).equals(on_spark.sort_values(key).reset_index(drop=True))
        print(f"ratio Spark ÷ DuckDB (wall): rules {wall_s / wall_d:.2f}; {len(duck):,} hits, equal: {same}")


def one_query_per_rule(backend, lake: Path):
    """The rules as ``yibao supervise run`` runs them on DuckDB: claims and lines cached apart, one
    query (on Spark: one job sequence) per rule."""
    from yibao.supervision.engine import RuleBook, hits_frame
    from yibao.supervision.lake import bind_lake, lake_catalog

    return hits_frame(RuleBook.shipped(catalog=lake_catalog(lake)).run(bind_lake(backend, lake)))


if __name__ == "__main__":
    main()
