"""Registry engines on a million synthetic spells: contributions for a year, account accruals and the
double-enrollment finder. Prints spells/s and peak memory; no assertions on time.

    /work/venv/bin/python benchmarks/registry.py [--spells 1000000] [--year 2024]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import numpy as np
import pandas as pd

from yibao.policy import load_pack
from yibao.registry.accounts import account_accruals_for_year
from yibao.registry.contributions import contributions_for_year
from yibao.registry.duplicates import find_double_enrollment


def synthetic_spells(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """About ``n`` spells for ~0.9 n persons: 35 % employees, the rest residents; some change spells,
    a few hold a second spell in another scheme or region; 3 % have an assistance identity."""
    rng = np.random.default_rng(seed)
    persons = int(n * 0.9)
    psn = np.arange(persons)
    employee = rng.random(persons) < 0.35
    start = np.datetime64("2020-01-01") + rng.integers(0, 5 * 365, persons).astype("timedelta64[D]")
    end = np.where(rng.random(persons) < 0.1, start + rng.integers(30, 900, persons).astype("timedelta64[D]"),
                   np.datetime64("NaT"))
    extra = n - persons  # second spells: a new scheme or region from the day after, or overlapping
    who = rng.choice(persons, extra, replace=False)
    gap = rng.integers(-60, 2, extra).astype("timedelta64[D]")
    first_end = np.where(np.isnat(end[who]), start[who] + np.timedelta64(400, "D"), end[who])
    end[who] = first_end
    spells = pd.DataFrame({
        "spell_id": np.char.add("S", np.arange(n).astype(str)),
        "psn_no": np.concatenate([psn, who]).astype(str),
        "insutype": np.concatenate([np.where(employee, "310", "390"),
                                    np.where(rng.random(extra) < 0.5, "310", "390")]),
        "psn_type": "",
        "emp_kind": np.where(rng.random(n) < 0.2, "flexible", "employer"),
        "emp_no": None,
        "admdvs": np.where(rng.random(n) < 0.02, "370300", "419900"),
        "start_date": np.concatenate([start, first_end + gap + np.timedelta64(1, "D")]),
        "end_date": np.concatenate([end, np.full(extra, np.datetime64("NaT"), dtype="datetime64[D]")]),
        "contribution_base_fen": rng.lognormal(np.log(600_000), 0.6, n).astype(np.int64),
        "civil_servant": False,
    })
    emp = spells["insutype"] == "310"
    spells["psn_type"] = np.where(emp, np.where(rng.random(n) < 0.3, "12", "11"),
                                  rng.choice(["1402", "1403", "15", "16"], n))
    spells.loc[~emp, ["emp_kind", "contribution_base_fen"]] = None
    people = pd.DataFrame({"psn_no": psn.astype(str),
                           "birth_date": np.datetime64("1940-01-01") + rng.integers(0, 80 * 365, persons)
                           .astype("timedelta64[D]")})
    k = int(persons * 0.03)
    identities = pd.DataFrame({
        "psn_no": rng.choice(persons, k).astype(str),
        "identity": rng.choice(["tekun", "dibao", "fanpin", "dibao_edge", "disabled", "monitored"], k),
        "start_date": np.datetime64("2022-01-01"), "end_date": np.datetime64("NaT"),
    })
    return spells, people, identities


def timed(label: str, n: int, fn):
    t0 = time.perf_counter()
    out = fn()
    s = time.perf_counter() - t0
    print(f"{label:<34} {s:7.2f} s  {n / s:>12,.0f} spells/s  → {len(out):,} rows")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spells", type=int, default=1_000_000)
    ap.add_argument("--year", type=int, default=2024)
    a = ap.parse_args()
    pack = load_pack("demo")
    t0 = time.perf_counter()
    spells, people, identities = synthetic_spells(a.spells)
    print(f"{len(spells):,} spells, {len(people):,} persons, {len(identities):,} identities "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    contrib = timed("contributions_for_year", len(spells), lambda: contributions_for_year(spells, identities, pack, a.year))
    timed("account_accruals_for_year", len(spells), lambda: account_accruals_for_year(spells, people, pack, a.year))
    timed("find_double_enrollment", len(spells), lambda: find_double_enrollment(spells, as_of=dt.date(a.year, 12, 31)))
    total = contrib[["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"]].to_numpy().sum()
    print(f"contributions due: {total / 100:,.2f} yuan")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
