"""Benchmark of the synthetic region generator: persons/s, claim rows/s, line rows/s, peak memory and
the calibration report (target, generated, ratio).

    /work/venv/bin/python benchmarks/synth.py --persons 1000000 --out /tmp/synth-1m
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from yibao.synth import SynthConfig, generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--out", default=None, help="output folder (default: a temporary folder)")
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="yibao-synth-")
    cfg = SynthConfig(persons=args.persons, seed=args.seed, year=args.year, chunk_persons=args.chunk)
    stages: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages[stage] = time.perf_counter() - t0
        if stage == "claims":
            print(f"  chunk {done}/{total}  {time.perf_counter() - t0:7.1f} s", flush=True)

    s = generate(cfg, out, progress=progress)
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    claims, lines = s.counts["claims"], s.counts["claim_lines"]
    print(f"\nsynthetic region: {args.persons:,} persons, year {args.year}, seed {args.seed} -> {out}")
    print(f"wall time           {secs:10.1f} s  (population + institutions {stages.get('population', 0):.1f} s)")
    print(f"persons/s           {args.persons / secs:12,.0f}")
    print(f"claim rows          {claims:12,}   {claims / secs:12,.0f} rows/s")
    print(f"line rows           {lines:12,}   {lines / secs:12,.0f} rows/s")
    print(f"fraud labels        {s.counts['fraud_labels']:12,}   {s.fraud}")
    print(f"peak RSS            {peak_mb:12,.0f} MB")
    print(f"claims/person-year  {claims / args.persons:12.2f}")
    print("\ncalibration (target, generated, ratio):")
    for r in s.calibration:
        print(f"  {r['metric']:42s} {r['target']:12.4g} {r['generated']:12.4g} {r['ratio']:7.2f}   {r['ref'][:70]}")


if __name__ == "__main__":
    main()
