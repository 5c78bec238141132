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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yibao.errors import PolicyError, ValidationError
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.engine import Batch, claim_sums, is_accumulator_key, line_scope, settle_core
from yibao.settlement.inputs import build_inputs
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.settlement.plan import Resolved
from yibao.vocab import INPATIENT_MED_TYPES

I64 = np.int64
CHUNK = 131_072  # claims settled together: arrays of about a megabyte, cut at person boundaries
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
    names = list(kinds[0].values)
    table = np.array([[k.values[n] for k in kinds] for n in names], dtype=I64)
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
                chunk: int = CHUNK, workers: int | None = None) -> dict[str, np.ndarray]:
    """Line scope (:func:`line_scope`) summed per claim — total, fulamt, overlmt, presel, inscope —
    for lines sorted by claim (claim i's lines are ``starts[i]:ends[i]``), ``chunk`` claims at a
    time on ``workers`` threads. ``lines`` holds amount, qty_milli, item_class, preselfpay_ppm,
    price_cap and out_of_scope."""
    n = len(starts)
    keep_freed_memory(n)
    out = {k: np.empty(n, dtype=I64) for k in ("total", "fulamt", "overlmt", "presel", "inscope")}

    def one(a: int, b: int) -> None:
        lo, hi = (int(starts[a]), int(ends[b - 1])) if b > a else (0, 0)
        part = {k: v[lo:hi] for k, v in lines.items()}
        scope = line_scope(part["amount"], part["qty_milli"], part["item_class"], part["preselfpay_ppm"],
                           part["price_cap"], part["out_of_scope"], rounding)
        sums = claim_sums(starts[a:b] - lo, ends[a:b] - lo, part["amount"], *scope)
        for k, v in zip(out, sums):
            out[k][a:b] = v

    _on_spans(one, [(a, min(a + chunk, n)) for a in range(0, n, chunk)], workers)
    return out


def _on_spans(work, spans: list[tuple[int, int]], workers: int | None) -> list:
    """``work(a, b)`` for every span, in order, on up to ``workers`` threads (default one per core)."""
    workers = min(workers or default_workers(), max(1, len(spans)))
    if workers == 1:
        return [work(a, b) for a, b in spans]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda span: work(*span), spans))


LARGE_BATCH = 500_000  # claims from which a batch keeps freed memory for reuse
_MEMORY_KEPT = False


def keep_freed_memory(claims: int = LARGE_BATCH, limit: int = 1 << 30) -> bool:
    """For a batch of at least ``LARGE_BATCH`` claims, let glibc's malloc keep up to ``limit`` bytes of
    freed memory for reuse instead of returning it to the system after every chunk: a year's batch
    allocates and frees the same megabyte-sized arrays chunk after chunk, and faulting fresh pages in
    costs more than the arithmetic (measured by ``benchmarks/settle.py``: about half the
    single-thread time of a 10M-claim year). Process-wide and once; a no-op where the C library is
    not glibc. Returns whether the setting is in force."""
    global _MEMORY_KEPT
    if _MEMORY_KEPT or claims < LARGE_BATCH:
        return _MEMORY_KEPT
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc <malloc.h>
        _MEMORY_KEPT = bool(libc.mallopt(m_trim_threshold, limit)) and bool(libc.mallopt(m_mmap_threshold, limit))
    except (OSError, AttributeError):
        _MEMORY_KEPT = False
    return _MEMORY_KEPT


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


def _opening_arrays(opening: pd.DataFrame | None, psn: np.ndarray, year: np.ndarray) -> dict[str, np.ndarray]:
    """Per-claim opening accumulators of each claim's person-year, by key."""
    if opening is None or not len(opening):
        return {}
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
    at = wide.reindex(pd.MultiIndex.from_arrays([psn, year])).fillna(0)
    return {str(k): at[k].to_numpy(dtype=I64) for k in at.columns}


def _settle(claims, lines, pack, catalog, opening, strict, chunk, track) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    pack = load_pack(pack) if isinstance(pack, str) else pack
    inputs = build_inputs(*frame_columns(claims, lines), pack, catalog, strict=strict)
    f = inputs.claims
    n = len(f["claim_id"])
    psn = f["psn_no"]
    if not n:  # nothing to settle: the year stays where it was
        empty = pd.DataFrame({k: pd.Series(dtype=object if k in HEAD_COLS else I64) for k in HEAD_COLS + list(SETLINFO_FIELDS)})
        return empty, (_closing_frame([], psn, inputs.year) if opening is None else opening.copy()) if track else None
    closing: list | None = [] if track else None
    out = settle_arrays(inputs.kinds, inputs.kind_id, inputs.person, inputs.year, inputs.scope, pack.rounding, chunk,
                        _opening_arrays(opening, psn, inputs.year), closing)
    head = pd.DataFrame({k: f[k] for k in HEAD_COLS})
    head["dscg_date"] = pd.to_datetime(head["dscg_date"]).dt.date
    res = pd.DataFrame({k: np.broadcast_to(out[k], (n,)).copy() for k in SETLINFO_FIELDS})
    statements = pd.concat([head, res], axis=1)
    statements.attrs.update(unknown_items=inputs.unknown_items, unlisted_chronic=inputs.unlisted_chronic)
    return statements, (_closing_frame(closing, psn, inputs.year) if track else None)


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
    for col, name in (("preselfpay_ppm", "preselfpay_ppm"), ("price_cap_fen", "price_cap")):
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
    """Claims (as a settlement frame), lines and the lake's catalog from a synthetic region folder."""
    from yibao.lake.io import has_table, read_table

    claims = read_table(folder, "claims").to_pandas()
    lines = read_table(folder, "claim_lines", columns=["claim_id", "item_code", "qty", "amount_fen"]).to_pandas()
    persons = read_table(folder, "persons", columns=["psn_no", "birth_date", "sex", "admdvs"]).to_pandas()
    enr = read_table(folder, "enrollments", columns=["psn_no", "insutype", "psn_type", "start_date", "end_date", "civil_servant",
                                                     "emp_no"]).to_pandas()
    inst = read_table(folder, "institutions", columns=["fixmedins_code", "level", "admdvs", "kind"]).to_pandas()
    inst = inst.rename(columns={"kind": "inst_kind"})
    f = claims.merge(persons.rename(columns={"admdvs": "person_admdvs"}), on="psn_no", how="left", indicator=True)
    unknown = f["_merge"] == "left_only"
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ValidationError("psn_no", f"{f['psn_no'].iloc[i]!r} is not in persons", f"claim {f['claim_id'].iloc[i]}")
    f = f.drop(columns="_merge")
    f = f.merge(inst.rename(columns={"admdvs": "inst_admdvs"}), on="fixmedins_code", how="left")
    missing = f["level"].isna()
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise ValidationError("fixmedins_code", f"{f['fixmedins_code'].iloc[i]!r} is not in institutions", f"claim {f['claim_id'].iloc[i]}")
    # the enrolment spell in force at discharge gives psn_type and the 公务员 flag
    e = f[["claim_id", "psn_no", "insutype", "dscg_date"]].merge(enr, on=["psn_no", "insutype"], how="left")
    ok = (e["start_date"].isna() | (e["start_date"] <= e["dscg_date"])) & (e["end_date"].isna() | (e["end_date"] >= e["dscg_date"]))
    e = e[ok].drop_duplicates("claim_id", keep="last")[["claim_id", "psn_type", "civil_servant", "emp_no"]]
    f = f.merge(e, on="claim_id", how="left")
    f["enterprise_supplementary"] = _enterprise_supplementary(folder, f)
    # no spell in force at discharge (a data gap): settle as 在职 / 成年居民 rather than drop the claim
    f["psn_type"] = f["psn_type"].fillna(pd.Series(np.where(f["insutype"] == "310", "11", "15"), index=f.index))
    if has_table(folder, "identities"):
        ids = read_table(folder, "identities").to_pandas()
        j = f[["claim_id", "psn_no", "dscg_date"]].merge(ids, on="psn_no")
        j = j[(j["start_date"].isna() | (j["start_date"] <= j["dscg_date"])) & (j["end_date"].isna() | (j["end_date"] >= j["dscg_date"]))]
        f = f.merge(j.groupby("claim_id")["identity"].agg("|".join).rename("identities"), on="claim_id", how="left")
    f["filing"] = np.where(f["out_of_region"].fillna(False).astype(bool), f["filing"].fillna("unfiled"), "")
    f = _coverage_choices(folder, f)
    opening = _opening_balances(folder, f)
    f["acct_bal"] = _own_balance(f, opening)
    f["fam_bal"] = _family_balance(folder, f, opening)
    catalog = read_table(folder, "catalog").to_pandas() if has_table(folder, "catalog") else None
    return f, lines, catalog


def _claim_years(f: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(f["dscg_date"]).dt.year.astype("int64")


def _enterprise_supplementary(folder: str | Path, f: pd.DataFrame) -> np.ndarray:
    """企业补充医疗保险: the employer of the 310 spell in force at discharge runs it (False when the
    lake's employers do not say: an older lake)."""
    from yibao.lake.io import has_table, read_table

    if not has_table(folder, "employers"):
        return np.zeros(len(f), dtype=bool)
    emp = read_table(folder, "employers", columns=["emp_no", "has_supplementary"]).to_pandas()
    has = f["emp_no"].map(emp.set_index("emp_no")["has_supplementary"].fillna(False).astype(bool))
    return ((f["insutype"] == "310") & has.fillna(False).astype(bool)).to_numpy()


def _coverage_choices(folder: str | Path, f: pd.DataFrame) -> pd.DataFrame:
    """``tier`` and ``supplementary`` of each claim's person in the discharge year, or the latest
    year before it (a stay discharged after New Year); tier 0 and none when the lake has no
    coverage_choices (an older lake)."""
    from yibao.lake.io import has_table, read_table

    if not has_table(folder, "coverage_choices"):
        return f.assign(tier=0, supplementary="")
    ch = read_table(folder, "coverage_choices").to_pandas().drop_duplicates(["psn_no", "year"], keep="last")
    ch = ch.assign(year=ch["year"].astype("int64")).sort_values("year", kind="stable")
    left = f.assign(year=_claim_years(f), _row=np.arange(len(f))).sort_values("year", kind="stable")
    out = pd.merge_asof(left, ch, on="year", by="psn_no", direction="backward")
    out = out.sort_values("_row").drop(columns=["year", "_row"]).reset_index(drop=True)
    out["tier"] = out["tier"].fillna(0).astype("int64")
    out["supplementary"] = out["supplementary"].fillna("")
    return out


def _opening_balances(folder: str | Path, f: pd.DataFrame) -> pd.Series:
    """Opening 个人账户 balance (fen) per person at 1 January of the claims' year (empty when the lake
    has no account_balances: an older lake)."""
    from yibao.lake.io import has_table, read_table

    if not has_table(folder, "account_balances") or not len(f):
        return pd.Series(dtype="int64")
    b = read_table(folder, "account_balances").to_pandas()
    b = b[b["year"].astype("int64") == int(_claim_years(f).mode().iloc[0])]
    return b.groupby("psn_no")["balance_fen"].sum().astype("int64")


def _own_balance(f: pd.DataFrame, per_person: pd.Series) -> np.ndarray:
    """A claim's 个人账户 balance: its person's, on 职工 (310) claims only."""
    bal = f["psn_no"].map(per_person).fillna(0).to_numpy(dtype=I64)
    return np.where(f["insutype"].to_numpy() == "310", bal, 0)


def _family_balance(folder: str | Path, f: pd.DataFrame, per_person: pd.Series) -> np.ndarray:
    """家庭共济: the balances of the other members of the person's household (``persons.household_id``,
    the registry's family), each divided among the members who may draw on it, so a household's
    accounts are not counted twice over its dependants."""
    from yibao.lake.io import read_table

    if not len(per_person) or not len(f):
        return np.zeros(len(f), dtype=I64)
    hh = read_table(folder, "persons", columns=["psn_no", "household_id"]).to_pandas().dropna()
    own = hh["psn_no"].map(per_person).fillna(0).to_numpy(dtype=I64)
    g = hh.groupby("household_id")["psn_no"].transform("size").to_numpy(dtype=I64)
    total = pd.Series(own).groupby(hh["household_id"].to_numpy()).transform("sum").to_numpy(dtype=I64)
    # each other member's balance ÷ (household size − 1): sum over the others of b / (g − 1)
    fam = pd.Series(np.where(g > 1, (total - own) // np.maximum(g - 1, 1), 0), index=hh["psn_no"].to_numpy())
    return f["psn_no"].map(fam).fillna(0).to_numpy(dtype=I64)


def settle_lake(folder: str | Path, pack: Pack | str = "demo", catalog: Any = None,
                accounts: bool = True, opening: pd.DataFrame | None = None,
                closing: bool = False) -> tuple[pd.DataFrame, dict]:
    """Settle a synthetic region's year; returns (one row per claim, fen; summary).

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
    """
    pack = load_pack(pack) if isinstance(pack, str) else pack
    f, lines, lake_catalog = lake_frame(folder)
    note = "account balances: none"
    f["acct_bal"], f["fam_bal"] = 0, 0
    if accounts and len(f):
        f["acct_bal"], f["fam_bal"], note = _account_balances(folder, f, pack)
    if catalog is None:
        catalog = lake_catalog if lake_catalog is not None else _shipped_catalog()
    result, after = _settle(f, lines, pack, catalog, opening, False, CHUNK, closing)
    summary = summarize(result)
    summary["note"] = "; ".join([note] + data_gaps(result.attrs))
    if closing:
        summary["accumulators"] = after
    return result, summary


def _account_balances(folder: str | Path, f: pd.DataFrame, pack: Pack) -> tuple[np.ndarray, np.ndarray, str]:
    """(own balance, family balance, note) per claim: opening balance + the year's accruals."""
    from yibao.lake.io import read_table
    from yibao.registry.accounts import account_accruals_for_year

    year = int(_claim_years(f).mode().iloc[0])
    opening = _opening_balances(folder, f)
    start = f"opening balances at 1 January {year} + " if len(opening) else "no opening balances in the lake; "
    try:
        acc = account_accruals_for_year(read_table(folder, "enrollments").to_pandas(),
                                        read_table(folder, "persons", columns=["psn_no", "birth_date"]).to_pandas(),
                                        pack, year)
    except (ValidationError, PolicyError) as e:  # settle on the opening balances rather than fail the year
        return (_own_balance(f, opening), _family_balance(folder, f, opening),
                f"account balances: {start.removesuffix(' + ').removesuffix('; ')} only, no accruals ({e})")
    per_person = acc.groupby("psn_no")["amount_fen"].sum().astype("int64").add(opening, fill_value=0).astype("int64")
    return (_own_balance(f, per_person), _family_balance(folder, f, per_person),
            f"account balances: {start}{year} accruals, available from 1 January")


def _shipped_catalog() -> Any:
    """The catalog shipped with yibao, when the lake carries none."""
    try:
        from yibao.catalog.items import Catalog
    except ImportError:  # pragma: no cover - the catalog part is always installed with yibao
        return None
    return Catalog.shipped()


def data_gaps(counts: dict) -> list[str]:
    """What a year settled leniently took as it came (lines of unknown items, unlisted 门诊慢特病), said."""
    said = []
    if counts.get("unknown_items"):
        said.append(f"{counts['unknown_items']:,} lines name items in no catalog: settled as 目录外 (self-paid)")
    if counts.get("unlisted_chronic"):
        said.append(f"{counts['unlisted_chronic']:,} 门诊慢特病 claims name a disease the pack does not list: "
                    "the fund pays them nothing")
    return said


def summarize(result: pd.DataFrame) -> dict:
    funds = ["hifp_pay", "cvlserv_pay", "hifes_pay", "hifob_pay", "hifmi_pay", "maf_pay", "oth_pay", "fund_pay_sumamt",
             "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "hosp_part_amt", "medfee_sumamt", "inscp_scp_amt"]
    out: dict = {"claims": int(len(result)), "by_insutype": {}}
    inpatient = result["med_type"].isin(sorted(INPATIENT_MED_TYPES))
    for ins, g in result.groupby("insutype"):
        totals = {k: int(g[k].sum()) for k in funds}
        gi = g[inpatient.loc[g.index]]
        paid = lambda x: int(x["hifp_pay"].sum() + x["hifmi_pay"].sum() + x["hifob_pay"].sum())  # noqa: E731
        out["by_insutype"][str(ins)] = {
            "claims": int(len(g)), "totals_fen": totals,
            "inscope_ratio": paid(g) / totals["inscp_scp_amt"] if totals["inscp_scp_amt"] else None,
            "inscope_ratio_inpatient": paid(gi) / int(gi["inscp_scp_amt"].sum()) if int(gi["inscp_scp_amt"].sum()) else None,
        }
    return out


__all__ = ["claim_scope", "settle_arrays", "settle_frame", "settle_batch", "settle_lake", "lake_frame", "summarize"]
