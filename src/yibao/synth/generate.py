"""Build a whole synthetic region into a lake folder: ``generate(SynthConfig(...), out_dir)``.

Persons, employers, enrolment, identities, institutions and the year's coverage choices and opening
account balances (:mod:`yibao.synth.coverage`) are drawn at once; claims, their lines
and the fraud labels are drawn per block of ``BLOCK`` persons from a generator seeded by (seed, block
number), and blocks are written in chunks of about ``chunk_persons`` persons with ``ChunkWriter``:
memory stays flat and the rows depend on the seed only, not on the chunk size.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao import vocab
from yibao.lake.io import ChunkWriter, write_table
from yibao.lake.schema import TABLES
from yibao.synth import data
from yibao.synth.calibration import Tally
from yibao.synth.claims import INPATIENT, ClaimBatch, ClaimModel, build_model, clear_stays, generate_claims
from yibao.synth.config import SynthConfig, SynthSummary
from yibao.synth.coverage import coverage_tables
from yibao.synth.fraud import Labels, doctor_numbers, inject_stays
from yibao.synth.institutions import build_institutions, regions_table
from yibao.synth.lines import Lines, build_lines_model, concentrate_items, concentrated_items, inject_lines, make_lines
from yibao.synth.patterns import inflate_costs
from yibao.synth.population import build_population
from yibao.synth.propensity import doctor_codes
from yibao.synth.text import join, prefixed, take_strings

Progress = Callable[[str, int, int], None]  # (stage, done, total)
BLOCK = 5_000  # persons per random stream; fixed, so the output does not depend on the chunk size


def _clear(out: Path) -> None:
    for table in TABLES:
        for p in (out / f"{table}.parquet", out / table):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()


def _opt(values: np.ndarray) -> pa.Array:
    """An object array with None → a nullable string array."""
    return pa.array(values, pa.string(), from_pandas=True)


def claims_table(m: ClaimModel, b: ClaimBatch, block: int, medfee: np.ndarray) -> pa.Table:
    c, pop, inst = b.cols, m.pop, m.inst
    n = len(b)
    region = data.region(m.cfg.region)
    ids = prefixed(f"C{m.cfg.year}{block:05d}", np.arange(n), 7)
    person = c["person"]
    switched = c["adm"] >= pop.switch_day[person]
    scheme = np.where(switched, 1 - pop.scheme[person], pop.scheme[person])
    inp = c["kind"] == INPATIENT
    dscg = c["adm"] + np.where(inp, c["los"], 0)
    codes = inst.code.take(pa.array(c["inst"]))
    doctor = doctor_codes(inst, c["inst"], doctor_numbers(m, b))
    away = ~inst.local[c["inst"]]
    rng = np.random.default_rng([m.cfg.seed, 3, block])
    filing = np.where(away, np.array(["filed", "referred", "emergency", "unfiled"], dtype=object)[
        rng.choice(4, size=n, p=[0.6, 0.2, 0.1, 0.1])], None)
    return pa.table({
        "claim_id": ids,
        "psn_no": pop.psn_no.take(pa.array(person)),
        "fixmedins_code": codes,
        "insutype": take_strings([vocab.EMPLOYEE, vocab.RESIDENT], scheme),
        "med_type": _opt(c["med_type"]),
        "adm_date": pa.array(c["adm"], pa.date32()),
        "dscg_date": pa.array(dscg.astype(np.int32), pa.date32()),
        "los": pa.array(c["los"].astype(np.int16), pa.int16(), mask=~inp),
        "diagnoses": _opt(c["dx"]),
        "procedures": _opt(c["proc"]),
        "dscg_way": _opt(c["dscg_way"]),
        "newborn_weight_g": pa.array(c["newborn_weight"], pa.int32(), mask=c["newborn_weight"] == 0),
        "dept": _opt(c["dept"]),
        "doctor_code": doctor,
        "medfee_sumamt_fen": pa.array(medfee.astype(np.int64)),
        "mdtrtarea_admdvs": pa.array(inst.city[c["inst"]].astype(str)),
        "insuplc_admdvs": pa.array(np.full(n, region.admdvs)),
        "out_of_region": pa.array(away),
        "filing": _opt(filing),
        "chronic_disease": _opt(c["chronic_code"]),
    })


def _drop_emptied(batch: ClaimBatch, lines, labels: Labels, drawn: int):
    """Unlabelled claims whose every line broke a limit (a purchase of drugs the person had just
    bought elsewhere) are not made; claim and line indices are renumbered in the lines and labels."""
    has = ~lines.clashed
    has[labels.arrays()[0]] = True
    if has.all():
        return batch, lines, drawn
    new = np.cumsum(has) - 1
    kept = has[lines.claim]
    lines = Lines(new[lines.claim[kept]], lines.item[kept], lines.qty[kept], lines.price[kept], lines.amount[kept],
                  lines.date[kept], lines.is_drug[kept])
    labels.renumber(new)
    return batch.take(np.flatnonzero(has)), lines, int(has[:drawn].sum())


def labels_table(labels: Labels, claim_ids: pa.Array) -> pa.Table:
    idx, label, detail, ref = labels.arrays()
    order = np.argsort(idx, kind="stable")
    idx, label, detail, ref = idx[order], label[order], detail[order], ref[order]
    ref_ids = claim_ids.take(pa.array(np.maximum(ref, 0)))
    detail_arr = _opt(detail)
    with_ref = join([detail_arr, ref_ids], " ")
    return pa.table({
        "claim_id": claim_ids.take(pa.array(idx)),
        "label": _opt(label),
        "detail": pc.if_else(pa.array(ref >= 0), with_ref, detail_arr),
    })


def person_entities(labels: Labels, pop) -> pa.Table:
    """The block's person-level labels as ``fraud_entities`` rows."""
    if not labels.persons:
        return TABLES["fraud_entities"].empty_table()
    person = np.concatenate([p for p, _, _ in labels.persons])
    return pa.table({
        "level": pa.array(["person"] * len(person)),
        "entity_id": pop.psn_no.take(pa.array(person)),
        "label": pa.array(np.concatenate([np.full(len(p), lab, dtype=object) for p, lab, _ in labels.persons]), pa.string()),
        "detail": _opt(np.concatenate([d for _, _, d in labels.persons])),
    }, schema=TABLES["fraud_entities"])


def generate(cfg: SynthConfig, out_dir: str | Path, progress: Progress | None = None) -> SynthSummary:
    """Generate a synthetic region into ``out_dir`` (the lake layout of ``yibao.lake.io``)."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    report = progress or (lambda stage, done, total: None)
    report("population", 0, 1)
    pop, tables = build_population(cfg, np.random.default_rng([cfg.seed, 0]))
    inst = build_institutions(cfg, np.random.default_rng([cfg.seed, 1]))
    tables["institutions"] = inst.table
    tables["regions"] = regions_table(cfg)
    tables.update(coverage_tables(cfg, pop, tables))
    for name, table in tables.items():
        write_table(out, name, table)
    report("population", 1, 1)

    model = build_model(cfg, pop, inst)
    lines_model = None
    if cfg.with_lines:
        lines_model = build_lines_model(model)
        write_table(out, "catalog", lines_model.catalog_table())
        items = concentrated_items(lines_model)
    writers = {t: ChunkWriter(out, t) for t in ("claims", "claim_lines", "fraud_labels")}
    tally = Tally(model)
    entities = [model.propensity.entities(inst)]
    entities.append(model.patterns.entities(inst, items, lines_model.codes) if lines_model is not None
                    else model.patterns.entities(inst))
    blocks = list(range(0, cfg.persons, BLOCK))
    per_chunk = max(1, cfg.chunk_persons // BLOCK)
    chunks = [blocks[i:i + per_chunk] for i in range(0, len(blocks), per_chunk)]
    for k, chunk in enumerate(chunks):
        parts: dict[str, list[pa.Table]] = {t: [] for t in writers}
        for p0 in chunk:
            block = p0 // BLOCK
            rng = np.random.default_rng([cfg.seed, 2, block])
            persons = np.arange(p0, min(cfg.persons, p0 + BLOCK))
            batch = generate_claims(rng, model, persons)
            inflate_costs(model.patterns, batch.cols)
            labels = Labels()
            drawn = len(batch)  # claims drawn by the model; injected ones follow
            batch = inject_stays(rng, model, batch, labels)
            clear_stays(batch, ~np.isin(np.arange(len(batch)), labels.arrays()[0]))
            lines = None
            if lines_model is not None:
                lines = make_lines(rng, lines_model, batch)
                lines = inject_lines(rng, lines_model, batch, lines, labels)
                lines = concentrate_items(lines_model, batch, lines, items, labels.arrays()[0])
                batch, lines, drawn = _drop_emptied(batch, lines, labels, drawn)
                medfee = np.bincount(lines.claim, weights=lines.amount, minlength=len(batch)).astype(np.int64)
            else:
                medfee = batch.cols["cost"]
            claims = claims_table(model, batch, block, medfee)
            parts["claims"].append(claims)
            if lines is not None:
                parts["claim_lines"].append(lines.table(claims["claim_id"], lines_model))
            parts["fraud_labels"].append(labels_table(labels, claims["claim_id"]))
            tally.add(batch, medfee, lines, labels, drawn)
            entities.append(person_entities(labels, pop))
        for t, tables_ in parts.items():
            if tables_:
                writers[t].write(pa.concat_tables(tables_))
        report("claims", k + 1, len(chunks))
    write_table(out, "fraud_entities", pa.concat_tables(entities))
    for t, w in writers.items():
        if w.rows == 0:  # keep an empty but valid table
            w.write(TABLES[t].empty_table())
    counts = {name: t.num_rows for name, t in tables.items()}
    counts["fraud_entities"] = sum(t.num_rows for t in entities)
    counts.update({t: w.rows for t, w in writers.items()})
    if lines_model is not None:
        counts["catalog"] = lines_model.catalog_table().num_rows
    return SynthSummary(str(out), counts, tally.totals(), tally.report(), tally.fraud_counts(),
                        seconds=time.perf_counter() - t0)


__all__ = ["generate", "claims_table", "labels_table"]
