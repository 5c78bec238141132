"""Batch settlement (年度回放): a year of claims for many people at once, the same core as real time.

Claims are sorted by (person, discharge date, claim id); the running totals come from grouped
cumulative sums (see :mod:`yibao.settlement.engine`). Parameters are resolved once per claim *kind*
and parameter period, then gathered into per-claim arrays.

``settle_frame(claims, lines, pack, catalog)`` takes a settlement frame:

* claims: ``claim_id, psn_no, insutype, psn_type, med_type, level, adm_date, dscg_date`` and optional
  ``age`` (or ``birth_date``), ``identities`` ('|'-joined), ``tier``, ``filing`` ('' in region),
  ``chronic_disease``, ``civil_servant``, ``diagnoses`` ('|'-joined), ``sex``, ``supplementary``
  ('|'-joined voluntary tiers), ``enterprise_supplementary`` (bool), ``inst_kind`` (institution kind), ``mdtrtarea_admdvs``,
  ``acct_bal`` / ``fam_bal`` (fen, balance at the start);
* lines: ``claim_id, amount_fen`` and ``qty``, and either ``item_code`` or the ad-hoc
  ``item_class`` / ``preselfpay_ppm`` / ``price_cap_fen``.

It returns one row per claim (in the input's sorted order) with the setlinfo fields in fen.
``settle_lake(folder, pack)`` builds that frame from a synthetic region's lake and adds the summary.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yibao import coded
from yibao.coded import Coded, encode
from yibao.errors import ValidationError
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.engine import Batch, _rate, claim_sums, is_accumulator_key, line_scope, settle_core
from yibao.settlement.inputs import Ids, build_inputs
from yibao.settlement.memory import LARGE_LAKE, keep_freed_memory, lake_files
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.settlement.plan import Resolved
from yibao.vocab import INPATIENT_MED_TYPES

I64 = np.int64
PART_WORKERS = 2  # lake pieces settled at once: the cores kept busy between numpy calls
CHUNK = 131_072  # claims settled together: arrays of about a megabyte, cut at person boundaries
PIECE = CHUNK // 2  # claims of a lake part settled together: a 50,000-person part (430,000 claims) in 7 pieces
SMALL_PIECE = CHUNK // 4  # below LARGE_LAKE claims, where one part's working memory is most of the peak
READ_AHEAD = 3  # pieces before a part's end at which the next part's files start being read (memory against idle cores)
HEAD_COLS = ["claim_id", "psn_no", "insutype", "psn_type", "med_type", "level", "dscg_date"]


class _Params(dict):
    """Per-claim parameter arrays gathered on first use; a parameter equal for every kind stays a
    zero-copy broadcast scalar."""

    def __init__(self, names: list[str], table: np.ndarray, kind_id: np.ndarray):
        super().__init__()
        self.col = {n: j for j, n in enumerate(names)}
        self.table, self.kind_id = table, kind_id  # table: one contiguous row per parameter

    def __missing__(self, key: str) -> np.ndarray:
        col = self.table[self.col[key]]
        if np.all(col == col[0]):
            arr = np.broadcast_to(col[0], self.kind_id.shape)
        else:
            arr = col[self.kind_id]
        self[key] = arr
        return arr

    def at(self, key: str, idx: np.ndarray) -> np.ndarray:
        """The parameter for the claims ``idx`` only, without gathering it for every claim."""
        if key in self:
            arr = dict.__getitem__(self, key)
            return np.broadcast_to(arr.flat[0], idx.shape) if arr.strides == (0,) else arr[idx]
        col = self.table[self.col[key]]
        return np.broadcast_to(col[0], idx.shape) if np.all(col == col[0]) else col[self.kind_id[idx]]


def settle_arrays(kinds: list[Resolved], kind_id: np.ndarray, person: np.ndarray, year: np.ndarray,
                  c: dict[str, np.ndarray], rounding, chunk: int = CHUNK,
                  opening: dict[str, np.ndarray] | None = None, closing: list | None = None,
                  workers: int | None = None) -> dict[str, np.ndarray]:
    """The batch core: claims already sorted by (person, date, id); ``kinds[kind_id[i]]`` are claim
    i's parameters; ``c`` the per-claim scope sums and starting balances; ``opening`` per-claim
    opening accumulators of the claim's person-year (see :class:`Batch`). Runs in chunks cut at
    person boundaries (running totals never cross a person), so memory stays bounded and the
    working arrays stay in cache. Returns the setlinfo fields (fen); when ``closing`` is a list,
    appends ``(key, first claim index of the person-year, value)`` for the accumulators after
    each person-year. Chunks are independent, so ``workers`` threads settle them side by side (numpy
    releases the GIL inside each array operation); the default is one per core (``YIBAO_WORKERS``)."""
    names = tuple(kinds[0].values)
    table = np.stack([k.row(names) for k in kinds], axis=1)  # one contiguous row per parameter
    n = len(kind_id)
    cuts = [0]
    while cuts[-1] < n:
        end = min(cuts[-1] + chunk, n)
        while end < n and person[end] == person[end - 1]:
            end += 1
        cuts.append(end)
    out = {k: np.empty(n, dtype=I64) for k in SETLINFO_FIELDS}

    def settle_chunk(a: int, b: int) -> list:
        P = _Params(names, table, kind_id[a:b])
        run = Batch(person[a:b], year[a:b], {k: v[a:b] for k, v in (opening or {}).items()}, closing is not None)
        part = settle_core({k: v[a:b] for k, v in c.items()}, P, run, rounding, detail=False)
        for k in SETLINFO_FIELDS:
            out[k][a:b] = part[k]  # chunks write disjoint slices
        return [(key, first + a, vals) for key, (first, vals) in run.closing().items()] if closing is not None else []

    keep_freed_memory(n)
    done = _on_spans(settle_chunk, list(zip(cuts[:-1], cuts[1:])), workers)
    if closing is not None:
        for records in done:
            closing.extend(records)
    return out


def claim_scope(starts: np.ndarray, ends: np.ndarray, lines: dict[str, np.ndarray], rounding,
                chunk: int = CHUNK, workers: int | None = None, split: tuple | None = None) -> dict[str, np.ndarray]:
    """Line scope (:func:`line_scope`) summed per claim — total, fulamt, overlmt, presel, inscope —
    for lines sorted by claim (claim i's lines are ``starts[i]:ends[i]``), ``chunk`` claims at a
    time on ``workers`` threads. ``lines`` holds amount, qty_milli, item_class, preselfpay_ppm,
    price_cap and out_of_scope, and optionally fund_rate (ppm, −1: the stay's rate), which adds the
    in-scope amount of the lines with a fund rate of their own (own_scope) and what those rates pay
    on it (own_pay, rounded per line). ``split``: the lines' scope already worked out (fulamt, overlmt,
    presel, inscope per line), summed instead of split again."""
    n = len(starts)
    keep_freed_memory(n)
    names = ("total", "fulamt", "overlmt", "presel", "inscope") + (("own_scope", "own_pay") if "fund_rate" in lines else ())
    out = {k: np.empty(n, dtype=I64) for k in names}

    def one(a: int, b: int) -> None:
        lo, hi = (int(starts[a]), int(ends[b - 1])) if b > a else (0, 0)
        part = {k: v[lo:hi] for k, v in lines.items()}
        scope = (tuple(x[lo:hi] for x in split) if split is not None else
                 line_scope(part["amount"], part["qty_milli"], part["item_class"], part["preselfpay_ppm"],
                            part["price_cap"], part["out_of_scope"], rounding))
        if "fund_rate" in part:
            own = part["fund_rate"] >= 0
            scope = (*scope, np.where(own, scope[3], 0), _rate(np.where(own, scope[3], 0), np.maximum(part["fund_rate"], 0),
                                                                 rounding))
        sums = claim_sums(starts[a:b] - lo, ends[a:b] - lo, part["amount"], *scope)
        for k, v in zip(out, sums):
            out[k][a:b] = v

    _on_spans(one, [(a, min(a + chunk, n)) for a in range(0, n, chunk)], workers)
    return out


def _on_spans(work, spans: list[tuple[int, int]], workers: int | None) -> list:
    """``work(a, b)`` for every span, in order, on up to ``workers`` threads (default one per core)."""
    workers = 1 if len(spans) <= 1 else min(workers or default_workers(), len(spans))
    if workers == 1:
        return [work(a, b) for a, b in spans]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda span: work(*span), spans))


def default_workers() -> int:
    """Threads for the batch: ``YIBAO_WORKERS`` or one per core."""
    value = os.environ.get("YIBAO_WORKERS", "")
    if value and not value.isdigit():
        raise ValidationError("YIBAO_WORKERS", f"{value!r} is not a whole number", "environment")
    return max(1, int(value) if value else (os.cpu_count() or 1))


def settle_frame(claims: pd.DataFrame, lines: pd.DataFrame, pack: Pack | str, catalog: Any = None,
                 *, opening: pd.DataFrame | None = None, strict: bool = False, chunk: int = CHUNK) -> pd.DataFrame:
    """Settle a year of claims (see the module docstring); amounts in the result are fen.
    ``opening``: the accumulators each person-year starts from (see :func:`settle_batch`)."""
    return _settle(claims, lines, pack, catalog, opening, strict, chunk, False)[0]


def settle_batch(claims: pd.DataFrame, lines: pd.DataFrame, pack: Pack | str, catalog: Any = None,
                 *, opening: pd.DataFrame | None = None, strict: bool = False,
                 chunk: int = CHUNK) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Settle claims continuing from ``opening`` accumulators and return (statements, closing).

    ``opening`` and the closing accumulators are long tables ``psn_no, year, key, amount_fen`` with
    the keys real time keeps per person-year (``stays``, ``cap:pooling``, ``hifmi.paid`` …, see
    :mod:`yibao.settlement.engine`): the year so far as settled in real time or by an earlier
    batch, and the year after this batch — what a later batch or real-time claim continues from."""
    return _settle(claims, lines, pack, catalog, opening, strict, chunk, True)


@dataclass
class Opening:
    """Opening accumulators, checked: the long table as given and its (psn_no, year) × key pivot."""

    long: pd.DataFrame
    wide: pd.DataFrame


def opening_of(opening: "pd.DataFrame | Opening | None") -> Opening | None:
    """The long table ``psn_no, year, key, amount_fen`` checked and pivoted once (a year settled in
    parts looks its persons up in the pivot part by part)."""
    if opening is None or isinstance(opening, Opening):
        return opening
    if not len(opening):
        return None
    for col in ("psn_no", "year", "key", "amount_fen"):
        if col not in opening:
            raise ValidationError(col, "missing column", "opening accumulators")
    o = opening.reset_index(drop=True)
    bad = ~o["key"].astype(str).map(is_accumulator_key)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError("key", f"{o['key'].iloc[i]!r} is not an accumulator", f"opening accumulators row {i}")
    amounts = pd.to_numeric(o["amount_fen"], errors="coerce")
    neg = amounts.isna() | (amounts < 0) | (amounts != amounts.round())
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise ValidationError("amount_fen", f"{o['amount_fen'].iloc[i]!r} is not a non-negative whole number of fen",
                              f"opening accumulators row {i}")
    dup = o.duplicated(["psn_no", "year", "key"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValidationError("key", f"{o['key'].iloc[i]!r} given twice for {o['psn_no'].iloc[i]} {o['year'].iloc[i]}",
                              f"opening accumulators row {i}")
    wide = o.assign(year=o["year"].astype(I64), amount_fen=amounts.astype(I64)).pivot(
        index=["psn_no", "year"], columns="key", values="amount_fen")
    return Opening(opening, wide)


def _opening_arrays(opening: Opening | None, psn: np.ndarray, year: np.ndarray) -> dict[str, np.ndarray]:
    """Per-claim opening accumulators of each claim's person-year, by key."""
    if opening is None:
        return {}
    at = opening.wide.reindex(pd.MultiIndex.from_arrays([psn, year])).fillna(0)
    return {str(k): at[k].to_numpy(dtype=I64) for k in at.columns}


def _settle(claims, lines, pack, catalog, opening, strict, chunk, track) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    return settle_columns(*frame_columns(claims, lines), pack, catalog, opening, strict, chunk, track)


@dataclass
class Settled:
    """Claims settled from the front-end's columns: the inputs (claims in settlement order), the
    setlinfo fields (fen) and, when tracked, the closing accumulators."""

    inputs: Any
    out: dict[str, np.ndarray]
    closing: pd.DataFrame | None


def settle_columns(claims: dict, lines: dict, pack: Pack | str, catalog: Any = None,
                   opening: "pd.DataFrame | Opening | None" = None,
                   strict: bool = False, chunk: int = CHUNK, track: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Settle claims given as the front-end's columns (:mod:`yibao.settlement.inputs`): one row per
    claim in settlement order and, with ``track``, the closing accumulators."""
    done = settled_columns(claims, lines, pack, catalog, opening, strict, chunk, track)
    return settle_frame_of(done), done.closing


def settle_frame_of(done: Settled) -> pd.DataFrame:
    """The settled rows as a frame: the head columns (discharge as a date) and the setlinfo fields."""
    f, n = done.inputs.claims, len(done.inputs.order)
    if not n:
        return _no_statements()
    head = pd.DataFrame({k: f[k] if k == "dscg_date" else np.asarray(f[k], dtype=object) for k in HEAD_COLS})
    head["dscg_date"] = pd.to_datetime(head["dscg_date"]).dt.date
    res = pd.DataFrame({k: np.broadcast_to(done.out[k], (n,)).copy() for k in SETLINFO_FIELDS})
    statements = pd.concat([head, res], axis=1)
    statements.attrs.update(_gaps(done.inputs))
    return statements


def settled_columns(claims: dict, lines: dict, pack: Pack | str, catalog: Any = None,
                    opening: "pd.DataFrame | Opening | None" = None,
                    strict: bool = False, chunk: int = CHUNK, track: bool = False) -> Settled:
    """:func:`settle_columns` before the rows are laid out as a frame or an Arrow table."""
    pack = load_pack(pack) if isinstance(pack, str) else pack
    opening = opening_of(opening)
    inputs = build_inputs(claims, lines, pack, catalog, strict=strict)
    f = inputs.claims
    psn = np.asarray(f["psn_no"], dtype=object) if track or opening is not None else f["psn_no"]
    if not len(f["claim_id"]):  # nothing to settle: the year stays where it was
        after = (_closing_frame([], psn, inputs.year) if opening is None else opening.long.copy()) if track else None
        return Settled(inputs, {}, after)
    closing: list | None = [] if track else None
    out = settle_arrays(inputs.kinds, inputs.kind_id, inputs.person, inputs.year, inputs.scope, pack.rounding, chunk,
                        _opening_arrays(opening, psn, inputs.year), closing)
    return Settled(inputs, out, _closing_frame(closing, psn, inputs.year) if track else None)


def _gaps(inputs) -> dict:
    return {"unknown_items": inputs.unknown_items, "unlisted_chronic": inputs.unlisted_chronic,
            "warning": inputs.warning}


TEXT = pa.large_string()
LOW_CARDINALITY = ["insutype", "psn_type", "med_type", "level"]  # dictionary-encoded in the file; ids and fen plain
STATEMENT_SCHEMA = pa.schema([(k, pa.date32() if k == "dscg_date" else TEXT) for k in HEAD_COLS]
                             + [(k, pa.int64()) for k in SETLINFO_FIELDS])


def statement_table(done: Settled) -> pa.Table:
    """The settled rows as an Arrow table (:data:`STATEMENT_SCHEMA`) built from the arrays themselves:
    text gathered by code or by settlement order, the discharge date as Arrow date32 days."""
    f, order = done.inputs.claims, done.inputs.order
    n = len(order)
    if not n:
        return STATEMENT_SCHEMA.empty_table()
    cols = []
    for k in HEAD_COLS:
        v = f[k]
        if k == "dscg_date":
            cols.append(pa.array(v.astype(I64).astype(np.int32), pa.date32()))
        elif isinstance(v, Coded):
            cols.append(pa.array(v.categories, TEXT).take(pa.array(v.codes)))
        elif isinstance(v, Ids):
            cols.append(pc.cast(v.array, TEXT))
        else:
            cols.append(pa.array(v, TEXT))
    cols += [pa.array(np.broadcast_to(done.out[k], (n,))) for k in SETLINFO_FIELDS]
    return pa.Table.from_arrays(cols, schema=STATEMENT_SCHEMA)


def _no_statements() -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(dtype=object if k in HEAD_COLS else I64) for k in HEAD_COLS + list(SETLINFO_FIELDS)})


def frame_columns(claims: pd.DataFrame, lines: pd.DataFrame) -> tuple[dict, dict]:
    """A settlement frame (claims, lines; see the module docstring) as the front-end's columns:
    each line points at its claim's position; claim ids must be unique."""
    ids = pd.Index(claims["claim_id"] if "claim_id" in claims else [])
    if not ids.is_unique:
        dup = ids[ids.duplicated()][0]
        raise ValidationError("claim_id", f"{dup!r} is given twice", f"claims row {int(np.flatnonzero(ids == dup)[1])}")
    for col in ("claim_id", "amount_fen"):
        if col not in lines:
            raise ValidationError(col, "missing column", "claim_lines")
    pos = ids.get_indexer(lines["claim_id"])
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise ValidationError("claim_id", f"line of unknown claim {lines['claim_id'].iloc[i]!r}", f"claim_lines row {i}")
    qty = lines["qty"].fillna(1).to_numpy(dtype=float) if "qty" in lines else np.ones(len(lines))
    cols = {"claim": pos, "amount": lines["amount_fen"].to_numpy(dtype=I64), "qty_milli": np.rint(qty * 1000).astype(I64)}
    for col, name in (("item_code", "item_code"), ("item_class", "item_class")):
        if col in lines:
            cols[name] = lines[col].astype(object).where(lines[col].notna(), None).to_numpy(dtype=object)
    for col, name in (("preselfpay_ppm", "preselfpay_ppm"), ("price_cap_fen", "price_cap"), ("fund_rate_ppm", "fund_rate")):
        if col in lines:
            cols[name] = lines[col].fillna(-1).to_numpy(dtype=I64)
    return {c: claims[c].to_numpy() for c in claims.columns}, cols


def _closing_frame(closing: list, psn: np.ndarray, year: np.ndarray) -> pd.DataFrame:
    """The (key, first claim index, values) records of :func:`settle_arrays` as a long table."""
    acc = pd.DataFrame({
        "psn_no": np.concatenate([psn[first] for _, first, _ in closing] or [np.zeros(0, dtype=object)]),
        "year": np.concatenate([year[first] for _, first, _ in closing] or [np.zeros(0, dtype=I64)]),
        "key": np.concatenate([np.full(len(first), key, dtype=object) for key, first, _ in closing] or [np.zeros(0, dtype=object)]),
        "amount_fen": np.concatenate([vals for _, _, vals in closing] or [np.zeros(0, dtype=I64)]),
    })
    return acc[acc["amount_fen"] != 0].sort_values(["psn_no", "year", "key"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# The lake


def lake_frame(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Claims (as a settlement frame), lines and the lake's catalog of a whole lake, for inspection:
    the columns :func:`settle_lake` settles on, with 个人账户 balances at 1 January (no accruals)."""
    from yibao.catalog.items import Catalog
    from yibao.lake.claims import lake_parts, read_people

    people = read_people(folder, None)
    claims, lines = [], []
    for c, ln in lake_parts(folder, people):
        claims.append(pd.DataFrame({k: np.asarray(v, dtype=object) if isinstance(v, Coded) else v
                                    for k, v in c.items()}))
        ids = np.asarray(c["claim_id"], dtype=object)
        lines.append(pd.DataFrame({"claim_id": ids[ln["claim"]], "item_code": np.asarray(ln["item_code"], dtype=object),
                                   "qty": ln["qty_milli"] / 1000, "amount_fen": ln["amount"]}))
    return pd.concat(claims, ignore_index=True), pd.concat(lines, ignore_index=True), Catalog.of_lake(folder)


def settle_lake(folder: str | Path, pack: Pack | str = "demo", catalog: Any = None,
                accounts: bool = True, opening: pd.DataFrame | None = None,
                closing: bool = False, out: str | Path | None = None,
                files: Any = None) -> tuple[pd.DataFrame | None, dict]:
    """Settle a lake's year part by part (:mod:`yibao.lake.claims`); returns (one row per claim, fen;
    summary), or with ``out`` writes the rows to that Parquet file as each part is settled and
    returns (None, summary), so memory holds one part at a time.

    The summary gives fund totals by scheme (insutype) and the KPI 政策范围内报销比例 by scheme:
    (hifp_pay + hifmi_pay + hifob_pay) ÷ inscp_scp_amt, i.e. what basic pooling and the 大病 / 大额
    tiers paid as a share of the in-scope amount (符合政策范围金额, after 先行自付), both over all claims
    and over inpatient claims (``yibao.vocab.INPATIENT_MED_TYPES``, the seeds' 住院 KPI). The catalog
    is the lake's own ``catalog`` table, else the shipped one. With ``accounts``, each employee's
    个人账户 balance is the opening balance at 1 January (``account_balances``) plus the year's accrual
    from the registry (``account_accruals_for_year``), all taken as available from the start of the
    year; ``fam_bal`` is the household's share of the other members' balances (家庭共济). A lake
    without ``account_balances`` (an older one) settles on the accruals alone, as if every account
    started the year empty; the summary's note says which. Without ``accounts``, no balances.
    ``opening`` accumulators continue a year settled elsewhere (see :func:`settle_batch`); with
    ``closing``, the accumulators after the batch are the summary's ``accumulators`` (a table).
    ``files``: the lake's part files when a caller has started reading them
    (:func:`yibao.settlement.memory.lake_files`).
    """
    from yibao.catalog.items import Catalog
    from yibao.lake.claims import read_people
    if files is None:
        files = lake_files(folder)  # the first part is read while the person tables and the catalog are
    try:
        pack = load_pack(pack) if isinstance(pack, str) else pack
        opening = opening_of(opening)
        with ThreadPoolExecutor(1) as aside:
            reading = aside.submit(Catalog.of_lake, folder) if catalog is None else None
            people = read_people(folder, pack, accounts)
            catalog = catalog if catalog is not None else reading.result()
    except BaseException:
        files.close()
        raise
    results, after, totals = [], [], {}
    gaps = {"unknown_items": 0, "unlisted_chronic": 0, "warning": ""}

    def settle_part(claims, lines):
        done = settled_columns(claims, lines, pack, catalog, opening, False, CHUNK, closing)
        part_totals: dict = {}
        if len(done.inputs.order):
            f = done.inputs.claims
            _add_totals(part_totals, f["insutype"], f["med_type"], done.out)
        rows = statement_table(done) if out is not None else settle_frame_of(done)
        return rows, done, part_totals

    def take(rows, done, part_totals):
        for k, v in _gaps(done.inputs).items():
            gaps[k] = (gaps[k] or v) if k == "warning" else gaps[k] + v
        _merge_totals(totals, part_totals)
        if closing:
            after.append(done.closing)
        if out is None:
            results.append(rows)
        else:
            written.append(writer.submit(writer_for(out).write_table, rows))
            while written and written[0].done():
                written.popleft().result()  # a failed write ends the year here

    # parts settle side by side (persons never span parts) and are taken in the lake's order; the
    # settled rows are written on a thread of their own while the next parts settle
    writer_for = _OneWriter(STATEMENT_SCHEMA.with_metadata(statements_metadata(pack)))
    written: deque = deque()
    try:
        with ThreadPoolExecutor(PART_WORKERS) as pool, ThreadPoolExecutor(1) as writer:
            pending: deque = deque()
            for claims, lines in _lake_pieces(files, people):
                pending.append(pool.submit(settle_part, claims, lines))
                if len(pending) >= PART_WORKERS:
                    take(*pending.popleft().result())
            while pending:
                take(*pending.popleft().result())
            while written:
                written.popleft().result()
    finally:
        writer_for.close()
    summary = summary_of(totals)
    said = data_gaps(gaps) + ([f"{people.gaps['no_spell']:,} claims fall in no enrolment spell: settled as 在职 / 成年居民"]
                              if people.gaps.get("no_spell") else [])
    summary["note"] = "; ".join([people.note] + said)
    if closing:
        summary["accumulators"] = pd.concat(after, ignore_index=True) if after else None
    if out is not None:
        return None, summary
    return (pd.concat(results, ignore_index=True) if results else _no_statements()), summary


def _lake_pieces(files: Any, people: Any):
    """The lake's parts in pieces of whole persons (:func:`person_pieces`): the next part's files are
    read while this part's last ``READ_AHEAD`` pieces settle and made columns when the last is
    settling; a part is let go once cut, so memory holds about one part."""
    from yibao.lake.claims import lake_parts

    size = PIECE if files.claims >= LARGE_LAKE else SMALL_PIECE  # time against memory (lake_memory)
    for part in lake_parts(files.folder, people, ahead=False, files=files):
        count = -(-len(part[0]["person"]) // size)  # about: pieces end at whole persons
        pieces = person_pieces(*part, size)
        del part
        for k, piece in enumerate(pieces):
            if k + READ_AHEAD >= count:
                files.read_ahead()
            yield piece


def person_pieces(claims: dict, lines: dict, size: int):
    """A lake part's claims and lines cut into pieces of whole persons of about ``size`` claims each, in
    person order: the pieces settle to the part's own rows, in the part's own (settlement) order,
    with a fraction of its working memory. Line positions are renumbered within each piece."""
    person = np.asarray(claims["person"], dtype=I64)
    if len(person) <= size:
        yield claims, lines
        return
    lo = int(person.min())
    persons_before = np.cumsum(np.bincount(person - lo))  # claims of the part's persons up to each
    ends = np.unique(np.searchsorted(persons_before, np.arange(size, len(person), size), side="left") + 1)
    piece = np.searchsorted(ends, person - lo, side="right")
    at_claims = np.argsort(piece, kind="stable")
    claim_ends = np.cumsum(np.bincount(piece))
    line_piece = piece[lines["claim"]]
    at_lines = np.argsort(line_piece, kind="stable")
    line_ends = np.cumsum(np.bincount(line_piece, minlength=len(claim_ends)))
    local = np.empty(len(person), dtype=I64)  # a claim's position within its piece
    for k in range(len(claim_ends)):
        own = at_claims[(claim_ends[k - 1] if k else 0):claim_ends[k]]
        own_lines = at_lines[(line_ends[k - 1] if k else 0):line_ends[k]]
        local[own] = np.arange(len(own))
        piece_lines = {name: _rows(v, own_lines) for name, v in lines.items() if name != "claim"}
        yield {name: _rows(v, own) for name, v in claims.items()}, {"claim": local[lines["claim"][own_lines]],
                                                                     **piece_lines}


def _rows(values: Any, at: np.ndarray) -> Any:
    """Rows ``at`` of a front-end column (numpy, :class:`Coded` or Arrow). A coded column keeps only the
    categories its rows use: the front-end's work per category (item codes, diagnoses) is then the
    piece's, not the whole part's, for every piece."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.take(pa.array(at))
    if isinstance(values, Coded):
        codes = values.codes[at]
        used = np.bincount(codes, minlength=len(values.categories)) > 0  # counted, not sorted: the codes are few
        return Coded((np.cumsum(used) - 1)[codes], values.categories[used])
    return values[at]


def statements_metadata(pack: Pack) -> dict[bytes, bytes]:
    """What a statements file says of itself: written by the batch, under which pack, so that the fund
    can book it as given (``yibao fund kpi --statements``) and refuse it under another pack."""
    return {b"yibao.statements": b"batch", b"yibao.pack": pack.name.encode()}


class _OneWriter:
    """The Parquet file a year's rows go to, opened with its first part."""

    def __init__(self, schema: pa.Schema):
        self.schema, self.writer = schema, None

    def __call__(self, path: str | Path) -> pq.ParquetWriter:
        if self.writer is None:
            self.writer = pq.ParquetWriter(path, self.schema, compression="zstd", use_dictionary=LOW_CARDINALITY)
        return self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def data_gaps(counts: dict) -> list[str]:
    """What a year settled leniently took as it came (lines of unknown items, unlisted 门诊慢特病), said."""
    said = []
    if counts.get("unknown_items"):
        said.append(f"{counts['unknown_items']:,} lines name items in no catalog: settled as 目录外 (self-paid)")
    if counts.get("unlisted_chronic"):
        said.append(f"{counts['unlisted_chronic']:,} 门诊慢特病 claims name a disease the pack does not list: "
                    "the fund pays them nothing")
    if counts.get("warning"):
        said.append(f"warning: {counts['warning']}")
    return said


FUNDS = ("hifp_pay", "cvlserv_pay", "hifes_pay", "hifob_pay", "hifmi_pay", "maf_pay", "oth_pay", "fund_pay_sumamt",
         "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "hosp_part_amt", "medfee_sumamt", "inscp_scp_amt")
PAID = ("hifp_pay", "hifmi_pay", "hifob_pay")  # what the 政策范围内报销比例 counts as paid


def _add_totals(totals: dict, insutype: Coded, med_type: Coded, amounts: dict[str, np.ndarray]) -> None:
    """Add the sums of settled claims by (insutype, inpatient?) to ``totals``."""
    inpatient = coded.isin(med_type, INPATIENT_MED_TYPES)
    group = insutype.codes * 2 + inpatient
    funds = np.stack([np.broadcast_to(amounts[k], group.shape) for k in FUNDS])
    for g in np.unique(group):
        hit = group == g
        t = totals.setdefault((str(insutype.categories[g // 2]), bool(g % 2)), {k: 0 for k in FUNDS} | {"claims": 0})
        for k, v in zip(FUNDS, funds[:, hit].sum(axis=1).tolist()):
            t[k] += v
        t["claims"] += int(hit.sum())


def _merge_totals(totals: dict, part: dict) -> None:
    for key, sums in part.items():
        t = totals.setdefault(key, {k: 0 for k in sums})
        for k, v in sums.items():
            t[k] += v


def summary_of(totals: dict) -> dict:
    """Fund totals by scheme and the 政策范围内报销比例, over all claims and over inpatient claims."""
    out: dict = {"claims": sum(t["claims"] for t in totals.values()), "by_insutype": {}}
    for ins in sorted({k[0] for k in totals}):
        parts = [t for (i, _), t in totals.items() if i == ins]
        inp = [t for (i, stay), t in totals.items() if i == ins and stay]
        tot = {k: sum(t[k] for t in parts) for k in FUNDS}
        paid = sum(t[k] for t in parts for k in PAID)
        paid_in, scope_in = sum(t[k] for t in inp for k in PAID), sum(t["inscp_scp_amt"] for t in inp)
        out["by_insutype"][ins] = {
            "claims": sum(t["claims"] for t in parts), "totals_fen": tot,
            "inscope_ratio": paid / tot["inscp_scp_amt"] if tot["inscp_scp_amt"] else None,
            "inscope_ratio_inpatient": paid_in / scope_in if scope_in else None,
        }
    return out


def summarize(result: pd.DataFrame) -> dict:
    """:func:`summary_of` one frame of settled claims."""
    totals: dict = {}
    if len(result):
        _add_totals(totals, encode(result["insutype"].astype(str)), encode(result["med_type"].astype(str)),
                    {k: result[k].to_numpy(dtype=I64) for k in FUNDS})
    return summary_of(totals)


__all__ = ["claim_scope", "lake_frame", "settle_arrays", "settle_batch", "settle_frame", "settle_lake",
           "summarize"]
