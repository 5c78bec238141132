"""Payment benchmark: DIP build + settle for three history years × N cases and DRG payment on N
cases (weights from the three history years pooled), each with the 特病单议 step (the demo panel's
decisions), on DuckDB and on Spark; prints wall times, throughput and peak memory.

    /work/venv/bin/python benchmarks/payment.py                  # 1M cases a year, both backends
    /work/venv/bin/python benchmarks/payment.py --cases 200000 --backends duckdb

Cases are drawn with numpy (seeded): ~3 000 diagnosis subcategories with Zipf-like frequencies,
~60% with 1–2 procedures, lognormal costs around a per-diagnosis mean; written to Parquet first so
the engines read from files as they would from the lake. Target: DIP cycle on DuckDB ≤ 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from yibao.payment.backends import get_backend
from yibao.payment.common import cached
from yibao.payment.demo import panel_outcomes
from yibao.payment.dip import (
    DipRules,
    build_catalog,
    dip_institutions,
    dip_points,
    dip_review,
    dip_settle,
    point_value,
    total_points,
)
from yibao.payment.drg.payment import DrgRules, base_rate, drg_institutions, drg_pay, drg_review, drg_weights
from yibao.payment.review import ReviewRules
from yibao.policy import load_pack

LETTERS = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _codes(rng, n_dx=3000, n_proc=600):
    dx = np.array([f"{LETTERS[rng.integers(0, 26)]}{rng.integers(0, 100):02d}.{rng.integers(0, 10)}00" for _ in range(n_dx)])
    chapters = rng.integers(1, 100, n_proc)
    proc = np.array([f"{c:02d}.{rng.integers(0, 100):02d}00" for c in chapters])
    return dx, proc


def make_cases(n: int, seed: int, dx: np.ndarray, proc: np.ndarray, n_inst: int = 300) -> pa.Table:
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, len(dx) + 1)
    p = 1 / ranks**1.1
    p /= p.sum()
    d = rng.choice(len(dx), n, p=p)
    pick = rng.integers(0, len(proc), (n, 2))
    n_proc = rng.choice(3, n, p=[0.4, 0.45, 0.15])
    first = proc[pick[:, 0]]
    second = proc[pick[:, 1]]
    procedures = np.where(n_proc == 0, "", np.where(n_proc == 1, first, np.char.add(np.char.add(first, "|"), second)))
    base = 300_000 + (d * 7919 % 2_000_000)  # fen, per diagnosis
    cost = (base * rng.lognormal(0, 0.6, n) * (1 + 0.6 * (n_proc > 0))).astype(np.int64)
    return pa.table({
        "case_id": pa.array(np.char.add(f"Y{seed}-", np.arange(n).astype(str))),
        "fixmedins_code": pa.array(np.char.add("H", (rng.integers(0, n_inst, n) + 10_000).astype(str))),
        "diagnoses": pa.array(dx[d]),
        "procedures": pa.array(procedures),
        "drg": pa.array(np.char.add("G", (d % 650).astype(str))),
        "status": pa.array(np.where(rng.random(n) < 0.03, "0000", "ok")),
        "cost_fen": pa.array(cost),
        "los": pa.array(rng.integers(1, 40, n), pa.int64()),
        "age": pa.array(rng.integers(0, 95, n), pa.int64()),
        "dscg_way": pa.array(np.where(rng.random(n) < 0.01, "5", "1")),
        "cc_level": pa.array(rng.choice(np.array(["", "CC", "MCC"]), n, p=[0.7, 0.2, 0.1])),
    })


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(backend_name: str, folder: Path, n: int) -> None:
    params = load_pack("demo").at(dt.date(2024, 6, 30))
    dip_r, drg_r = DipRules.from_params(params), DrgRules.from_params(params)
    be = get_backend(backend_name)
    hist = [be.read_parquet(str(folder / f"year{i}.parquet")) for i in range(3)]
    year = be.read_parquet(str(folder / "year3.parquet"))
    inst = be.read_parquet(str(folder / "institutions.parquet"))

    t0 = time.perf_counter()
    catalog = build_catalog(hist, dip_r)
    t1 = time.perf_counter()
    points = cached(dip_points(year, be.table(be.to_arrow(catalog)), inst, dip_r))
    value = point_value(50_000_000_000, dip_r.reimbursement_ratio, total_points(points))
    settled = dip_settle(points, value, dip_r)
    settled = be.to_arrow(dip_review(settled, panel_outcomes(settled), dip_r, ReviewRules.from_params(params, "dip")))
    by_inst = be.to_arrow(dip_institutions(be.table(settled)))
    t2 = time.perf_counter()
    print(f"[{backend_name}] DIP build 3 × {n:,} cases: {t1 - t0:6.1f} s ({3 * n / (t1 - t0):,.0f} cases/s); "
          f"{be.to_arrow(catalog).num_rows:,} groups")
    print(f"[{backend_name}] DIP settle {n:,} cases: {t2 - t1:6.1f} s ({n / (t2 - t1):,.0f} cases/s); "
          f"{settled.num_rows:,} rows, {by_inst.num_rows} institutions")
    print(f"[{backend_name}] DIP cycle (build with trimming + settle + 特病单议): {t2 - t0:6.1f} s")

    t3 = time.perf_counter()
    pooled = hist[-int(params.get("payment.drg.history_years", 1)):]
    weights = be.table(be.to_arrow(drg_weights(ibis.union(*pooled) if len(pooled) > 1 else pooled[0], drg_r)))
    rate = base_rate(year, weights, drg_r, 40_000_000_000)
    paid = cached(drg_pay(year, weights, drg_r, rate, inst))
    paid = be.to_arrow(drg_review(paid, panel_outcomes(paid), ReviewRules.from_params(params, "drg")))
    inst_rows = be.to_arrow(drg_institutions(be.table(paid)))
    t4 = time.perf_counter()
    print(f"[{backend_name}] DRG weights (3 history years) + base rate + payment + 特病单议 {n:,} cases: {t4 - t3:6.1f} s "
          f"({n / (t4 - t3):,.0f} cases/s); {inst_rows.num_rows} institutions")
    print(f"[{backend_name}] peak RSS of this process so far: {_peak_mb():,.0f} MB"
          + (" (the Spark JVM is a separate process)" if backend_name != "duckdb" else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000, help="cases per year (default 1M)")
    ap.add_argument("--backends", default="duckdb,spark")
    ap.add_argument("--dir", default=None, help="scratch folder for the Parquet inputs (default: a new temp folder)")
    args = ap.parse_args()
    rng = np.random.default_rng(2024)
    dx, proc = _codes(rng)
    with tempfile.TemporaryDirectory(prefix="payment-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        for i in range(4):
            pq.write_table(make_cases(args.cases, i, dx, proc), folder / f"year{i}.parquet")
        pq.write_table(pa.table({"fixmedins_code": [f"H{k + 10_000}" for k in range(300)],
                                 "level": [str(k % 4) for k in range(300)]}), folder / "institutions.parquet")
        print(f"data: 4 × {args.cases:,} cases drawn and written in {time.perf_counter() - t:.1f} s; peak RSS {_peak_mb():,.0f} MB")
        for name in args.backends.split(","):
            run(name.strip(), folder, args.cases)


if __name__ == "__main__":
    main()
