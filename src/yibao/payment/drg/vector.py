"""The batch grouper's vectorised path: code look-ups, trauma regions and the MCC/CC split as array
operations (pyarrow / numpy), the MDC/ADRG decision once per distinct signature.

Cases it does not take — invalid input, newborns and infants (age 0), unknown or blank-padded
codes, a code used by a rule on any diagnosis (PS1–PS4, YC1) — go through
:meth:`Grouper.group_columns`, the row-by-row path; both give the same result for every case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yibao.payment.drg.grouper import AMBIGUOUS, CACHE_LIMIT, MISSING, OK, UNGROUPABLE, Grouper, excluded_note

_POS_BITS = 20  # positions within one case's diagnoses stay below 2**20


@dataclass(frozen=True)
class _Tables:
    """Per-code arrays of one grouper version (code ids index them)."""

    codes: np.ndarray  # grouper diagnosis codes (object)
    codes_arrow: pa.Array
    dx_keys: pa.Array  # every accepted input code
    dx_target: np.ndarray  # input code position → code id
    proc_keys: pa.Array
    cc_level: np.ndarray  # 0 none, 1 CC, 2 MCC
    cc_table: np.ndarray  # exclusion table id of the CC/MCC, -1 none
    cce_table: np.ndarray  # exclusion table id holding the code as principal, -2 none
    table_names: list[str]
    trauma_part: np.ndarray  # MDCZ body region, -1 none
    rule_code: np.ndarray  # used by a "dx" rule (any diagnosis)
    sex_relevant: np.ndarray


def tables(g: Grouper) -> _Tables:
    found = getattr(g, "_vector_tables", None)
    if found is not None:
        return found
    codes = sorted(set(g.dx_map.values()))
    cid = {c: i for i, c in enumerate(codes)}
    keys = list(g.dx_map)
    tnames = sorted({t for _, t in g.cc.values()} | set(g.cce.values()))
    tid = {t: i for i, t in enumerate(tnames)}
    n = len(codes)
    cc_level = np.zeros(n, np.int64)
    cc_table = np.full(n, -1, np.int64)
    for c, (level, t) in g.cc.items():
        if c in cid:
            cc_level[cid[c]], cc_table[cid[c]] = level, tid[t]
    cce_table = np.full(n, -2, np.int64)
    for c, t in g.cce.items():
        if c in cid:
            cce_table[cid[c]] = tid[t]
    trauma = np.full(n, -1, np.int64)
    for c, part in g.trauma_part.items():
        if c in cid:
            trauma[cid[c]] = part
    found = _Tables(
        codes=np.array(codes, dtype=object),
        codes_arrow=pa.array(codes, pa.string()),
        dx_keys=pa.array(keys, pa.string()),
        dx_target=np.array([cid[g.dx_map[k]] for k in keys], np.int64),
        proc_keys=pa.array(list(g.proc_map), pa.string()),
        cc_level=cc_level, cc_table=cc_table, cce_table=cce_table, table_names=tnames,
        trauma_part=trauma,
        rule_code=np.array([c in g.dx_rule_codes for c in codes]),
        sex_relevant=np.array([c in g._sex_relevant for c in codes]),
    )
    g._vector_tables = found
    return found


def _one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as one contiguous array: readers hand over a large CSV or Parquet file in chunks
    (blocks, row groups); past 2 GiB of text the offsets need 64 bits (large_string)."""
    if isinstance(values, pa.Array):
        return values
    if values.num_chunks == 1:
        return values.chunk(0)
    if values.nbytes >= 1 << 31:
        values = values.cast(pa.large_string())
    return values.combine_chunks()


def _split(values: pa.Array) -> tuple[pa.ListArray, np.ndarray, np.ndarray]:
    """Split ``|``-joined codes; empty strings become empty lists. (lists, flat codes' parents, offsets)."""
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    lists = pc.split_pattern(values, "|")
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = lists.offsets.to_numpy().astype(np.int64)
    return lists, parents, offsets


def group_arrays(g: Grouper, nums: dict[str, np.ndarray], diagnoses: pa.Array, procedures: pa.Array
                 ) -> list[pa.Array]:
    """Group columns; returns the 7 output columns (mdc, adrg, drg, status, reason, cc_code, cc_level)
    as Arrow string arrays in the input's order."""
    t = tables(g)
    diagnoses, procedures = _one_array(diagnoses), _one_array(procedures)
    sex, age, days, weight, los = (nums[c] for c in ("sex", "age", "age_days", "birth_weight_g", "los_days"))
    simple = ((age > 0) & (age <= 150) & ((sex == 1) | (sex == 2)) & (los >= MISSING) & (days >= MISSING)
              & ((weight == MISSING) | (weight == 0)))

    dx_lists, parents, offsets = _split(diagnoses)
    lengths = np.diff(offsets)
    simple &= lengths > 0
    pos_in_keys = pc.index_in(pc.list_flatten(dx_lists), value_set=t.dx_keys).fill_null(-1).to_numpy()
    unknown = pos_in_keys < 0
    ids = t.dx_target[np.where(unknown, 0, pos_in_keys)]
    simple[parents[unknown]] = False
    simple[parents[t.rule_code[ids]]] = False

    pr_lists, pr_parents, _ = _split(procedures)
    pr_unknown = pc.index_in(pc.list_flatten(pr_lists), value_set=t.proc_keys).is_null().to_numpy(
        zero_copy_only=False)
    simple[pr_parents[pr_unknown]] = False

    rows = np.flatnonzero(simple)
    rest = np.flatnonzero(~simple)
    fast = _group_simple(g, t, rows, sex, age, ids, parents, offsets, procedures) if len(rows) else \
        [pa.array([], pa.string())] * 7
    slow: list = [[] for _ in range(7)]
    if len(rest):
        dx_py = diagnoses.take(pa.array(rest)).to_pylist()
        pr_py = procedures.take(pa.array(rest)).to_pylist()
        split = [tuple(c.strip() for c in (v or "").split("|") if c.strip()) for v in dx_py]
        psplit = [tuple(c.strip() for c in (v or "").split("|") if c.strip()) for v in pr_py]
        res = g.group_columns(sex[rest].tolist(), age[rest].tolist(), days[rest].tolist(), weight[rest].tolist(),
                              los[rest].tolist(), split, psplit)
        slow = [list(col) for col in zip(*res)]
    if not len(rest):
        return fast
    back = np.argsort(np.concatenate([rows, rest]), kind="stable")  # to the input's order
    return [pa.concat_arrays([f, pa.array(sl, pa.string())]).take(pa.array(back)) for f, sl in zip(fast, slow)]


def _group_simple(g, t: _Tables, rows, sex, age, ids, parents, offsets, procedures) -> list[pa.Array]:
    n = len(sex)
    first = offsets[:-1]
    pdx = np.full(n, -1, np.int64)
    pdx[rows] = ids[first[rows]]
    # trauma regions (MDCZ): distinct body regions among all diagnoses, when the principal has one
    part = t.trauma_part[ids]
    sel = part >= 0
    pairs = np.unique(parents[sel] * 16 + part[sel])
    regions = np.bincount(pairs // 16, minlength=n)
    trauma2 = (regions >= 2) & (t.trauma_part[np.where(pdx < 0, 0, pdx)] >= 0) & (pdx >= 0)
    sexkey = np.where(t.sex_relevant[np.where(pdx < 0, 0, pdx)], sex, 0)

    # one structural decision per distinct (sex if it matters, principal, procedures, multiple trauma)
    proc_str = pd.Series(procedures.take(pa.array(rows)).to_numpy(zero_copy_only=False))
    pcode, puniq = pd.factorize(proc_str.fillna(""))
    r_pdx = pdx[rows]
    combined = ((pcode.astype(np.int64) * len(t.codes) + r_pdx) * 3 + sexkey[rows]) * 2 + trauma2[rows]
    kcode, kuniq = pd.factorize(combined)
    firsts = np.empty(len(kuniq), np.int64)
    firsts[kcode[::-1]] = np.arange(len(kcode))[::-1]
    cache, codes, proc_map = g._cache, t.codes, g.proc_map
    u_mdc, u_adrg, u_status, u_reason = [], [], [], []
    mapped = [tuple(proc_map[c] for c in v.split("|")) if v else () for v in puniq.tolist()]
    pcode_l = pcode.tolist()
    rows_l, pdx_l = rows.tolist(), r_pdx.tolist()
    sex_l, age_l, sexkey_l, trauma_l = sex.tolist(), age.tolist(), sexkey.tolist(), trauma2.tolist()
    for k in firsts.tolist():
        r = rows_l[k]
        p = codes[pdx_l[k]]
        procs = mapped[pcode_l[k]]
        key = (sexkey_l[r], -1, -1, p, procs, trauma_l[r], ())
        hit = cache.get(key)
        if hit is None:
            hit = g._structure(sex_l[r], age_l[r], None, None, p, frozenset((p,)), procs, 2 * trauma_l[r])
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            cache[key] = hit
        u_mdc.append(hit[0])
        u_adrg.append(hit[1])
        u_status.append(hit[2])
        u_reason.append(hit[3])

    # MCC/CC of the other diagnoses after the exclusion tables, best = first MCC, else first CC
    pos = np.arange(len(ids)) - first[parents]
    level = t.cc_level[ids]
    excluded = (pos > 0) & (level > 0) & (t.cc_table[ids] == t.cce_table[pdx[parents]])
    eff = np.where((pos > 0) & ~excluded, level, 0)
    low = (1 << _POS_BITS) - 1
    score = np.where(eff > 0, (eff << _POS_BITS) + (low - pos), -1)  # higher level, then earlier position
    best = np.maximum.reduceat(np.append(score, -1), np.minimum(first, len(score)))[rows]
    lv = np.where(best > 0, best >> _POS_BITS, 0)
    best_pos = np.where(best > 0, low - (best & low), 0)
    best_code = t.codes_arrow.take(pa.array(ids[np.where(best > 0, first[rows] + best_pos, 0)]))
    note = np.full(len(rows), "", dtype=object)
    for r, text in _notes(t, excluded, parents, ids, pdx, rows).items():
        note[r] = text
    uniq = (u_mdc, u_adrg, u_status, u_reason)
    return _split_suffix(g, kcode, uniq, lv, best_code, pa.array(note, pa.string()))


def _split_suffix(g, kcode: np.ndarray, uniq: tuple, lv: np.ndarray, best_code: pa.Array, note: pa.Array
                  ) -> list[pa.Array]:
    """The DRG's fourth character (1 MCC, 3 CC or "MCC or CC", 5 none, 9 not split) and the reason
    text, on arrays: per-ADRG facts are looked up once per distinct signature, strings joined by Arrow."""
    u_mdc, u_adrg, u_status, u_reason = uniq
    take = pa.array(kcode)
    props = [g.adrgs[a].suffixes if s == OK else frozenset("9") for a, s in zip(u_adrg, u_status)]
    ok = (np.array(u_status, dtype=object) == OK)[kcode]
    ambiguous = (np.array(u_status, dtype=object) == AMBIGUOUS)[kcode]
    single = np.array([next(iter(p)) if len(p) == 1 else "" for p in props])[kcode]
    has1 = np.array(["1" in p for p in props])[kcode]
    has3 = np.array(["3" in p for p in props])[kcode]
    has5 = np.array(["5" in p for p in props])[kcode]
    lowest = np.array([min(p) for p in props])[kcode]
    suffix = np.where(single != "", single, np.where((lv == 2) & has1, "1", np.where(
        (lv > 0) & has3, "3", np.where(has5, "5", lowest))))
    decided = ok & (single == "") & ((suffix == "1") | (suffix == "3"))
    five = ok & (single == "") & (suffix == "5")

    mdc = pa.array(u_mdc, pa.string()).take(take)
    adrg = pa.array(u_adrg, pa.string()).take(take)
    status = pa.array(u_status, pa.string()).take(take)
    reason = pa.array(u_reason, pa.string()).take(take)
    suffix_a = pa.array(suffix, pa.string())
    name = pa.array(np.where(lv == 2, "MCC", "CC"), pa.string())
    join = pc.binary_join_element_wise
    why = pc.if_else(pa.array(single != ""), join(adrg, suffix_a, " not split by MCC/CC", ""),
          pc.if_else(pa.array(decided), join("suffix ", suffix_a, ": ", name, " ", best_code, note, ""),
          pc.if_else(pa.array(five & (lv > 0)), join("suffix 5: ", name, " ", best_code, " does not split ", adrg,
                                                     " (MCC only)", note, ""),
          pc.if_else(pa.array(five), join("suffix 5: no MCC/CC", note, ""),
                     join("suffix ", suffix_a, note, "")))))
    okm = pa.array(ok)
    empty = pa.scalar("", pa.string())
    qy = join(pc.utf8_slice_codeunits(mdc, 3, 4), "QY", "")
    drg = pc.if_else(okm, join(adrg, suffix_a, ""), pc.if_else(pa.array(ambiguous), qy, UNGROUPABLE))
    reason = pc.if_else(okm, join(reason, why, "; "), reason)
    decided_a = pa.array(decided)
    return [mdc, pc.if_else(okm, adrg, empty), drg, status, reason,
            pc.if_else(decided_a, best_code, empty), pc.if_else(decided_a, name, empty)]


def _notes(t: _Tables, excluded, parents, ids, pdx, rows: np.ndarray) -> dict[int, str]:
    """The exclusion note of each case (by its place in ``rows``) that had a CC/MCC removed, as the
    row path writes it."""
    hits = np.flatnonzero(excluded)
    owners = parents[hits]
    place = np.searchsorted(rows, owners)  # rows is ascending
    mine = (place < len(rows)) & (rows[np.minimum(place, len(rows) - 1)] == owners)
    dropped: dict[int, list[str]] = {}
    for k, r in zip(hits[mine].tolist(), owners[mine].tolist()):
        dropped.setdefault(r, []).append(t.codes[ids[k]])
    where = dict(zip(owners[mine].tolist(), place[mine].tolist()))
    return {where[r]: excluded_note(codes, t.table_names[t.cce_table[pdx[r]]], t.codes[pdx[r]])
            for r, codes in dropped.items()}
