"""The anomaly detector and the ring finder measured against the synthetic region's labels, and timed.

    python benchmarks/anomaly.py --persons 100000 --institution-scale 40 --seed 2031   # synthesizes first (not timed)
    python benchmarks/anomaly.py --lake /path/to/lake [--hits hits.parquet]

The seed 2031 is used by no test and no tuning. ``--institution-scale`` gives the region a city's
spread of providers (the institutions of ``persons × scale`` inhabitants), so that the ranking is
measured on hundreds of institutions, a dozen carriers of each pattern among them.

The rules run first (``yibao supervise run``, timed as a command; or ``--hits`` gives their output) and
the share of claims they flag is a feature beside the profile (``+ hits``: what the regulator ranks
on); ``robust, profile only`` is the detector without it.

Truth per entity: the lake's ``fraud_entities`` rows at the level when it has that table, else an
entity whose share of labelled claims is more than twice the region's. Prints, for the institution
and doctor rankings (robust z and IsolationForest): entities, positives, AUC and precision at the top
k over every label (``all``), then per pattern above the claim (``cost_inflation``, ``readmission``,
``drug_share`` for institutions, ``item_concentration`` for doctors; ``propensity`` is where the
claim-level fraud concentrates): that pattern's carriers against the entities with no label at all,
pharmacies left out of the institution rows of a pattern (no carrier is one); ring recall (a labelled ring is found when one candidate holds at least half its persons) and
precision (a candidate is right when most of its persons are of one labelled ring); the innocent
groups the generator draws unlabelled (dialysis shifts, co-visiting households) and how many of them
a candidate is mostly made of; and the time of each step, wall and process CPU.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from command import run_yibao
from yibao import vocab
from yibao.console import new_console
from yibao.supervision.anomaly.detector import METHODS, DetectorParams, rank_entities
from yibao.supervision.anomaly.features import RULE_FEATURES, SCORED, entity_features
from yibao.supervision.anomaly.lake import entity_truth, read_claims, read_hits, read_lines, ring_truth
from yibao.supervision.anomaly.rings import RingParams, find_rings


def synthesize(persons: int, seed: int, folder: Path, scale: float = 1.0) -> Path:
    lake = folder / "lake"
    cmd = [sys.executable, "-m", "yibao.cli", "synth", "--persons", str(persons), "--seed", str(seed), "--out", str(lake),
           "--institution-scale", str(scale)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return lake


class Timer:
    def __init__(self):
        self.rows: list[tuple[str, float, float]] = []

    def run(self, step: str, fn, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        self.rows.append((step, time.perf_counter() - wall, time.process_time() - cpu))
        return result


def auc(score: pd.Series, truth: pd.Series) -> float | None:
    """The probability a positive outranks a negative (ties count half); None without both."""
    pos, neg = int(truth.sum()), int((~truth).sum())
    if pos == 0 or neg == 0:
        return None
    ranks = score.rank(method="average")
    return float((ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg))


def precision_at(ranked: pd.DataFrame, truth: pd.Series, k: int) -> float:
    return float(ranked.head(k)["entity"].map(truth).fillna(False).mean())


def _figures(level, method, what, ranked: pd.DataFrame, truth: pd.Series, top: int, source: str) -> tuple:
    score = ranked.set_index("entity")["score"]
    t = truth.reindex(score.index).fillna(False).astype(bool)
    a = auc(score, t)
    return (level, method, what, len(ranked), int(t.sum()), "—" if a is None else f"{a:.3f}",
            f"{precision_at(ranked, truth, top):.2f}", int(ranked["extreme"].sum()), source)


def _patterns(lake: Path, ranked: pd.DataFrame, level: str) -> dict[str, tuple[set, set]]:
    """Per label at ``level``: its carriers and the entities with no label (pharmacies left out of a
    pattern's institution rows: the patterns are injected into hospitals and primary institutions)."""
    path = lake / "fraud_entities.parquet"
    if not path.exists():
        return {}
    e = pd.read_parquet(path)
    e = e[e["level"] == level]
    entities = set(ranked["entity"])
    clean = entities - set(e["entity_id"])
    out = {}
    for label, rows in e.groupby("label"):
        mine = set(rows["entity_id"]) & entities
        if level == "institution" and label != "propensity":
            peers = clean - set(ranked.loc[ranked["peer"].str.startswith("pharmacy"), "entity"])
        else:
            peers = clean
        out[label] = (mine, peers)
    return out


def ring_quality(rings: pd.DataFrame, truth: pd.Series | None) -> tuple[str, str, int]:
    """Recall, precision and the count of labelled rings (``truth``: person → ring id)."""
    if truth is None:
        return "no ring labels in this lake", "—", 0
    labelled = [set(s.index) for _, s in truth.groupby(truth)]
    found = [set(p.split("|")) for p in rings["persons"]]
    recall = sum(any(2 * len(m & f) >= len(m) for f in found) for m in labelled) / len(labelled)

    def right(f: set[str]) -> bool:  # most of its persons belong to one labelled ring
        ids = truth.reindex(sorted(f)).dropna()
        return len(ids) > 0 and 2 * int(ids.value_counts().iloc[0]) > len(f)

    precision = f"{sum(map(right, found)) / len(found):.2f}" if found else "—"
    return f"{recall:.2f}", precision, len(labelled)


def innocent_groups(lake: Path, claims: pd.DataFrame) -> dict[str, list[set[str]]]:
    """The unlabelled co-visit groups of the region: dialysis shifts (the patients of one centre's
    Mon/Wed/Fri or Tue/Thu/Sat sessions, a patient's shift the one most of their sessions fall on) and
    co-visiting households (the members of a household seen by one doctor at one institution on one
    day, their outpatient visits)."""
    dialysis = claims[claims["diagnoses"].fillna("").str.startswith("N18.5") & ~claims["is_stay"]]
    shift = (dialysis["adm_date"].dt.day_of_week % 2).groupby([dialysis["fixmedins_code"], dialysis["psn_no"]])
    patients = shift.agg(lambda d: int(d.mode().iloc[0])).rename("shift").reset_index()
    shifts = [set(g["psn_no"]) for _, g in patients.groupby(["fixmedins_code", "shift"])]
    persons = pd.read_parquet(lake / "persons.parquet", columns=["psn_no", "household_id"])
    visits = claims[claims["med_type"].isin([vocab.MED_OUTPATIENT, vocab.MED_EMERGENCY])]
    visits = visits.drop(columns="household_id", errors="ignore").merge(persons, on="psn_no")
    key = ["household_id", "fixmedins_code", "doctor_code", "adm_date"]
    together = visits[visits.groupby(key)["psn_no"].transform("nunique") >= 2]
    households = [set(g) for _, g in together.groupby("household_id")["psn_no"]]
    return {"dialysis shifts": shifts, "co-visiting households": households}


def flagged(rings: pd.DataFrame, groups: list[set[str]]) -> int:
    """The groups of which some ring candidate is mostly made (two persons at least)."""
    found = [set(p.split("|")) for p in rings["persons"]]
    return sum(any(len(f & g) >= 2 and 2 * len(f & g) > len(f) for f in found) for g in groups)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2031, help="a seed no test or tuning uses")
    ap.add_argument("--institution-scale", type=float, default=40.0,
                    help="institutions per inhabitant × this when synthesizing (a city's providers)")
    ap.add_argument("--lake", type=Path, help="An existing lake (skips synthesis).")
    ap.add_argument("--hits", type=Path, help="The rules' hits of the lake (skips running the rules).")
    ap.add_argument("--top", type=int, default=10, help="k of precision at the top k.")
    args = ap.parse_args(argv)
    console = new_console()
    with tempfile.TemporaryDirectory() as tmp:
        lake = args.lake or synthesize(args.persons, args.seed, Path(tmp), args.institution_scale)
        timer = Timer()
        rules = None
        if args.hits is None:
            args.hits = Path(tmp) / "hits.parquet"
            rules = run_yibao(["supervise", "run", "--lake", lake, "--out", args.hits])
        hits = read_hits(args.hits)
        claims = timer.run("read claims + group stays", read_claims, lake)
        lines = timer.run("read lines", read_lines, lake)
        rows = []
        for level in ("institution", "doctor"):
            features = timer.run(f"features: {level}", entity_features, claims, lines, level, hits=hits)
            truth, source = entity_truth(lake, claims, level)
            for method, profile_only in [(m, False) for m in METHODS] + [("robust", True)]:
                scored = tuple(f for f in SCORED if not (profile_only and f in RULE_FEATURES))
                name = f"{method}, profile only" if profile_only else f"{method} + hits"
                ranked = timer.run(f"rank: {level} ({name})", rank_entities, features,
                                   DetectorParams(method=method, seed=args.seed, features=scored))
                rows.append(_figures(level, name, "all", ranked, truth, args.top, source))
                for pattern, (mine, clean) in _patterns(lake, ranked, level).items():
                    sub = ranked[ranked["entity"].isin(mine | clean)]
                    rows.append(_figures(level, name, pattern, sub, pd.Series(sub["entity"].isin(mine).to_numpy(), index=sub["entity"]),
                                         args.top, "fraud_entities, vs unlabelled"))
        rings = timer.run("rings", find_rings, claims, RingParams(seed=args.seed))
        recall, precision, n_rings = ring_quality(rings, ring_truth(lake))
        innocent = {kind: (len(groups), sum(len(g) >= 3 for g in groups), flagged(rings, groups))
                    for kind, groups in innocent_groups(lake, claims).items()}
        command = run_yibao(["supervise", "rank", "--lake", lake, "--level", "institution", "--hits", args.hits,
                             "--out", Path(tmp) / "rank.parquet"])
    _print(console, args, rows, (recall, precision, n_rings, len(rings)), timer, len(claims))
    for kind, (n, big, hit) in innocent.items():
        console.print(f"innocent {kind}: {n} ({big} of 3 or more persons), {hit} flagged as a ring", highlight=False)
    if rules is not None:
        console.print(f"the rules (`yibao supervise run`, for the hits): {rules[0]:.2f} s wall, {rules[1]:.2f} s CPU",
                      highlight=False)
    wall, cpu, rss = command
    console.print(f"the command `yibao supervise rank --level institution` (with rings; what a user runs): "
                  f"{wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss / 2**20:,.0f} MiB; the steps above are inner "
                  "figures", highlight=False)


def _print(console, args, rows, ring_figures, timer: Timer, n_claims: int) -> None:
    from rich.table import Table

    where = f"lake {args.lake}" if args.lake else \
        f"{args.persons:,} persons, institution scale {args.institution_scale:g}, seed {args.seed}"
    t = Table(title=f"anomaly ranking against the labels ({where}; {n_claims:,} claims in the region)")
    for col in ("level", "method", "labels", "entities", "positives", "AUC", f"P@{args.top}", "extreme", "truth"):
        t.add_column(col)
    for r in rows:
        t.add_row(*(str(v) for v in r))
    console.print(t)
    recall, precision, n_rings, found = ring_figures
    console.print(f"rings: {n_rings} labelled, {found} candidates; recall {recall}, precision {precision}")
    tt = Table(title="time")
    for col in ("step", "wall s", "cpu s"):
        tt.add_column(col)
    for step, wall, cpu in timer.rows:
        tt.add_row(step, f"{wall:.2f}", f"{cpu:.2f}")
    console.print(tt)


if __name__ == "__main__":
    main()
