"""Validation before write: every record is checked before it reaches the store.

One set of rules serves both paths. ``check_table(table, data)`` validates a whole Arrow table or
pandas DataFrame in the lake schema column by column (pyarrow compute and numpy, no per-row Python)
and raises a ``ValidationError`` for the first bad row, naming the row, the field and the problem.
``check_record(table, dict)`` runs the same rules on one record (the repositories call it). The
per-table helpers (``person``, ``enrollment`` …) are thin wrappers over ``check_record``.

ICD codes are checked only when a code-set validator is given (a callable that raises, or returns
False, for an unknown code — e.g. ``yibao.catalog.codes.icd10().validate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yibao import ids, vocab
from yibao.errors import ValidationError, YibaoError
from yibao.lake.schema import FRAUD_LABELS, TABLES
from yibao.money import MAX_AMOUNT_FEN

CodeValidator = Callable[[str], Any]

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_CREDIT_INDEX = np.full(256, -1, dtype=np.int64)
_CREDIT_INDEX[np.frombuffer(_CREDIT_CHARS.encode(), dtype=np.uint8)] = np.arange(31)
_PROVINCES = pa.array(sorted(ids.PROVINCES))

FILINGS = ("filed", "referred", "emergency", "unfiled")  # 异地就医 备案 status
INSUTYPES = (vocab.EMPLOYEE, vocab.RESIDENT)  # the schemes a person enrolls in (320 rides on 310)
KEYS = {  # the column that names a record in messages (and must be unique in a file)
    "regions": ("admdvs",),
    "employers": ("emp_no",),
    "persons": ("psn_no",),
    "enrollments": ("spell_id",),
    "identities": ("psn_no", "identity", "start_date"),
    "institutions": ("fixmedins_code",),
    "catalog": ("item_code", "begin_date"),
    "contributions": ("psn_no", "year", "insutype"),
    "claims": ("claim_id",),
    "claim_lines": ("claim_id", "line_no"),
    "fraud_labels": ("claim_id", "label"),
    "coverage_choices": ("psn_no", "year"),
    "account_balances": ("psn_no", "year"),
}
UPPER = {"persons": ("certno",), "employers": ("uscc",), "institutions": ("fixmedins_code",),
         "claims": ("fixmedins_code",)}
# The largest amount one record may carry in any ``*_fen`` column (yibao.money.MAX_AMOUNT_FEN, 1亿元): the
# dearest single treatments cost a few million 元 (CAR-T about 1.2 million), so a larger line, claim,
# wage or balance is a unit or data error; below it, int64 sums stay exact over 9 × 10^8 records.
# A line's amount is its price times its quantity rounded to the fen (half-up or truncated, by region),
# so it lies strictly within one fen of the product.
LINE_AMOUNT_TOLERANCE_FEN = 1


@dataclass(frozen=True)
class Failure:
    """A rule's verdict on a table: which rows break it and how to describe the break at a row."""

    field: str
    bad: np.ndarray  # bool per row
    problem: Callable[[int], str]


# ---------------------------------------------------------------- column helpers (Arrow → numpy)

def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _val(t: pa.Table, field: str, row: int) -> Any:
    return t.column(field)[row].as_py()


def _missing(t: pa.Table, field: str) -> np.ndarray:
    col = t.column(field)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return _np(pc.or_kleene(pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), "")))
    return _np(pc.is_null(col))


def _regex_bad(col: pa.ChunkedArray, pattern: str) -> np.ndarray:
    return _np(pc.invert(pc.match_substring_regex(col, pattern)))


def _not_in(col: pa.ChunkedArray, values: Iterable[str]) -> np.ndarray:
    outside = pc.invert(pc.is_in(col, value_set=pa.array(list(values), type=col.type)))
    return _np(pc.and_(outside, pc.is_valid(col)))


def _admdvs_bad(col: pa.ChunkedArray) -> np.ndarray:
    shape = _regex_bad(col, r"^\d{6}$")
    province = _np(pc.invert(pc.is_in(pc.utf8_slice_codeunits(col, 0, 2), value_set=_PROVINCES)))
    return shape | (province & _np(pc.is_valid(col)))


def _char_matrix(col: pa.ChunkedArray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of exactly ``width`` ASCII bytes as a (n, width) uint8 matrix, and the mask of such rows."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    ok = _np(pc.equal(pc.binary_length(col), width))
    arr = pc.if_else(pa.array(ok), col, "0" * width).cast(pa.string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if len(arr) else np.zeros(0, np.uint8)
    m = data[offsets[0]: offsets[0] + width * len(arr)].reshape(len(arr), width)
    return m, ok


def certno_bad(col: pa.ChunkedArray) -> np.ndarray:
    """GB 11643 shape, province, birth date and check character, vectorised."""
    bad = _regex_bad(col, r"^\d{17}[\dX]$") | _np(
        pc.invert(pc.is_in(pc.utf8_slice_codeunits(col, 0, 2), value_set=_PROVINCES)))
    born = pc.strptime(pc.utf8_slice_codeunits(col, 6, 14), format="%Y%m%d", unit="s", error_is_null=True)
    bad |= _np(pc.is_null(born)) | _np(pc.less(pc.year(born), 1880))
    m, ok = _char_matrix(col, 18)
    digits = m[:, :17].astype(np.int64) - 48
    expected = _ID_CHECK[(np.clip(digits, 0, 9) * _ID_WEIGHTS).sum(axis=1) % 11]
    return bad | ~ok | (m[:, 17] != expected)


def certno_birth_sex(col: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Birth date (date32) and sex ('1' odd 17th digit, '2' even) encoded in valid ID numbers."""
    shaped = pc.match_substring_regex(col, r"^\d{17}[\dX]$")
    col = pc.if_else(shaped, col, pa.scalar(None, pa.string()))
    born = pc.cast(pc.strptime(pc.utf8_slice_codeunits(col, 6, 14), format="%Y%m%d", unit="s",
                               error_is_null=True), pa.date32())
    odd = pc.equal(pc.bit_wise_and(pc.cast(pc.utf8_slice_codeunits(col, 16, 17), pa.int8()), 1), 1)
    sex = pc.if_else(odd, "1", "2")
    return born, sex


def credit_bad(col: pa.ChunkedArray) -> np.ndarray:
    """GB 32100 character set, region code and check character, vectorised."""
    m, ok = _char_matrix(col, 18)
    idx = _CREDIT_INDEX[m]
    bad = ~ok | (idx < 0).any(axis=1)
    bad |= _np(pc.invert(pc.is_in(pc.utf8_slice_codeunits(col, 2, 4), value_set=_PROVINCES)))
    total = (np.clip(idx[:, :17], 0, None) * _CREDIT_WEIGHTS).sum(axis=1)
    expected = (31 - total % 31) % 31
    return bad | (idx[:, 17] != expected)


def fixmedins_bad(col: pa.ChunkedArray) -> np.ndarray:
    return _regex_bad(col, r"^[HP]\d{11}$") | _admdvs_bad(pc.utf8_slice_codeunits(col, 1, 7))


# ---------------------------------------------------------------- rule builders

def _scalar_problem(check: Callable[[Any], Any], fallback: str, t: pa.Table, field: str) -> Callable[[int], str]:
    """Describe a bad value with the scalar validator's own words (it raises on the same values)."""

    def problem(row: int) -> str:
        value = _val(t, field, row)
        try:
            check(value)
        except ValidationError as e:
            return e.problem
        return f"{value!r} {fallback}"

    return problem


def _required(t: pa.Table, *fields: str) -> list[Failure]:
    return [Failure(f, _missing(t, f), lambda r: "is required") for f in fields if f in t.column_names]


def _nonneg(t: pa.Table, *fields: str) -> list[Failure]:
    return [Failure(f, _np(pc.less(t.column(f), 0)), lambda r, f=f: f"{_val(t, f, r)} is negative")
            for f in fields]


def _amounts_bounded(t: pa.Table) -> list[Failure]:
    """Every ``*_fen`` column within ±MAX_AMOUNT_FEN (signs are the tables' own rules)."""
    return [Failure(f, _np(pc.or_(pc.greater(t.column(f), MAX_AMOUNT_FEN), pc.less(t.column(f), -MAX_AMOUNT_FEN))),
                    lambda r, f=f: f"{_val(t, f, r):,} fen is beyond the bound of {MAX_AMOUNT_FEN:,} fen "
                                   "(1亿元) for one record")
            for f in t.column_names if f.endswith("_fen")]


def _values(t: pa.Table, field: str, allowed: Iterable[str]) -> Failure:
    allowed = list(allowed)
    return Failure(field, _not_in(t.column(field), allowed),
                   lambda r: f"{_val(t, field, r)!r} is not one of {', '.join(allowed)}")


def _after(t: pa.Table, start: str, end: str, what: str = "before") -> Failure:
    return Failure(end, _np(pc.less(t.column(end), t.column(start))),
                   lambda r: f"{_val(t, end, r)} is {what} {start} {_val(t, start, r)}")


def _admdvs(t: pa.Table, *fields: str) -> list[Failure]:
    return [Failure(f, _admdvs_bad(t.column(f)), _scalar_problem(ids.validate_admdvs, "is no admdvs", t, f))
            for f in fields]


def _codes(t: pa.Table, field: str, validator: CodeValidator | None, what: str) -> list[Failure]:
    """Each '|'-joined code of ``field`` must pass ``validator`` (checked once per distinct code)."""
    if validator is None or t.num_rows == 0:
        return []
    parts = pc.split_pattern(t.column(field).combine_chunks(), "|")
    flat = pc.list_flatten(parts)
    parents = pc.list_parent_indices(parts).to_numpy()
    bad_codes = [c for c in pc.unique(flat).to_pylist() if c.strip() and not _code_ok(validator, c)]
    if not bad_codes:
        return []
    hit = _np(pc.is_in(flat, value_set=pa.array(bad_codes, type=flat.type)))
    bad = np.zeros(t.num_rows, dtype=bool)
    bad[parents[hit]] = True
    bad_set = set(bad_codes)

    def problem(r: int) -> str:
        code = next(c for c in _val(t, field, r).split("|") if c in bad_set)
        return f"{code!r} is not a known {what} code"

    return [Failure(field, bad, problem)]


def _code_ok(validator: CodeValidator, code: str) -> bool:
    try:
        return validator(code) is not False
    except (YibaoError, ValueError, KeyError, LookupError):
        return False


def _lengths(t: pa.Table, table: str) -> list[Failure]:
    """Text longer than its store column (the database would refuse the whole batch)."""
    from yibao.store.models import LAKE_TABLES, metadata

    out = []
    for column in metadata.tables[LAKE_TABLES[table]].columns:
        limit = getattr(column.type, "length", None)
        if limit and column.name in t.column_names:
            long = _np(pc.greater(pc.utf8_length(t.column(column.name)), limit))
            out.append(Failure(column.name, long, lambda r, c=column.name, n=limit:
                               f"{_val(t, c, r)!r} is longer than {n} characters"))
    return out


def _duplicates(t: pa.Table, table: str) -> list[Failure]:
    key = [k for k in KEYS[table] if k in t.column_names]
    if not key or t.num_rows < 2:
        return []
    frame = t.select(key).to_pandas()
    dup = frame.duplicated(keep="first").to_numpy()
    label = "+".join(key)
    return [Failure(key[0], dup, lambda r: f"duplicate {label} {tuple(frame.iloc[r])!r}")]


# ---------------------------------------------------------------- rules per table

def _regions(t, **_):
    return [*_required(t, "admdvs", "name"), *_admdvs(t, "admdvs", "parent_admdvs")]


def _employers(t, **_):
    return [
        *_required(t, "emp_no", "uscc", "name", "admdvs"),
        Failure("uscc", credit_bad(t.column("uscc")) & ~_missing(t, "uscc"),
                _scalar_problem(ids.validate_credit_code, "is no credit code", t, "uscc")),
        *_admdvs(t, "admdvs"),
        *_nonneg(t, "avg_wage_fen", "headcount"),
    ]


def _persons(t, **_):
    certno = t.column("certno")
    bad_id = certno_bad(certno) & ~_missing(t, "certno")
    born, sex = certno_birth_sex(certno)
    usable = ~bad_id
    return [
        *_required(t, "psn_no", "certno", "name", "sex", "birth_date", "admdvs"),
        Failure("certno", bad_id, _scalar_problem(ids.parse_id_number, "is no ID number", t, "certno")),
        _values(t, "sex", ("1", "2")),
        Failure("birth_date", usable & _np(pc.not_equal(t.column("birth_date"), born)),
                lambda r: f"{_val(t, 'birth_date', r)} does not match the ID number's {born[r].as_py()}"),
        Failure("sex", usable & _np(pc.not_equal(t.column("sex"), sex)),
                lambda r: f"{_val(t, 'sex', r)!r} does not match the ID number's {sex[r].as_py()!r}"),
        *_admdvs(t, "admdvs"),
        _after(t, "birth_date", "death_date"),
    ]


def _enrollments(t, **_):
    insutype, psn_type = t.column("insutype"), t.column("psn_type")
    wrong_type = (_np(pc.equal(insutype, vocab.EMPLOYEE)) & _not_in(psn_type, vocab.EMPLOYEE_PSN_TYPES)) | (
        _np(pc.equal(insutype, vocab.RESIDENT)) & _not_in(psn_type, vocab.RESIDENT_PSN_TYPES))
    return [
        *_required(t, "spell_id", "psn_no", "insutype", "psn_type", "admdvs", "start_date", "civil_servant"),
        _values(t, "insutype", INSUTYPES),
        _values(t, "psn_type", vocab.PSN_TYPES),
        Failure("psn_type", wrong_type,
                lambda r: f"{_val(t, 'psn_type', r)!r} is not a psn_type of insutype {_val(t, 'insutype', r)}"),
        _values(t, "emp_kind", vocab.EMP_KINDS),
        Failure("emp_no", _np(pc.equal(t.column("emp_kind"), "employer")) & _missing(t, "emp_no"),
                lambda r: "is required when emp_kind is employer"),
        *_admdvs(t, "admdvs"),
        _after(t, "start_date", "end_date"),
        *_nonneg(t, "contribution_base_fen"),
    ]


def _identities(t, **_):
    return [*_required(t, "psn_no", "identity", "start_date"), _values(t, "identity", vocab.IDENTITIES),
            _after(t, "start_date", "end_date")]


def _institutions(t, **_):
    code = t.column("fixmedins_code")
    pharmacy = _np(pc.equal(t.column("kind"), "pharmacy"))
    letter = _np(pc.starts_with(code, "P"))
    return [
        *_required(t, "fixmedins_code", "name", "kind", "level", "admdvs"),
        Failure("fixmedins_code", fixmedins_bad(code) & ~_missing(t, "fixmedins_code"),
                _scalar_problem(ids.validate_fixmedins_code, "is no institution code", t, "fixmedins_code")),
        _values(t, "kind", vocab.INSTITUTION_KINDS),
        Failure("fixmedins_code", ~fixmedins_bad(code) & (pharmacy != letter),
                lambda r: f"{_val(t, 'fixmedins_code', r)!r} does not fit kind {_val(t, 'kind', r)!r} "
                          "(pharmacies have P codes, medical institutions H codes)"),
        _values(t, "level", vocab.LEVELS),
        *_admdvs(t, "admdvs"),
        *_nonneg(t, "beds"),
        _after(t, "agreement_start", "agreement_end"),
    ]


def _catalog(t, **_):
    return [
        *_required(t, "item_code", "kind", "name", "item_class", "preselfpay_ppm", "begin_date", "inpatient_only"),
        Failure("item_code", _regex_bad(t.column("item_code"), r"^\S+$") & ~_missing(t, "item_code"),
                lambda r: f"{_val(t, 'item_code', r)!r} contains blanks"),
        _values(t, "kind", vocab.ITEM_KINDS),
        _values(t, "item_class", vocab.ITEM_CLASSES),
        *_nonneg(t, "preselfpay_ppm", "price_cap_fen", "restrict_min_age", "restrict_max_age"),
        Failure("preselfpay_ppm", _np(pc.greater(t.column("preselfpay_ppm"), 1_000_000)),
                lambda r: f"{_val(t, 'preselfpay_ppm', r)} ppm is more than 100%"),
        _values(t, "restrict_sex", ("1", "2")),
        _after(t, "restrict_min_age", "restrict_max_age", "below"),
        _values(t, "restrict_min_level", vocab.LEVELS),
        _after(t, "begin_date", "end_date"),
    ]


def _plausible_year(t: pa.Table) -> Failure:
    return Failure("year", _np(pc.or_(pc.less(t.column("year"), 1990), pc.greater(t.column("year"), 2200))),
                   lambda r: f"{_val(t, 'year', r)} is not a plausible year")


def _contributions(t, **_):
    return [
        *_required(t, "psn_no", "year", "insutype", "employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"),
        _plausible_year(t),
        _values(t, "insutype", INSUTYPES),
        *_nonneg(t, "employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"),
    ]


def _claims(t, icd10=None, icd9=None, **_):
    code = t.column("fixmedins_code")
    return [
        *_required(t, "claim_id", "psn_no", "fixmedins_code", "insutype", "med_type", "adm_date",
                   "medfee_sumamt_fen", "out_of_region"),
        Failure("fixmedins_code", fixmedins_bad(code) & ~_missing(t, "fixmedins_code"),
                _scalar_problem(ids.validate_fixmedins_code, "is no institution code", t, "fixmedins_code")),
        _values(t, "insutype", INSUTYPES),
        _values(t, "med_type", vocab.MED_TYPES),
        _after(t, "adm_date", "dscg_date", "before admission"),
        *_nonneg(t, "los", "newborn_weight_g", "medfee_sumamt_fen"),
        _values(t, "dscg_way", vocab.DISCHARGE_WAYS),
        *_admdvs(t, "mdtrtarea_admdvs", "insuplc_admdvs"),
        _values(t, "filing", FILINGS),
        *_codes(t, "diagnoses", icd10, "ICD-10"),
        *_codes(t, "procedures", icd9, "ICD-9-CM-3"),
    ]


def _claim_lines(t, **_):
    return [
        *_required(t, "claim_id", "line_no", "item_code", "kind", "qty", "price_fen", "amount_fen"),
        _values(t, "kind", vocab.ITEM_KINDS),
        *_nonneg(t, "line_no", "qty", "price_fen", "amount_fen"),
        Failure("qty", _np(pc.invert(pc.is_finite(t.column("qty")))), lambda r: "is not a finite number"),
        _line_amount(t),
    ]


def _line_amount(t: pa.Table) -> Failure:
    """amount_fen = price_fen × qty, rounded to the fen."""
    price = pc.cast(t.column("price_fen"), pa.float64(), safe=False)  # beyond 2^53 the bound refuses it
    product = pc.multiply(price, t.column("qty"))
    off = pc.greater_equal(pc.abs(pc.subtract(pc.cast(t.column("amount_fen"), pa.float64(), safe=False), product)),
                           LINE_AMOUNT_TOLERANCE_FEN)
    return Failure("amount_fen", _np(off), lambda r: (
        f"{_val(t, 'amount_fen', r)} is not price_fen × qty = {_val(t, 'price_fen', r)} × {_val(t, 'qty', r):g} "
        f"= {product[r].as_py():.2f} rounded to the fen"))


def _fraud_labels(t, **_):
    return [*_required(t, "claim_id", "label"), _values(t, "label", FRAUD_LABELS)]


def _coverage_choices(t, **_):
    joined = t.column("supplementary")
    return [
        *_required(t, "psn_no", "year", "tier"),
        _plausible_year(t),
        *_nonneg(t, "tier"),
        Failure("supplementary", _regex_bad(joined, r"^[^|\s]+(\|[^|\s]+)*$") & _np(pc.is_valid(joined)),
                lambda r: f"{_val(t, 'supplementary', r)!r} is not '|'-joined tier names (no blanks, no empty names)"),
    ]


def _account_balances(t, **_):
    return [*_required(t, "psn_no", "year", "balance_fen"), _plausible_year(t),
            Failure("balance_fen", _np(pc.less(t.column("balance_fen"), 0)),
                    lambda r: f"{_val(t, 'balance_fen', r)} is negative (个人账户不得透支: never overdrawn)")]


RULES: dict[str, Callable[..., list[Failure]]] = {
    "regions": _regions, "employers": _employers, "persons": _persons, "enrollments": _enrollments,
    "identities": _identities, "institutions": _institutions, "catalog": _catalog,
    "contributions": _contributions, "claims": _claims, "claim_lines": _claim_lines,
    "fraud_labels": _fraud_labels, "coverage_choices": _coverage_choices, "account_balances": _account_balances,
}


# ---------------------------------------------------------------- entry points

def to_arrow(table: str, data: pa.Table | pa.RecordBatch | pd.DataFrame, where: str | None = None) -> pa.Table:
    """``data`` in the lake schema of ``table`` (columns selected and cast); a wrong type is an error."""
    schema = TABLES[table]
    if isinstance(data, pd.DataFrame):
        missing = [c for c in schema.names if c not in data.columns]
        if missing:
            raise ValidationError(missing[0], f"column missing from {table}", record=where)
        data = pa.Table.from_pandas(data[schema.names], preserve_index=False)
    elif isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    missing = [c for c in schema.names if c not in data.column_names]
    if missing:
        raise ValidationError(missing[0], f"column missing from {table}", record=where)
    cols = []
    for f in schema:
        try:
            cols.append(data.column(f.name).cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            raise ValidationError(f.name, f"cannot be read as {f.type}: {e}", record=where) from None
    t = pa.Table.from_arrays(cols, schema=schema)
    for field in UPPER.get(table, ()):
        t = t.set_column(t.schema.get_field_index(field), field, pc.utf8_upper(t.column(field)))
    return t


def check_table(table: str, data: pa.Table | pa.RecordBatch | pd.DataFrame, *, where: str | None = None,
                first_row: int = 1, icd10: CodeValidator | None = None, icd9: CodeValidator | None = None,
                label: Callable[[int], str] | None = None) -> pa.Table:
    """Validate a table of lake records; return it normalised (lake schema, upper-cased codes).

    Raises ``ValidationError`` for the first bad row: the record is ``"<where> row <n>"`` (rows counted
    from ``first_row``) with the record's key, or ``label(row)`` when given.
    """
    t = to_arrow(table, data, where)
    _check_utf8(t, table, where, first_row, label)
    rules = (_amounts_bounded(t) + RULES[table](t, icd10=icd10, icd9=icd9) + _lengths(t, table)
             + _duplicates(t, table))
    failures = [f for f in rules if f.bad.any()]
    if failures:
        row = min(int(np.argmax(f.bad)) for f in failures)
        f = next(x for x in failures if x.bad[row])
        record = label(row) if label else row_label(t, table, where, first_row + row, row)
        raise ValidationError(f.field, f.problem(row), record=record)
    return t


def _check_utf8(t: pa.Table, table: str, where: str | None, first_row: int,
                label: Callable[[int], str] | None) -> None:
    """Text columns must hold valid UTF-8 (a file written by another tool may not); the rules read them as text."""
    for f in t.schema:
        if not pa.types.is_string(f.type):
            continue
        try:
            t.column(f.name).validate(full=True)
        except pa.ArrowInvalid as e:
            raw = t.column(f.name).cast(pa.binary()).to_pylist()
            row = next((i for i, v in enumerate(raw) if v is not None and not _is_utf8(v)), None)
            if row is None:
                raise ValidationError(f.name, f"is not valid text: {e}", record=where or table) from None
            record = label(row) if label else f"{where or table} row {first_row + row}"
            raise ValidationError(f.name, f"{raw[row][:40]!r} is not UTF-8 text", record=record) from None


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def row_label(t: pa.Table, table: str, where: str | None, n: int, row: int) -> str:
    """``"<where> row <n> (<key>=…)"``: how errors name a row of a file."""
    key = ", ".join(f"{k}={_val(t, k, row)}" for k in KEYS[table] if k in t.column_names)
    return f"{where or table} row {n} ({key})"


def check_record(table: str, record: Mapping[str, Any], record_label: str | None = None,
                 icd10: CodeValidator | None = None, icd9: CodeValidator | None = None) -> dict[str, Any]:
    """Validate one record (a dict in the lake schema; absent optional fields are null); return it normalised."""
    schema = TABLES[table]
    row = {name: record.get(name) for name in schema.names}
    key = ", ".join(f"{k}={row.get(k)}" for k in KEYS[table])
    label = record_label or f"{table} {key}"
    unknown = sorted(set(record) - set(schema.names))
    if unknown:
        raise ValidationError(unknown[0], f"is not a field of {table}", record=label)
    cols = {}
    for f in schema:
        try:
            cols[f.name] = pa.array([row[f.name]], type=f.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            raise ValidationError(f.name, f"{row[f.name]!r} is not a {f.type}: {e}", record=label) from None
    t = check_table(table, pa.table(cols, schema=schema), icd10=icd10, icd9=icd9, label=lambda r: label)
    return t.to_pylist()[0]


# ---------------------------------------------------------------- one record of each table

def person(rec: Mapping[str, Any], record: str | None = None) -> dict[str, Any]:
    """A 参保人员; birth date and sex are derived from the ID number when absent, cross-checked when given."""
    rec = dict(rec)
    label = record or f"persons psn_no={rec.get('psn_no')}"
    if rec.get("birth_date") is None or rec.get("sex") is None:
        try:
            info = ids.parse_id_number(rec.get("certno"))
        except ValidationError as e:
            raise ValidationError(e.field, e.problem, record=label) from None
        rec["birth_date"] = rec.get("birth_date") or info.birth_date
        rec["sex"] = rec.get("sex") or info.sex
    return check_record("persons", rec, label)


def region(rec, record=None):
    return check_record("regions", rec, record)


def employer(rec, record=None):
    return check_record("employers", rec, record)


def enrollment(rec, record=None):
    return check_record("enrollments", {"civil_servant": False, **rec}, record)


def identity(rec, record=None):
    return check_record("identities", rec, record)


def institution(rec, record=None):
    return check_record("institutions", rec, record)


def catalog_item(rec, record=None):
    return check_record("catalog", {"preselfpay_ppm": 0, "inpatient_only": False, **rec}, record)


def contribution(rec, record=None):
    return check_record("contributions", {"employer_fen": 0, "individual_fen": 0, "subsidy_fen": 0,
                                          "sponsored_fen": 0, **rec}, record)


def claim(rec, record=None, icd10: CodeValidator | None = None, icd9: CodeValidator | None = None):
    return check_record("claims", {"out_of_region": False, **rec}, record, icd10=icd10, icd9=icd9)


def claim_line(rec, record=None):
    return check_record("claim_lines", rec, record)


def fraud_label(rec, record=None):
    return check_record("fraud_labels", rec, record)


def coverage_choice(rec, record=None):
    return check_record("coverage_choices", {"tier": 0, **rec}, record)


def account_balance(rec, record=None):
    return check_record("account_balances", rec, record)


# ---------------------------------------------------------------- overlapping enrollment spells

_OPEN_END = np.iinfo(np.int32).max


def first_overlap(spells: pa.Table | pd.DataFrame,
                  by: tuple[str, ...] = ("psn_no", "insutype")) -> tuple[int, int] | None:
    """The first pair (earlier row, later row) of spells of one ``by`` group that overlap in time.

    Spells are inclusive of both dates; an open end (null) runs forever. Vectorised: sort by group
    and start, carry the running maximum end within the group; a spell starting on or before it
    overlaps an earlier one.
    """
    df = spells.to_pandas() if isinstance(spells, pa.Table) else spells
    if len(df) < 2:
        return None
    start = _days(df["start_date"], fill=np.iinfo(np.int32).min)
    end = _days(df["end_date"], fill=_OPEN_END)
    keys = [pd.factorize(df[c])[0] for c in by]
    order = np.lexsort((np.arange(len(df)), start, *reversed(keys)))
    same = np.ones(len(df) - 1, dtype=bool)
    for k in keys:
        same &= k[order][1:] == k[order][:-1]
    group_start = np.r_[True, ~same]
    group_id = np.cumsum(group_start) - 1
    e = end[order]
    run = pd.Series(e).groupby(group_id).cummax().to_numpy()  # latest end so far within the group
    prev_max = np.r_[np.iinfo(np.int64).min, run[:-1]]
    prev_max[group_start] = np.iinfo(np.int64).min
    hit = np.flatnonzero(start[order] <= prev_max)
    if len(hit) == 0:
        return None
    later_sorted = int(hit[np.argmin(order[hit])])  # the overlap whose later spell comes first in the input
    g0 = int(np.flatnonzero(group_start[: later_sorted + 1])[-1])
    earlier = g0 + int(np.argmax(e[g0:later_sorted] == prev_max[later_sorted]))
    return int(order[earlier]), int(order[later_sorted])


def _days(col: pd.Series, fill: int) -> np.ndarray:
    """Days since 1970 of a date column (dates, datetimes or date32), nulls as ``fill``."""
    arr = pa.array(col, from_pandas=True)
    if not pa.types.is_date32(arr.type):
        arr = pc.cast(arr, pa.date32())
    return pc.fill_null(pc.cast(arr, pa.int32()), fill).to_numpy().astype(np.int64)


def check_overlaps(spells: pa.Table | pd.DataFrame, by: tuple[str, ...] = ("psn_no", "insutype"),
                   label: Callable[[int], str] | None = None) -> None:
    """Raise when two spells of one person (per ``by``) overlap, naming both spell ids."""
    pair = first_overlap(spells, by)
    if pair is None:
        return
    df = spells.to_pandas() if isinstance(spells, pa.Table) else spells
    a, b = (df.iloc[i] for i in pair)
    raise ValidationError(
        "start_date",
        f"spell {b['spell_id']} ({_d(b['start_date'])}–{_d(b['end_date'])}) overlaps spell {a['spell_id']} "
        f"({_d(a['start_date'])}–{_d(a['end_date'])}) of person {b['psn_no']} in insutype {b['insutype']}",
        record=label(pair[1]) if label else f"enrollments spell_id={b['spell_id']}",
    )


def _d(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "open"
    return str(v.date() if isinstance(v, pd.Timestamp) else v)


def spell_overlaps(new: Mapping[str, Any], existing: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first existing spell of the same insutype that ``new`` overlaps (inclusive dates), if any."""
    far = date.max
    s, e = new["start_date"], new.get("end_date") or far
    for old in existing:
        if old["insutype"] == new["insutype"] and old["spell_id"] != new.get("spell_id"):
            if s <= (old.get("end_date") or far) and old["start_date"] <= e:
                return old
    return None
