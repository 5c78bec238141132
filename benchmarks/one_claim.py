"""The settlement engine's cost for one claim: the two calls the real-time service makes per message.

    python benchmarks/one_claim.py                        # a region of 2,000 persons (seed 7), 400 claims
    python benchmarks/one_claim.py --lake DIR --claims 1000 --pack zibo
    python benchmarks/one_claim.py --profile 2207         # cProfile of the 2207 call, top functions
    python benchmarks/one_claim.py --callgrind            # instructions per call under valgrind

A 2204 (费用明细上传) answers each line's scope: :func:`yibao.settlement.realtime.claim_inputs` with
``each_line=True, strict=False`` (what ``yibao.ledger.service.line_scope`` calls). A 2207 (结算)
settles: :func:`yibao.settlement.realtime.settle` with ``strict=False`` (``yibao.ledger.service.price``).
Both run on claims drawn from a synthesized region (``yibao synth --persons 2000 --seed 7``, the region's
own catalog, outpatient, pharmacy, chronic and inpatient claims in the region's mix), each person's
claims in date order with the accumulators the claim before left (as the ledger passes them).

One untimed pass resolves the plans and kinds (a running service has them); then ``--passes`` timed
passes over the claims. Figures per call: process CPU µs (``time.process_time_ns``) and wall µs,
p50 / p99 / mean; and Python function calls per call (cProfile's count, repeatable on a shared
machine). ``--callgrind`` runs this script under ``valgrind --tool=callgrind`` twice per call kind —
with no timed pass and with ``--passes`` — and reports the difference in instructions per call, which
stays the same from run to run where CPU time does not.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

KINDS = ("2204", "2207")


def region(args) -> Path:
    if args.lake:
        return Path(args.lake)
    out = Path(tempfile.gettempdir()) / f"yibao-one-claim-{args.persons}-{args.seed}"
    if not (out / "claims").exists():
        subprocess.run([sys.executable, "-m", "yibao.cli", "synth", "--persons", str(args.persons), "--seed",
                        str(args.seed), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def claims_of(folder: Path, pack, n: int):
    """The claims of persons drawn at random (seed 0) until there are at least ``n``, in (person,
    discharge, claim id) order, as the service's Claim objects (person, institution, lines)."""
    from yibao.lake.claims import lake_parts, read_people
    from yibao.settlement.model import Claim, Institution, Line, Person

    people = read_people(folder, pack)
    cols, lines = next(iter(lake_parts(folder, people)))
    home = pd.read_parquet(folder / "claims", columns=["claim_id", "insuplc_admdvs"]).set_index("claim_id")["insuplc_admdvs"]
    c = {k: np.asarray(v) for k, v in cols.items()}
    order = np.lexsort((c["claim_id"].astype(str), c["dscg_date"], c["person"]))
    persons = np.random.default_rng(0).permutation(np.unique(c["person"]))
    count = np.bincount(c["person"], minlength=int(c["person"].max()) + 1)[persons]
    chosen = set(persons[:int(np.searchsorted(np.cumsum(count), n)) + 1].tolist())
    by_claim = pd.Series(np.arange(len(lines["claim"]))).groupby(np.asarray(lines["claim"])).apply(list)
    codes, qty, amount = np.asarray(lines["item_code"]), lines["qty_milli"], lines["amount"]
    out = []
    for i in order:
        if c["person"][i] not in chosen:
            continue
        cid = str(c["claim_id"][i])
        person = Person(
            psn_no=str(c["psn_no"][i]), insutype=str(c["insutype"][i]), psn_type=str(c["psn_type"][i]),
            birth_date=pd.Timestamp(c["birth_date"][i]).date(), sex=str(c["sex"][i]) or None,
            identities=tuple(x for x in str(c["identities"][i]).split("|") if x), admdvs=str(home[cid]),
            filing=str(c["filing"][i]) or None, civil_servant=bool(c["civil_servant"][i]),
            resident_tier=int(c["tier"][i]) or None, account_balance=int(c["acct_bal"][i]),
            family_account_balance=int(c["fam_bal"][i]),
            supplementary=tuple(x for x in str(c["supplementary"][i]).split("|") if x),
            enterprise_supplementary=bool(c["enterprise_supplementary"][i]))
        inst = Institution(f"H{i}", str(c["level"][i]), str(c["inst_admdvs"][i]), str(c["inst_kind"][i]))
        ls = [Line(amount=int(amount[j]), qty=qty[j] / 1000, item_code=str(codes[j])) for j in by_claim.get(i, [])]
        dx = tuple(x for x in str(c["diagnoses"][i]).split("|") if x)
        out.append(Claim(cid, person, inst, str(c["med_type"][i]), pd.Timestamp(c["adm_date"][i]).date(),
                         pd.Timestamp(c["dscg_date"][i]).date(), ls, dx, str(c["chronic_disease"][i]) or None))
    return out


def call_of(kind: str, pack, catalog):
    """The engine call one message makes, for a claim."""
    from yibao.settlement.realtime import claim_inputs, settle

    if kind == "2204":
        return lambda claim: claim_inputs(claim, pack, catalog, strict=False, each_line=True)

    return lambda claim: settle(claim, pack, catalog, strict=False)


def chained(claims, pack, catalog):
    """The claims with each person's accumulators as the claim before left them (2207 statements)."""
    from yibao.settlement.realtime import settle

    prev, acc = None, {}
    for cl in claims:
        if cl.person.psn_no != prev:
            prev, acc = cl.person.psn_no, {}
        cl.person.accumulators = dict(acc)
        acc = settle(cl, pack, catalog, strict=False).accumulators
    return claims


def timed(call, claims, passes: int):
    cpu, wall = [], []
    for _ in range(passes):
        for cl in claims:
            c0, w0 = time.process_time_ns(), time.perf_counter_ns()
            call(cl)
            cpu.append(time.process_time_ns() - c0)
            wall.append(time.perf_counter_ns() - w0)
    return np.array(cpu) / 1000, np.array(wall) / 1000


def python_calls(call, claims) -> float:
    prof = cProfile.Profile()
    prof.enable()
    for cl in claims:
        call(cl)
    prof.disable()
    return pstats.Stats(prof).total_calls / len(claims)


def pct(a, q):
    return float(np.percentile(a, q))


def figures(args, pack, catalog, claims):
    from yibao.console import new_console
    from rich.table import Table

    from yibao.vocab import INPATIENT_MED_TYPES

    inpatient = sum(cl.med_type in INPATIENT_MED_TYPES for cl in claims)
    lines = [len(cl.lines) for cl in claims]
    t = Table(title=f"one claim per call: {len(claims)} claims ({inpatient} inpatient), lines per claim "
                    f"median {int(statistics.median(lines))} / max {max(lines)}; {args.passes} passes; pack {pack.name}")
    for col in ("call", "CPU p50 µs", "CPU p99 µs", "CPU mean µs", "wall p50 µs", "wall p99 µs", "Python calls"):
        t.add_column(col, justify="right" if col != "call" else "left")
    for kind in args.only or KINDS:
        call = call_of(kind, pack, catalog)
        for cl in claims:  # plans, kinds and caches, as a running service has them
            call(cl)
        cpu, wall = timed(call, claims, args.passes)
        t.add_row(f"{kind} {'scope' if kind == '2204' else 'settle'}", f"{pct(cpu, 50):.0f}", f"{pct(cpu, 99):.0f}",
                  f"{cpu.mean():.0f}", f"{pct(wall, 50):.0f}", f"{pct(wall, 99):.0f}",
                  f"{python_calls(call, claims):.0f}")
    new_console().print(t)


def profile(kind, pack, catalog, claims, top: int):
    call = call_of(kind, pack, catalog)
    for cl in claims:
        call(cl)
    prof = cProfile.Profile()
    prof.enable()
    for cl in claims:
        call(cl)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def callgrind(args) -> None:
    """Instructions per call: two valgrind runs per call kind (no timed pass; ``--passes``), the
    difference divided by the calls made."""
    from yibao.console import new_console
    from rich.table import Table

    t = Table(title=f"instructions per call (callgrind, {args.claims} claims × {args.passes} passes)")
    t.add_column("call")
    t.add_column("instructions per call", justify="right")
    base = [sys.executable, __file__, "--claims", str(args.claims), "--pack", args.pack, "--quiet"]
    base += ["--lake", str(region(args))]
    for kind in args.only or KINDS:
        counts = []
        for passes in (0, args.passes):
            with tempfile.TemporaryDirectory() as d:
                out = Path(d) / "cg.out"
                subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *base, "--only", kind,
                                "--passes", str(passes)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONHASHSEED": "0", "YIBAO_WORKERS": "1"})
                counts.append(int(re.search(r"^summary:\s+(\d+)", out.read_text(), re.M).group(1)))
        t.add_row(f"{kind} {'scope' if kind == '2204' else 'settle'}",
                  f"{(counts[1] - counts[0]) / (args.claims * args.passes):,.0f}")
    new_console().print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", help="a synthesized region (default: synthesize one)")
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pack", default="zibo")
    ap.add_argument("--claims", type=int, default=400)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--only", action="append", choices=KINDS)
    ap.add_argument("--profile", choices=KINDS)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no output (the callgrind runs)")
    args = ap.parse_args()
    if args.callgrind:
        return callgrind(args)

    from yibao.catalog.items import Catalog
    from yibao.policy.pack import load_pack

    folder = region(args)
    pack = load_pack(args.pack)
    catalog = Catalog.of_lake(folder)
    claims = chained(claims_of(folder, pack, args.claims), pack, catalog)
    if args.quiet:
        for kind in args.only or KINDS:
            call = call_of(kind, pack, catalog)
            for cl in claims:
                call(cl)
            for _ in range(args.passes):
                for cl in claims:
                    call(cl)
        return
    if args.profile:
        return profile(args.profile, pack, catalog, claims, args.top)
    figures(args, pack, catalog, claims)


if __name__ == "__main__":
    main()
