"""The lake's claims as settlement input, read part by part.

A lake writes its claims and their lines in paired parts (``claims/part-k`` holds whole persons, and
``claim_lines/part-k`` the lines of those claims: see :class:`yibao.lake.io.ChunkWriter`), so a year is
settled one part at a time in bounded memory. What a claim needs from the rest of the lake — the
person (sex, birth date), the enrolment spell in force at discharge (人员类别, 公务员, the employer's
企业补充医疗保险), the identities in force, the year's contribution tier and voluntary tiers, the
opening 个人账户 and 家庭共济 balances, the institution (level, kind, place) — is read once and kept
as arrays indexed by person, then gathered for each part's claims by number, never joined by text.

Columns come out in the settlement front-end's form (:mod:`yibao.settlement.inputs`): text
dictionary-encoded, dates as datetime64[D], amounts as int64 fen.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao import coded, vocab
from yibao.coded import Coded, encode
from yibao.errors import PolicyError, ValidationError
from yibao.lake.io import UNREADABLE, has_table, read_table, table_path
from yibao.lake.parts import PartFiles, Tables, part_tables, parts
from yibao.money import MAX_AMOUNT_FEN

I64 = np.int64
DAY_BITS = 20  # a day number (since 1970) fits in 20 bits until the year 4840


def _days(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype="datetime64[D]")


def _index(values, keys: pa.Array, what: str, table: str, ids) -> np.ndarray:
    """Position of each value in ``keys``; a value that is not there is refused, naming the record.
    Dictionary-encoded values are looked up once per distinct value."""
    if pa.types.is_dictionary(values.type):
        by_code = encode(values)
        found = pc.index_in(pa.array(by_code.categories, pa.string()), value_set=keys).fill_null(-1)
        pos = found.to_numpy(zero_copy_only=False).astype(I64)[by_code.codes]
    else:
        pos = pc.index_in(values, value_set=keys).fill_null(-1).to_numpy(zero_copy_only=False).astype(I64)
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise ValidationError(what, f"{values[i].as_py()!r} is not in {table}", f"claim {ids[i].as_py()}")
    return pos


def _increasing(ids: pa.Array) -> bool:
    """Ids in strictly increasing order (as a lake writes them), so distinct without hashing them."""
    return len(ids) < 2 or pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py()


def _person_index(values, psn: pa.Array, ids) -> np.ndarray:
    """Position of each claim's person among the lake's (distinct) persons: the part's few distinct
    persons are looked up by hashing them, not the whole region's persons once per part."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    coded_psn = pc.dictionary_encode(values)
    distinct = coded_psn.dictionary
    where = pc.index_in(psn, value_set=distinct).to_numpy(zero_copy_only=False)
    listed = ~np.isnan(where) if where.dtype.kind == "f" else np.ones(len(where), bool)
    at = np.full(len(distinct), -1, dtype=I64)
    at[where[listed].astype(I64)] = np.flatnonzero(listed)
    person = np.where(coded_psn.indices.is_null().to_numpy(zero_copy_only=False), -1,
                      at[coded_psn.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(I64)] if len(at) else -1)
    if (person < 0).any():
        i = int(np.flatnonzero(person < 0)[0])
        raise ValidationError("psn_no", f"{values[i].as_py()!r} is not in persons", f"claim {ids[i].as_py()}")
    return person.astype(I64)


@dataclass
class People:
    """Everything a claim needs from the lake that is not the claim, indexed by person."""

    psn_no: pa.Array
    sex: Coded
    birth: np.ndarray
    spells: dict[str, np.ndarray]
    identities: dict[str, Any]
    coverage: dict[str, Any]
    acct: np.ndarray
    fam: np.ndarray
    institutions: dict[str, Any]
    note: str = ""
    gaps: dict[str, int] = field(default_factory=dict)


def read_people(folder: str | Path, pack=None, accounts: bool = True) -> People:
    """The person-level tables of a lake, once (see the module docstring). With ``accounts`` and a
    ``pack``, employees' 个人账户 balance is the opening balance at 1 January plus the year's accruals."""
    persons = read_table(folder, "persons", columns=["psn_no", "sex", "birth_date", "household_id"])
    psn = persons["psn_no"].combine_chunks()
    if pc.count_distinct(psn).as_py() != len(psn):
        raise ValidationError("psn_no", "a person is listed twice", str(table_path(folder, "persons")))
    n = len(psn)
    with ThreadPoolExecutor(2) as pool:  # independent tables; Arrow reads and looks up without the GIL
        spells, identities, coverage = (pool.submit(read, folder, psn) for read in (_spells, _identities, _coverage))
        institutions = pool.submit(_institutions, folder)
        year = main_year(folder)
        acct, fam, note = _balances(folder, persons, psn, pack, year) if accounts else (
            np.zeros(n, I64), np.zeros(n, I64), "account balances: none")
        return People(psn, encode(persons["sex"]), _days(persons["birth_date"]), spells.result(), identities.result(),
                      coverage.result(), acct, fam, institutions.result(), note)


def main_year(folder) -> int:
    """The year most claims are discharged in (the year a lake describes): counted from the Parquet
    statistics of each row group whose discharges all fall in one year, else from the dates."""
    counts = _year_counts_from_statistics(folder)
    if counts is None:
        counts = _year_counts(read_table(folder, "claims", columns=["dscg_date"])["dscg_date"])
    return max(counts, key=counts.get) if counts else 0  # the first year of the most claims


def _year_counts(dates) -> dict[int, int]:
    """Claims by discharge year, years in order of first appearance."""
    counts = pc.value_counts(pc.year(dates))
    return {int(y): int(n) for y, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())
            if y is not None}


def _year_counts_from_statistics(folder) -> dict[int, int] | None:
    """:func:`_year_counts` of the claims files, a row group read only when its dates span two years;
    None when the files' dates are not stored as dates with statistics."""
    import datetime as dt

    import pyarrow.parquet as pq

    counts: dict[int, int] = {}
    try:
        for path in ([table_path(folder, "claims")] if table_path(folder, "claims").is_file()
                     else sorted(table_path(folder, "claims").glob("*.parquet"))):
            f = pq.ParquetFile(path)
            paths = [f.metadata.schema.column(i).path for i in range(f.metadata.num_columns)]
            col = paths.index("dscg_date") if "dscg_date" in paths else -1
            if col < 0 or f.schema_arrow.field("dscg_date").type != pa.date32():
                return None
            for g in range(f.metadata.num_row_groups):
                st = f.metadata.row_group(g).column(col).statistics
                if st is None or not st.has_min_max or not isinstance(st.min, dt.date):
                    return None
                if st.min.year == st.max.year and not st.null_count:
                    counts[st.min.year] = counts.get(st.min.year, 0) + f.metadata.row_group(g).num_rows
                else:
                    for y, n in _year_counts(f.read_row_group(g, columns=["dscg_date"])["dscg_date"]).items():
                        counts[y] = counts.get(y, 0) + n
    except UNREADABLE:
        return None  # the full read names what is wrong
    return counts


def _spells(folder, psn: pa.Array) -> dict[str, np.ndarray]:
    """Enrolment spells sorted by (person, scheme, start), for the spell in force at a discharge."""
    e = read_table(folder, "enrollments", columns=["psn_no", "insutype", "psn_type", "start_date", "end_date",
                                                    "civil_servant", "emp_no"])
    person = pc.index_in(e["psn_no"], value_set=psn).fill_null(-1).to_numpy(zero_copy_only=False).astype(I64)
    scheme = (pc.equal(e["insutype"], vocab.RESIDENT).to_numpy(zero_copy_only=False)).astype(I64)
    start = _days(e["start_date"]).astype(I64)
    end = _days(e["end_date"])
    key = ((person * 2 + scheme) << DAY_BITS) + start
    order = np.argsort(key, kind="stable")
    supplementary = _employer_supplementary(folder, e["emp_no"])
    return {"key": key[order], "end": end[order], "psn_type": encode(e["psn_type"])[order],
            "civil_servant": e["civil_servant"].fill_null(False).to_numpy(zero_copy_only=False)[order].astype(bool),
            "enterprise": supplementary[order] & (scheme[order] == 0)}


def _employer_supplementary(folder, emp_no) -> np.ndarray:
    """企业补充医疗保险: the spell's employer runs it (False when the lake's employers do not say)."""
    if not has_table(folder, "employers"):
        return np.zeros(len(emp_no), dtype=bool)
    emp = read_table(folder, "employers", columns=["emp_no", "has_supplementary"])
    at = pc.index_in(emp_no, value_set=emp["emp_no"].combine_chunks()).fill_null(-1).to_numpy(zero_copy_only=False)
    has = emp["has_supplementary"].fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    return np.where(at >= 0, has[np.maximum(at, 0)] if len(has) else False, False)


def _identities(folder, psn: pa.Array) -> dict[str, Any]:
    """Identity spells of the listed persons, sorted by person (each person's in the table's order)."""
    if not has_table(folder, "identities"):
        return {"person": np.zeros(0, I64), "identity": encode(None, 0), "start": np.zeros(0, "datetime64[D]"),
                "end": np.zeros(0, "datetime64[D]")}
    t = read_table(folder, "identities")
    person = pc.index_in(t["psn_no"], value_set=psn).fill_null(-1).to_numpy(zero_copy_only=False).astype(I64)
    order = np.flatnonzero(person >= 0)
    order = order[np.argsort(person[order], kind="stable")]
    return {"person": person[order], "identity": encode(t["identity"])[order], "start": _days(t["start_date"])[order],
            "end": _days(t["end_date"])[order]}


def _coverage(folder, psn: pa.Array) -> dict[str, Any]:
    """Contribution tier and voluntary tiers by (person, year), sorted for the latest year ≤ a claim's."""
    if not has_table(folder, "coverage_choices"):
        return {}
    t = read_table(folder, "coverage_choices")
    if not t.num_rows:
        return {}
    person = pc.index_in(t["psn_no"], value_set=psn).fill_null(-1).to_numpy(zero_copy_only=False).astype(I64)
    key = person * 10_000 + t["year"].to_numpy(zero_copy_only=False).astype(I64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    last = np.append(key[1:] != key[:-1], True)  # a person-year given twice: the last row counts
    order, key = order[last], key[last]
    return {"key": key, "tier": t["tier"].fill_null(0).to_numpy(zero_copy_only=False).astype(I64)[order],
            "supplementary": encode(t["supplementary"])[order]}


def _institutions(folder) -> dict[str, Any]:
    t = read_table(folder, "institutions", columns=["fixmedins_code", "level", "admdvs", "kind"])
    return {"code": t["fixmedins_code"].combine_chunks(), "level": encode(t["level"]), "admdvs": encode(t["admdvs"]),
            "kind": encode(t["kind"])}


def _balances(folder, persons: pa.Table, psn: pa.Array, pack, year: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(own 个人账户 balance, 家庭共济 balance, note) per person: the opening balance at 1 January of
    ``year`` plus the year's accruals; the family balance is the other household members' balances,
    each divided among its holder's other members, so no account is counted twice."""
    n = len(psn)
    own = np.zeros(n, I64)
    start = "no opening balances in the lake; "
    if has_table(folder, "account_balances"):
        b = read_table(folder, "account_balances")
        b = b.filter(pc.equal(b["year"], year))
        at = pc.index_in(b["psn_no"], value_set=psn).fill_null(-1).to_numpy(zero_copy_only=False)
        ok = at >= 0
        np.add.at(own, at[ok], b["balance_fen"].to_numpy(zero_copy_only=False).astype(I64)[ok])
        if len(b):
            start = f"opening balances at 1 January {year} + "
    note = f"account balances: {start}{year} accruals, available from 1 January"
    if pack is not None:
        from yibao.registry.accounts import SPELL_COLUMNS, account_accrual_totals

        try:
            own += account_accrual_totals(read_table(folder, "enrollments", columns=list(SPELL_COLUMNS)), psn,
                                          _days(persons["birth_date"]), pack, year)
        except (ValidationError, PolicyError) as e:  # settle on the opening balances rather than fail the year
            note = f"account balances: {start.removesuffix(' + ').removesuffix('; ')} only, no accruals ({e})"
    return own, _family(persons, own), note


def _family(persons: pa.Table, own: np.ndarray) -> np.ndarray:
    household = persons["household_id"]
    if household.null_count == len(household):
        return np.zeros(len(own), I64)
    coded_hh = pc.dictionary_encode(household.combine_chunks())  # by code: the households are many
    groups = len(coded_hh.dictionary) + 1  # the last: persons of no household, each alone
    hh = coded_hh.indices.fill_null(groups - 1).to_numpy(zero_copy_only=False).astype(I64)
    alone = hh == groups - 1
    size = np.bincount(hh, minlength=groups)[hh]
    total = np.bincount(hh, weights=own, minlength=groups).astype(I64)[hh]
    fam = np.where((size > 1) & ~alone, (total - own) // np.maximum(size - 1, 1), 0)
    return fam.astype(I64)


def read_part(claims_path: Path, lines_path: Path | None, people: People, seen: np.ndarray,
              tables: Tables | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """One part's claims and lines as the front-end's columns (from its ``tables`` when already read).
    ``seen`` marks the persons of earlier parts: a person whose claims span two parts would settle as
    two people, and is refused."""
    t, line_table = tables or part_tables(claims_path, lines_path)
    ids = t["claim_id"].combine_chunks()
    if not _increasing(ids) and pc.count_distinct(ids).as_py() != len(ids):
        dup = pc.value_counts(ids).filter(pc.greater(pc.value_counts(ids).field("counts"), 1))[0]["values"].as_py()
        raise ValidationError("claim_id", f"{dup!r} is given twice", str(claims_path))
    person = _person_index(t["psn_no"], people.psn_no, ids)
    if seen[person].any():
        i = int(np.flatnonzero(seen[person])[0])
        raise ValidationError("psn_no", f"{t['psn_no'][i].as_py()!r} has claims in an earlier part too: a part holds "
                              "whole persons", str(claims_path))
    seen[person] = True
    inst = _index(t["fixmedins_code"], people.institutions["code"], "fixmedins_code", "institutions", ids)
    dscg = _days(t["dscg_date"])
    insutype = encode(t["insutype"])
    scheme = np.asarray(insutype == vocab.RESIDENT).astype(I64)
    claims = {"claim_id": ids, "psn_no": t["psn_no"], "person": person, "insutype": insutype,
              "med_type": encode(t["med_type"]), "dscg_date": dscg, "adm_date": _days(t["adm_date"]),
              "diagnoses": encode(t["diagnoses"]), "chronic_disease": encode(t["chronic_disease"]),
              "sex": people.sex[person], "birth_date": people.birth[person]}
    claims.update(_spell_at(people, person, scheme, dscg))
    claims["identities"] = _identities_at(people.identities, person, dscg)
    claims.update(_coverage_at(people.coverage, person, dscg))
    out = t["out_of_region"].fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    filing = coded.mapped(encode(t["filing"], default="unfiled"), lambda v: v or "unfiled")
    claims["filing"] = _where(out, filing, _constant("", len(out)))
    employee = scheme == 0
    claims["acct_bal"] = np.where(employee, people.acct[person], 0)
    claims["fam_bal"] = np.where(employee, people.fam[person], 0)
    claims["level"] = people.institutions["level"][inst]
    claims["inst_kind"] = people.institutions["kind"][inst]
    claims["inst_admdvs"] = people.institutions["admdvs"][inst]
    return claims, _lines(lines_path, line_table, ids)


def part_columns(files: PartFiles, people: People) -> Callable[[], tuple[dict[str, Any], dict[str, Any]]]:
    """A function that gives the next part of ``files`` as the front-end's columns each time it is
    called, in part order (a person's claims may not reach into an earlier part)."""
    seen = np.zeros(len(people.psn_no), dtype=bool)
    return lambda: _columns(files.next(), people, seen)  # no name holds the tables while the caller works


def _columns(read: tuple[tuple[Path, Path | None], Tables], people: People, seen: np.ndarray):
    (claims_path, lines_path), tables = read
    return read_part(claims_path, lines_path, people, seen, tables)


def _spell_at(people: People, person, scheme, dscg) -> dict[str, Any]:
    """人员类别, 公务员 and 企业补充 from the spell in force at discharge; a claim with none (a gap in the
    data) settles as 在职 / 成年居民 and is counted."""
    s = people.spells
    fallback = Coded(scheme, np.array([vocab.ACTIVE, vocab.ADULT_RESIDENT], dtype=object))
    if not len(s["key"]):
        s = {"key": np.full(1, -1, I64), "end": np.full(1, np.datetime64("NaT"), "datetime64[D]"),
             "psn_type": _constant("", 1), "civil_servant": np.zeros(1, bool), "enterprise": np.zeros(1, bool)}
    key = ((person * 2 + scheme) << DAY_BITS) + dscg.astype(I64)
    at = np.maximum(np.searchsorted(s["key"], key, side="right") - 1, 0)
    ok = ((s["key"][at] >> DAY_BITS) == (person * 2 + scheme)) & (s["key"][at] <= key)
    ok &= np.isnat(s["end"][at]) | (s["end"][at] >= dscg)
    people.gaps["no_spell"] = people.gaps.get("no_spell", 0) + int((~ok).sum())
    return {"psn_type": _where(ok, s["psn_type"][at], fallback),
            "civil_servant": ok & s["civil_servant"][at], "enterprise_supplementary": ok & s["enterprise"][at]}


def _identities_at(ids: dict[str, Any], person: np.ndarray, dscg: np.ndarray) -> Coded:
    """The '|'-joined identities in force at each claim's discharge (few persons hold one), each
    distinct combination joined once."""
    lo = np.searchsorted(ids["person"], person, side="left")
    count = np.searchsorted(ids["person"], person, side="right") - lo
    claim = np.repeat(np.arange(len(person)), count)  # a (claim, identity spell) pair per spell of its person
    first = np.cumsum(count) - count
    row = lo[claim] + np.arange(len(claim)) - first[claim]
    day, start, end = dscg[claim], ids["start"][row], ids["end"][row]
    held = (np.isnat(start) | (start <= day)) & (np.isnat(end) | (end >= day))
    claim, row = claim[held], row[held]
    if not len(claim):
        return encode(None, len(person))
    new = np.r_[True, claim[1:] != claim[:-1]]
    runs = np.flatnonzero(new)
    nth = np.arange(len(claim)) - np.repeat(runs, np.diff(np.r_[runs, len(claim)]))
    grid = np.full((len(runs), int(nth.max()) + 1), -1, dtype=I64)  # each holding claim's identity codes in order
    grid[np.cumsum(new) - 1, nth] = ids["identity"].codes[row]
    radix = len(ids["identity"].categories) + 1
    if radix ** grid.shape[1] < 1 << 62:  # each combination as one number
        combos, which = np.unique((grid + 1) @ radix ** np.arange(grid.shape[1], dtype=I64), return_inverse=True)
        combos = ((combos[:, None] // radix ** np.arange(grid.shape[1], dtype=I64)) % radix) - 1
    else:
        combos, which = np.unique(grid, axis=0, return_inverse=True)
    names = ids["identity"].categories
    joined = encode(np.array([""] + ["|".join(names[c] for c in combo if c >= 0) for combo in combos], dtype=object))
    codes = np.zeros(len(person), dtype=I64)
    codes[claim[runs]] = which.reshape(-1) + 1
    return Coded(joined.codes[codes], joined.categories)


def _coverage_at(cov: dict[str, Any], person: np.ndarray, dscg: np.ndarray) -> dict[str, Any]:
    """The contribution tier and voluntary tiers of the claim's year, or the latest year before it."""
    if not cov:
        return {"tier": np.zeros(len(person), I64), "supplementary": encode(None, len(person))}
    year = dscg.astype("datetime64[Y]").astype(I64) + 1970
    key = person * 10_000 + year
    at = np.searchsorted(cov["key"], key, side="right") - 1
    safe = np.maximum(at, 0)
    ok = (at >= 0) & (cov["key"][safe] // 10_000 == person)
    return {"tier": np.where(ok, cov["tier"][safe], 0),
            "supplementary": _where(ok, cov["supplementary"][safe], _constant("", len(ok)))}


def _lines(path: Path | None, t: pa.Table | None, ids: pa.Array) -> dict[str, Any]:
    if t is None:
        return {"claim": np.zeros(0, I64), "amount": np.zeros(0, I64), "qty_milli": np.zeros(0, I64)}
    at = _claim_positions(t["claim_id"].combine_chunks(), ids)
    if (at < 0).any():
        i = int(np.flatnonzero(at < 0)[0])
        raise ValidationError("claim_id", f"line of claim {t['claim_id'][i].as_py()!r}, which is not in the claims "
                              "part beside it", str(path))
    amount = t["amount_fen"].fill_null(0).to_numpy(zero_copy_only=False).astype(I64)
    if (amount > MAX_AMOUNT_FEN).any():
        i = int(np.flatnonzero(amount > MAX_AMOUNT_FEN)[0])
        raise ValidationError("amount_fen", f"{amount[i]} fen is above the largest amount a bill may carry",
                              f"{path} row {i}")
    qty = t["qty"].fill_null(1).to_numpy(zero_copy_only=False)
    return {"claim": at, "amount": amount, "qty_milli": np.rint(np.asarray(qty, dtype=float) * 1000).astype(I64),
            "item_code": encode(t["item_code"])}


def _constant(value: str, n: int) -> Coded:
    return Coded(np.zeros(n, dtype=I64), np.array([value], dtype=object))


def _where(mask: np.ndarray, a: Coded, b: Coded) -> Coded:
    """``a`` where ``mask``, else ``b``, by code (the few categories merged, never the values hashed)."""
    both = encode(np.concatenate([a.categories, b.categories]))
    return Coded(both.codes[np.where(mask, a.codes, b.codes + len(a.categories))], both.categories)


def _claim_positions(line_ids: pa.Array, ids: pa.Array) -> np.ndarray:
    """Each line's claim position in ``ids`` (−1: none). Lines written claim by claim in the claims'
    order (as the lake writes them) are placed by comparing one id per run; any other order is
    looked up by hash."""
    n = len(line_ids)
    if n:
        new = np.ones(n, dtype=bool)
        new[1:] = pc.not_equal(line_ids.slice(1), line_ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        starts = np.flatnonzero(new)
        if len(starts) == len(ids) and pc.all(pc.equal(line_ids.take(pa.array(starts)), ids)).as_py():
            return np.cumsum(new, dtype=I64) - 1
    return pc.index_in(line_ids, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False).astype(I64)


def lake_parts(folder: str | Path, people: People, ahead: bool = True,
               files: PartFiles | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Each part's (claims, lines) columns, in the lake's part order. With ``ahead``, the next part is
    read and made columns on a second thread while the caller works on this one; without, its files
    are read ahead (``files``, or made here) and made columns when the caller asks, so that memory
    holds one part's columns and the next part's tables."""
    if not ahead:
        files = files or PartFiles(folder)
        take = part_columns(files, people)
        try:
            for _ in range(len(files)):
                yield take()
        finally:
            files.close()
        return
    pairs, seen = parts(folder), np.zeros(len(people.psn_no), dtype=bool)
    with ThreadPoolExecutor(1) as reader:
        ahead = reader.submit(read_part, *pairs[0], people, seen) if pairs else None
        for k in range(len(pairs)):
            part = ahead.result()
            ahead = reader.submit(read_part, *pairs[k + 1], people, seen) if k + 1 < len(pairs) else None
            yield part


__all__ = ["People", "lake_parts", "main_year", "part_columns", "read_part", "read_people"]
