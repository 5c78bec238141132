"""Fund benchmark: the backtest errors on the national 2021–2025 series, and the times of the forecast,
IBNR, budget and monthly-accounts steps (with and without the payment engine's clearing) and of the
commands on a synthetic lake (20k persons by default), wall and process CPU.

    .venv/bin/python benchmarks/fund.py                     # synthesize a 20k-person 2025 lake
    .venv/bin/python benchmarks/fund.py --lake DIR --pack demo

The settlement of the year is timed once and shared (every command settles the lake first: add it to
each step's time for the command's own).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from command import run_yibao
from yibao.console import new_console
from yibao.fund.accounts import lake_accounts
from yibao.fund.backtest import SCHEMES, backtest, mean_abs_error
from yibao.fund.budget import lake_budget
from yibao.fund.forecast import forecast, lake_base_year
from yibao.fund.ibnr import lake_ibnr
from yibao.payment import pay_year
from yibao.policy.pack import load_pack
from yibao.settlement.batch import settle_lake

TIMES: list[tuple[str, float, float]] = []


def cpu_seconds() -> float:
    """This process's CPU time and that of its finished children (the settlement's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextmanager
def timed(step: str):
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    TIMES.append((step, time.perf_counter() - wall, cpu_seconds() - cpu))


def print_backtest(console) -> None:
    from rich.table import Table

    t = Table(title="backtest: mean |% error| by years ahead (national 2021–2025, fit on the years before)",
              title_justify="left")
    for col in ("scheme", "figure", "1 year", "2 years", "3 years"):
        t.add_column(col, justify="left" if col in ("scheme", "figure") else "right")
    errors = mean_abs_error(backtest())
    for scheme in SCHEMES:
        for figure in ("income", "spending", "surplus", "balance"):
            cells = [errors.get((scheme, figure, h)) for h in (1, 2, 3)]
            if any(c is not None for c in cells):
                t.add_row(SCHEMES[scheme], figure, *["—" if c is None else f"{c:.1f}" for c in cells])
    console.print(t)


def run_lake(lake: Path, pack_name: str, seed: int) -> None:
    pack = load_pack(pack_name)
    with timed("settle the year (shared)"):
        statements, _ = settle_lake(lake, pack)
    with timed("forecast: base year measured"):
        base = lake_base_year(lake, pack, statements)
    params = pack.at(dt.date(base.year, 12, 31))
    with timed("forecast: 10 years × 3 scenarios, 200 bootstrap draws"):
        forecast(base, params, 10, seed=seed)
    with timed("ibnr: both schemes"):
        reserves = {ins: lake_ibnr(lake, pack, statements, seed, ins) for ins in ("310", "390")}
    with timed("budget: accounts, a 5-year central forecast, IBNR, budget"):
        lake_budget(lake, pack, statements, seed)
    with timed("accounts by month (no clearing)"):
        lake_accounts(lake, pack, statements)
    with timed("accounts by month + clearing (pay_year)"):
        lake_accounts(lake, pack, statements, payment=pay_year(lake, pack))
    for command in (["forecast", "--years", "10"], ["ibnr"], ["budget"], ["kpi", "--no-clearing"], ["kpi"]):
        wall, cpu, rss = run_yibao(["fund", *command, "--lake", lake, "--pack", pack_name])
        TIMES.append((f"the command `yibao fund {' '.join(command)}` (peak RSS {rss / 2**20:,.0f} MiB)", wall, cpu))
    print(f"lake {lake}: {len(statements):,} settled claims, {int(base.population.sum()):,} insured at year end")
    for ins, r in reserves.items():
        print(f"IBNR {ins}: reserve {r.reserve.total_reserve / 100:,.0f} 元 ± {r.reserve.total_se / 100:,.0f} "
              f"(Mack s.e.); outstanding by the drawn delays {r.triangle.outstanding_fen() / 100:,.0f} 元")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, help="a lake folder (default: synthesize one)")
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--pack", default="demo")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    console = new_console()
    print_backtest(console)
    if args.lake is not None:
        run_lake(args.lake, args.pack, args.seed)
    else:
        from yibao.synth.config import SynthConfig
        from yibao.synth.generate import generate

        with tempfile.TemporaryDirectory() as tmp:
            with timed(f"synthesize {args.persons:,} persons (not a fund step)"):
                generate(SynthConfig(persons=args.persons, seed=args.seed, year=2025), Path(tmp))
            run_lake(Path(tmp), args.pack, args.seed)
    print("inner figures (in this process) first, then the commands as a user runs them:")
    for step, wall, cpu in TIMES:
        print(f"{step:64s} wall {wall:7.2f} s   cpu {cpu:7.2f} s")


if __name__ == "__main__":
    main()
