"""CHS-DRG grouping throughput: cases per second and peak memory.

    python benchmarks/grouping.py [--cases N] [--version chs-1.1] [--lake FOLDER]

Without ``--lake`` it builds N synthetic cases from the grouper's own tables (principal diagnoses
from the MDC tables, main procedures from the surgical/operation ADRG lists, other diagnoses with a
share of MCC/CC codes, a few newborns) so that they group; with ``--lake`` it groups the lake's
inpatient claims (joined to persons for sex and age). Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import time


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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--version", default="chs-1.1")
    ap.add_argument("--lake", default=None, help="a lake folder: group its inpatient claims instead")
    ap.add_argument("--seed", type=int, default=20240701)
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
    print(f"version            {args.version}")
    print(f"cases              {n:,} ({'lake ' + args.lake if args.lake else 'synthetic'})")
    print(f"load tables        {t_load:.2f} s")
    print(f"build cases        {t_gen:.2f} s")
    print(f"group              {t_group:.2f} s  →  {n / t_group:,.0f} cases/s")
    print(f"  CPU time         {cpu:.2f} s  →  {n / cpu:,.0f} cases per CPU-second "
          f"(wall time suffers when the machine is shared)")
    for k in ("ok", "QY", "0000"):
        print(f"  status {k:<5}     {int(status.get(k, 0)):,}")
    print(f"  DRG suffix 1/3/5/9 {' / '.join(str(int((groups['drg'].str[3] == s).sum())) for s in '1359')}")
    print(f"peak memory (RSS)  {_peak_mb():,.0f} MB (cases, results and look-ups together)")


if __name__ == "__main__":
    main()
