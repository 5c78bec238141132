"""A reform simulated on a lake's year beside one settlement of that year, both as the real commands:

    python benchmarks/simulate.py --lake /work/lakes/p1m               # deductible +100 yuan, demo pack
    python benchmarks/simulate.py --lake LAKE --reform FILE --pack P    # a reform of your own
    python benchmarks/simulate.py --lake LAKE --no-settle               # the simulation only

``yibao fund simulate`` settles every claim under the baseline and the reform in one pass; ``yibao settle
--claims LAKE --out FILE`` settles the year once. Each runs as a child process: its wall time, its own CPU
time (user + system: on a shared machine wall time alone misleads) and peak RSS are printed, and the
ratio simulation ÷ settlement (the target is at most 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import yaml
from command import run_yibao

RULES = "benefits.pooling.rules"


def deductible_reform(pack_name: str, day: str, out: Path, add_yuan: int = 100) -> Path:
    """Every per-stay inpatient deductible of the pack raised by ``add_yuan``."""
    from yibao.policy.pack import load_pack

    rows = []
    for r in load_pack(pack_name).at(dt.date.fromisoformat(day)).get(RULES):
        r = {k: float(v) if isinstance(v, Decimal) else v for k, v in r.items()}
        r["deductible"] = r["deductible"] / 100 + (add_yuan if r["med"] == "inpatient" and r["per"] == "stay" else 0)
        rows.append(r)
    out.write_text(yaml.safe_dump({"name": f"deductible+{add_yuan}", "ref": "benchmark: 起付线 +100 元",
                                   "overrides": {RULES: {day: rows}}}, allow_unicode=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--pack", default="demo")
    ap.add_argument("--reform", type=Path, help="reform YAML (default: per-stay inpatient deductibles +100 yuan)")
    ap.add_argument("--year-start", default="2024-01-01", help="the date the default reform takes effect")
    ap.add_argument("--no-settle", action="store_true", help="skip the settlement it is compared with")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reform = a.reform or deductible_reform(a.pack, a.year_start, Path(tmp) / "reform.yaml")
        figures = {"simulate": run_yibao(["fund", "simulate", "--lake", str(a.lake), "--pack", a.pack, "--reform", str(reform)])}
        if not a.no_settle:
            figures["settle"] = run_yibao(["settle", "--pack", a.pack, "--claims", str(a.lake), "--out", str(Path(tmp) / "s.parquet")])
    print(f"lake {a.lake}, pack {a.pack}, reform {reform.name if a.reform else 'deductible +100 yuan'}, "
          f"{os.cpu_count()} cores")
    for name, (wall, cpu, rss) in figures.items():
        print(f"{name:>9}: wall {wall:7.1f} s   cpu {cpu:7.1f} s   peak RSS {rss / 2**30:5.2f} GiB")
    if "settle" in figures:
        (sw, sc, _), (tw, tc, _) = figures["simulate"], figures["settle"]
        print(f"simulate ÷ settle: wall {sw / tw:.2f}, cpu {sc / tc:.2f} (target ≤ 2)")


if __name__ == "__main__":
    main()
