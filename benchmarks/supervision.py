"""The rule library measured against the synthetic region's labels, and timed at both speeds.

    python benchmarks/supervision.py --persons 20000 --seed 2027     # synthesizes the lake first (not timed)
    python benchmarks/supervision.py --lake /path/to/lake

Prints, at claim level: per rule, the claims it flags and the share of them carrying an injected-fraud
label (precision); per fraud pattern, the share of its labelled claims flagged by any rule (recall) and
by the rules of the kind meant for it; then the labels above the claim (``fraud_entities``: ring members,
the institutions and doctors fraud is concentrated in) and the share of flagged claims they bill. A 分解住院 hit flags its claim and the earlier stay it names (the
labels mark both parts). Then the batch run time (every rule, DuckDB) and the per-claim check time
(事中 rules, claims of 15–25 lines with the person's year as history: p50 / p99).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from command import run_yibao
from yibao.console import new_console
from yibao.lake.schema import FRAUD_LABELS
from yibao.payment.backends import duckdb_backend
from yibao.supervision.engine import RuleBook
from yibao.supervision.lake import bind_lake, claim_of, lake_catalog, line_of
from yibao.supervision.model import Visit
from yibao.supervision.rules import load_rules

PAIRED_KINDS = {"split_stay"}  # a hit names the other claim of the violation
PATTERN_KINDS = {  # the kinds written for each injected pattern
    "split_stay": {"split_stay"}, "bed_hanging": {"bed_hanging"}, "duplicate_charge": {"duplicate"},
    "item_swap": {"unsupported"}, "overdose": {"oversupply"}, "sex_violation": {"sex"}, "age_violation": {"age"},
    "overlapping_stay": {"overlap"}, "after_death": {"after_death"}, "upcoding": {"upcoding"}, "ring": set(),
}


def synthesize(persons: int, seed: int, folder: Path) -> Path:
    lake = folder / "lake"
    cmd = [sys.executable, "-m", "yibao.cli", "synth", "--persons", str(persons), "--seed", str(seed), "--out", str(lake)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return lake


def flagged_by_rule(book: RuleBook, hits) -> dict[str, set[str]]:
    kind = {c.rule.id: c.rule.kind for c in book.compiled}
    out: dict[str, set[str]] = defaultdict(set)
    for h in hits:
        out[h.rule_id].add(h.claim_id)
        if kind[h.rule_id] in PAIRED_KINDS and h.related_claim_id:
            out[h.rule_id].add(h.related_claim_id)
    return out


def quality(book: RuleBook, hits, labels: pd.DataFrame, console) -> None:
    flagged = flagged_by_rule(book, hits)
    labelled = labels.groupby("claim_id")["label"].agg(set).to_dict()
    from rich.table import Table

    t = Table(title="precision per rule (claim level, against the labels)")
    for col in ("rule", "kind", "flagged", "labelled", "precision", "labels among them"):
        t.add_column(col, justify="left" if col in ("rule", "kind", "labels among them") else "right")
    for c in book.compiled:
        claims = flagged.get(c.rule.id, set())
        hit = [labelled[x] for x in claims if x in labelled]
        mix = pd.Series([lab for s in hit for lab in s]).value_counts().head(3)
        prec = f"{len(hit) / len(claims):.3f}" if claims else "–"
        t.add_row(c.rule.id, c.rule.kind, f"{len(claims):,}", f"{len(hit):,}", prec,
                  ", ".join(f"{k} {v}" for k, v in mix.items()))
    console.print(t)
    any_rule = set().union(*flagged.values()) if flagged else set()
    by_kind: dict[str, set[str]] = defaultdict(set)
    for c in book.compiled:
        by_kind[c.rule.kind] |= flagged.get(c.rule.id, set())
    p = Table(title="recall per fraud pattern (claim level)")
    for col in ("pattern", "labelled", "recall (its kinds)", "recall (any rule)", "kinds"):
        p.add_column(col, justify="left" if col in ("pattern", "kinds") else "right")
    for pattern, name in FRAUD_LABELS.items():
        ids = set(labels.loc[labels["label"] == pattern, "claim_id"])
        kinds = PATTERN_KINDS.get(pattern, set())
        own = set().union(*(by_kind[k] for k in kinds)) if kinds else set()
        p.add_row(f"{pattern} {name}", f"{len(ids):,}", _share(ids & own, ids), _share(ids & any_rule, ids),
                  ", ".join(sorted(kinds)) or "none (no rule kind for it in this slice)")
    console.print(p)
    all_labelled = set(labels["claim_id"])
    console.print(f"all rules: {len(any_rule):,} claims flagged, precision {_share(any_rule & all_labelled, any_rule)}, "
                  f"recall {_share(all_labelled & any_rule, all_labelled)} of {len(all_labelled):,} labelled claims")


def entities(lake: Path, hits, console) -> None:
    """The labels above the claim and how much of what the rules flag the labelled institutions bill."""
    path = lake / "fraud_entities.parquet"
    if not path.exists():
        console.print("fraud_entities: none in this lake")
        return
    e = pd.read_parquet(path)
    counts = e.groupby(["level", "label"]).size()
    console.print("fraud_entities: " + ", ".join(f"{lv} {lab} {n:,}" for (lv, lab), n in counts.items()))
    claims = pd.read_parquet(lake / "claims", columns=["claim_id", "fixmedins_code", "doctor_code"])
    flagged = claims[claims["claim_id"].isin({h.claim_id for h in hits})]
    inst = set(e.loc[e["level"] == "institution", "entity_id"])
    docs = set(e.loc[e["level"] == "doctor", "entity_id"])
    console.print(f"flagged claims billed by the labelled institutions {flagged['fixmedins_code'].isin(inst).mean():.3f} "
                  f"(their share of all claims {claims['fixmedins_code'].isin(inst).mean():.3f}), "
                  f"by the labelled doctors {flagged['doctor_code'].isin(docs).mean():.3f} "
                  f"(of all claims {claims['doctor_code'].isin(docs).mean():.3f})")


def _share(part: set, whole: set) -> str:
    return f"{len(part) / len(whole):.3f}" if whole else "–"


def realtime(book: RuleBook, tables, lake: Path, sample: int, console) -> None:
    """Per-claim check timings on claims of 15–25 lines, with the person's whole year as history."""
    lines = pd.read_parquet(lake / "claim_lines")
    counts = lines.groupby("claim_id").size()
    chosen = counts[(counts >= 15) & (counts <= 25)].index
    rng = np.random.default_rng(0)
    chosen = set(rng.choice(np.asarray(chosen), size=min(sample, len(chosen)), replace=False))
    claims = tables.backend.to_arrow(tables.claims).to_pandas()
    persons = set(claims.loc[claims["claim_id"].isin(chosen), "psn_no"])
    claims = claims[claims["psn_no"].isin(persons)]
    mine = lines[lines["claim_id"].isin(set(claims["claim_id"]))]
    by_claim = {cid: tuple(line_of(r) for r in g.to_dict("records")) for cid, g in mine.groupby("claim_id")}
    people: dict[str, list[Visit]] = defaultdict(list)
    for r in claims.to_dict("records"):
        r = {k: (None if (not isinstance(v, (list, tuple, str)) and pd.isna(v)) else v) for k, v in r.items()}
        r["level"] = None if r["level"] is None else str(int(r["level"]))
        people[r["psn_no"]].append(Visit(claim_of(r), by_claim.get(r["claim_id"], ())))
    book.check_claim(next(iter(people.values()))[0].claim, (), ())  # compile caches
    times, history_sizes = [], []
    for visits in people.values():
        for v in visits:
            if v.claim.claim_id in chosen:
                start = time.perf_counter()
                book.check_claim(v.claim, v.lines, visits)
                times.append(time.perf_counter() - start)
                history_sizes.append(sum(len(o.lines) for o in visits))
    ms = np.array(times) * 1000
    console.print(f"per-claim check (事中 rules, {len(book.for_scene('事中'))} of {len(book)}): {len(ms):,} claims of 15–25 lines, "
                  f"history {int(np.median(history_sizes))} lines (median): p50 {np.percentile(ms, 50):.3f} ms, "
                  f"p99 {np.percentile(ms, 99):.3f} ms, max {ms.max():.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2027, help="a seed no test or tuning uses")
    ap.add_argument("--lake", type=Path, help="an existing lake (instead of synthesizing one)")
    ap.add_argument("--sample", type=int, default=2000, help="claims timed by the per-claim check")
    args = ap.parse_args()
    console = new_console()
    with tempfile.TemporaryDirectory() as tmp:
        lake = args.lake or synthesize(args.persons, args.seed, Path(tmp))
        start = time.perf_counter()
        book = RuleBook(load_rules(), lake_catalog(lake))
        compile_s = time.perf_counter() - start
        tables = bind_lake(duckdb_backend(), lake)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        hits = book.run(tables, timings)
        run_s = time.perf_counter() - start
        n_lines = tables.backend.to_arrow(tables.lines.count().as_table()).column(0)[0].as_py()
        n_claims = tables.backend.to_arrow(tables.claims.count().as_table()).column(0)[0].as_py()
        labels = pd.read_parquet(lake / "fraud_labels")
        what = f"--lake {lake}" if args.lake else f"--persons {args.persons:,} --seed {args.seed}"
        console.print(f"region {what}: {n_claims:,} claims, {n_lines:,} lines, {len(labels):,} labels")
        quality(book, hits, labels, console)
        entities(lake, hits, console)
        slow = sorted(timings.items(), key=lambda kv: -kv[1])[:3]
        console.print(f"inner figure, batch (DuckDB): {len(book)} rules compiled in {compile_s:.2f} s, run in {run_s:.2f} s "
                      f"({len(hits):,} hits); slowest: " + ", ".join(f"{k} {v:.2f} s" for k, v in slow))
        wall, cpu, rss = run_yibao(["supervise", "run", "--lake", lake, "--out", Path(tmp) / "hits.parquet"])
        console.print(f"the command `yibao supervise run` (what a user runs: read, compile, every rule, write the "
                      f"hits): {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss / 2**20:,.0f} MiB")
        realtime(book, tables, lake, args.sample, console)


if __name__ == "__main__":
    main()
