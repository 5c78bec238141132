"""History years of a synthetic region, for fitting payment (DRG weights, the DIP catalog) on the
years before the one paid: ``generate_history(cfg, out_dir, years)``.

Each year Y gets a lake folder ``out_dir/Y`` with ``claims``, ``persons`` and ``institutions``:

* the same region: the population is drawn from the main year's seed (ages, births and deaths as of
  Y) and the institutions are the main year's, with the same codes;
* claims only, and only the inpatient stays that payment fits on (general admissions, births,
  newborn and terminal stays); no claim lines and no injected fraud, so a history year costs a
  fraction of the main one;
* a claim stream of its own, seeded by (seed, 4, Y, block): every year differs from the others and
  from the main year, and the same seed gives the same files.

Costs are drawn at the main calibration (no price drift between years: an assumption).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa

from yibao.lake.io import write_table
from yibao.synth.claims import ClaimBatch, births, build_model, inpatient, newborns, terminal_stays
from yibao.synth.config import SynthConfig
from yibao.synth.generate import BLOCK, Progress, _clear, claims_table
from yibao.synth.institutions import build_institutions
from yibao.synth.population import build_population

__all__ = ["generate_history", "STAYS"]

STAYS = (inpatient, births, newborns, terminal_stays)


def generate_history(cfg: SynthConfig, out_dir: str | Path, years: Iterable[int],
                     progress: Progress | None = None) -> dict[int, int]:
    """Write the history years into ``out_dir/<year>``; returns the stays written per year."""
    out = Path(out_dir)
    report = progress or (lambda stage, done, total: None)
    years = sorted(years)
    inst = build_institutions(cfg, np.random.default_rng([cfg.seed, 1]))
    written = {}
    for k, year in enumerate(years):
        hcfg = dataclasses.replace(cfg, year=year, with_lines=False)
        pop, tables = build_population(hcfg, np.random.default_rng([cfg.seed, 0]))
        model = build_model(hcfg, pop, inst)
        parts = []
        for p0 in range(0, cfg.persons, BLOCK):
            block = p0 // BLOCK
            rng = np.random.default_rng([cfg.seed, 4, year, block])
            persons = np.arange(p0, min(cfg.persons, p0 + BLOCK))
            batch = ClaimBatch.concat([stays(rng, model, persons) for stays in STAYS])
            parts.append(claims_table(model, batch, block, batch.cols["cost"]))
        folder = out / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        _clear(folder)
        claims = pa.concat_tables(parts)
        write_table(folder, "claims", claims)
        write_table(folder, "persons", tables["persons"])
        write_table(folder, "institutions", inst.table)
        written[year] = claims.num_rows
        report("history", k + 1, len(years))
    return written
