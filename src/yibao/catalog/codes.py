"""National 医保 code sets (医保版疾病诊断和手术操作分类与代码): ICD-10 diagnoses and ICD-9-CM-3 operations.

The lists are the 2020 snapshot of the NHSA code site (医保版 ~V1.0) shipped in ``catalog/data/``
(attribution in ``data/SOURCES.md``). ``icd10()`` and ``icd9()`` return cached :class:`CodeSet`
look-ups; every check has a scalar form (``validate``) and a vectorised one (``validate_many``).

Code shapes (studied from the lists themselves):

* ICD-10: category ``K35``; subcategory ``K35.8``; 医保 extension ``K35.800`` / ``A33.x00`` with an
  optional ``x001`` suffix (``K35.800x002``); dagger/asterisk forms (``A17+``, ``D63*``,
  ``A01.001+K77.0*``); the 肿瘤形态学 appendix (``M800``, ``M801-M804``, ``M80000/3``).
* ICD-9-CM-3: ``47.0`` / ``47.01`` / ``47.0100`` / ``47.0100x001``; ``01.6x00``; ``17.91100``;
  ``17.912A0``; and two ``86.700x0013`` rows.

A code that does not fit its shape is *malformed*; one that fits but is not in the list is *unknown*;
the error says which.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yibao.errors import ValidationError

__all__ = ["Chapter", "CodeSet", "icd10", "icd9", "normalize", "tcm_disease", "tcm_syndrome"]

DATA = Path(__file__).parent / "data"

_ICD10_CORE = r"[A-Z]\d{2}(?:\.(?:\d|\d{3}(?:x\d{3})?|x\d{2}(?:x\d{3})?))?"
ICD10_PATTERN = re.compile(
    rf"(?:{_ICD10_CORE}(?:\*|\+(?:[A-Z]\d{{2}}(?:\.\d)?\*)?)?"
    r"|M\d{3}(?:-M\d{3})?|M\d{5}/\d)"
)
TCM_DISEASE_PATTERN = re.compile(r"B[A-Z]{2}(?:\d{3})?")
TCM_SYNDROME_PATTERN = re.compile(r"Z[A-Z]{2}(?:\d{3}|[A-Z]\d{2}|[A-Z]{2}\d|[A-Z]{3})?")
_MORPHOLOGY = re.compile(r"M\d{4}")  # 肿瘤形态学: M + at least 4 digits (ICD-10 M codes have 2)
ICD9_PATTERN = re.compile(
    r"\d{2}\.(?:\d{1,2}|(?:\d{4}|\dx\d{2})(?:x\d{3})?|\d{5}|\d{3}[A-Z]\d|\d{3}x\d{4})"
)


def normalize(code: object) -> str:
    """Trim, drop inner spaces, fold full-width characters, upper-case letters but keep the 医保
    extension marker ``x`` lower-case (``k35.800X002 `` → ``K35.800x002``)."""
    s = unicodedata.normalize("NFKC", str(code)).replace(" ", "").strip().upper()
    return re.sub(r"(?<=[\d.])X", "x", s)


def arrow_strings(values) -> pa.Array | pa.ChunkedArray:
    """Many codes as an Arrow string array — free for Arrow-backed pandas strings (the default
    ``str`` dtype of pandas 3 and of Parquet reads), one conversion otherwise."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if isinstance(values, (pd.Series, pd.Index)):
        arr = values.array
        if isinstance(arr, pd.arrays.ArrowStringArray) or str(values.dtype) in ("str", "string"):
            try:
                return pa.array(arr, type=pa.string())
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                pass
        values = values.to_numpy(dtype=object)
    arr = np.asarray(values, dtype=object)
    try:
        return pa.array(arr, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # non-string values: compare their text
        return pa.array([None if v is None or v is pd.NA or v != v else str(v) for v in arr], type=pa.string())


def index_in(values, value_set: pa.Array) -> np.ndarray:
    """Position of each value in ``value_set`` (int64, -1 where absent or null), by Arrow hashing."""
    k = pc.index_in(arrow_strings(values), value_set=value_set)
    return np.asarray(k.fill_null(-1), dtype=np.int64) if len(k) else np.zeros(0, dtype=np.int64)


def _normalize_many(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.normalize("NFKC").str.replace(r"\s+", "", regex=True).str.upper()
    return s.str.replace(r"(?<=[\d.])X", "x", regex=True)


@dataclass(frozen=True)
class Chapter:
    """A chapter (章) of a classification: ``number`` as printed (``"11"``, ``"3A"``, ``"附录"``),
    its ``name`` and the range of categories it covers (``first``–``last``)."""

    number: str
    name: str
    first: str
    last: str

    def __str__(self) -> str:
        return f"{self.number} {self.name} ({self.first}-{self.last})"


class CodeSet:
    """One code list: look-ups by code, shape checks, category and chapter of a code."""

    def __init__(self, label: str, field: str, table: pa.Table, pattern: re.Pattern,
                 chapters: list[Chapter], example: str, category: Callable[[str], str],
                 chapter_key: Callable[[str], str] | None = None):
        self.label = label
        self._category = category
        self._chapter_key = chapter_key or category
        self.field = field
        self.pattern = pattern
        self.example = example
        self._chapters = chapters
        self._table = table  # code, name: text as read, without a pandas frame (a batch checks codes only)
        self._arrow = table["code"].combine_chunks()
        self.codes: np.ndarray = self._arrow.to_numpy(zero_copy_only=False)

    # built on first use: a batch that only checks codes (``positions``) needs neither
    @functools.cached_property
    def _names(self) -> dict[str, str]:
        return dict(zip(self.codes.tolist(), self._table["name"].to_pylist()))

    @functools.cached_property
    def _sorted(self) -> np.ndarray:
        return np.sort(self.codes.astype(str))

    def __repr__(self) -> str:
        return f"<CodeSet {self.label}: {len(self)} codes>"

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and normalize(code) in self._names

    @property
    def frame(self) -> pd.DataFrame:
        """``code, name`` as a DataFrame (a copy)."""
        return self._table.to_pandas()

    # -- scalar look-ups --------------------------------------------------------------------------

    def is_wellformed(self, code: object) -> bool:
        return isinstance(code, str) and self.pattern.fullmatch(normalize(code)) is not None

    def wellformed(self, code: object, field: str | None = None, record: str | None = None) -> str:
        """The normalised code if it fits the shape (known or not), else :class:`ValidationError`."""
        field = field or self.field
        if not isinstance(code, str) or not code.strip():
            raise ValidationError(field, f"missing {self.label} code (got {code!r})", record)
        c = normalize(code)
        if self.pattern.fullmatch(c) is None:
            raise ValidationError(
                field, f"malformed {self.label} code {code!r} (expected a shape like {self.example})", record)
        return c

    def validate(self, code: object, field: str | None = None, record: str | None = None) -> str:
        """The normalised code, or :class:`ValidationError` saying whether it is malformed or unknown."""
        field = field or self.field
        c = self.wellformed(code, field, record)
        if c not in self._names:
            raise ValidationError(field, f"unknown {self.label} code {c!r}: not in the 医保 code set", record)
        return c

    def name(self, code: str) -> str:
        """The Chinese name of a code (raises like :meth:`validate`)."""
        return self._names[self.validate(code)]

    def get(self, code: str, default: str | None = None) -> str | None:
        return self._names.get(normalize(code), default)

    def category(self, code: str) -> str:
        """The category row a code belongs to (ICD-10 ``K35`` for ``K35.800x002``; morphology ``M800``;
        ICD-9-CM-3 ``47.0`` for ``47.0100x001`` — the shortest rows the operation list has).
        The code must be well-formed; it need not be in the list."""
        return self._category(self.wellformed(code))

    def parent(self, code: str) -> str | None:
        """The nearest shorter code in the list (``K35.800x002`` → ``K35.800`` → ``K35.8`` → ``K35``)."""
        c = self.validate(code)
        for n in range(len(c) - 1, 1, -1):
            p = c[:n].rstrip(".x")
            if p != c and p in self._names:
                return p
        return None

    def chapter(self, code: str) -> Chapter:
        """The chapter whose category range holds the code's category (code well-formed)."""
        c = self.wellformed(code)
        if not self._chapters:  # 中医 lists: the 类 (3-letter category row) is the chapter
            cat = self._category(c)
            return Chapter(cat, self._names.get(cat, ""), cat, cat)
        key = self._chapter_key(c)
        for ch in self._chapters:
            if key == ch.number or (ch.number != "附录" and ch.first <= key <= ch.last):
                return ch
        raise ValidationError(self.field, f"{self.label} code {c!r} lies in no chapter")

    @property
    def chapters(self) -> list[Chapter]:
        return list(self._chapters)

    def codes_with_prefix(self, prefix: str) -> np.ndarray:
        """Every code starting with ``prefix`` (normalised), in code order — e.g. ``"K35"``, ``"47.0"``."""
        p = normalize(prefix)
        lo = np.searchsorted(self._sorted, p, side="left")
        hi = np.searchsorted(self._sorted, p + "\U0010ffff", side="left")
        return self._sorted[lo:hi].astype(object)

    # -- vectorised -------------------------------------------------------------------------------

    def normalize_many(self, values) -> pd.Series:
        """Normalised codes (nulls stay null)."""
        return _normalize_many(pd.Series(values))

    def validate_many(self, values) -> np.ndarray:
        """Boolean mask: True where the value (normalised) is a code of this set; nulls are False."""
        return self.positions(values) >= 0

    def positions(self, values) -> np.ndarray:
        """Row numbers in :attr:`codes` of many values (``-1`` where unknown). Values already in
        canonical form hit the hash index directly; only the misses are normalised."""
        raw = arrow_strings(values)
        pos = index_in(raw, self._arrow)
        miss = np.flatnonzero(pos < 0)
        if len(miss):
            fixed = self.normalize_many(raw.take(pa.array(miss)).to_pandas())
            pos[miss] = index_in(fixed, self._arrow)
        return pos

    def wellformed_many(self, values) -> np.ndarray:
        """Boolean mask: True where the value fits the code shape (known or not)."""
        s = self.normalize_many(values)
        return s.str.fullmatch(self.pattern.pattern).to_numpy(dtype=bool, na_value=False)

    def names_many(self, values) -> pd.Series:
        """The names of many codes (null where unknown)."""
        s = self.normalize_many(values)
        return s.map(self._names).astype("string")

    def check_many(self, values, field: str | None = None, record_prefix: str = "row") -> None:
        """Raise a :class:`ValidationError` naming the first bad row (position) and why it is bad."""
        s = pd.Series(values).reset_index(drop=True)
        bad = ~self.validate_many(s)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            self.validate(s.iloc[i] if pd.notna(s.iloc[i]) else "", field, f"{record_prefix} {i + 1}")


def _read_chapters(path: Path) -> list[Chapter]:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = []
    for number, name, rng in df[["chapter", "name", "range"]].itertuples(index=False):
        first, last = rng.split("-")
        out.append(Chapter(number, name, first, last))
    return out


def _read_codes(name: str) -> pa.Table:
    import pyarrow.csv as pacsv

    text = pacsv.ConvertOptions(column_types={"code": pa.string(), "name": pa.string()}, strings_can_be_null=False)
    return pacsv.read_csv(DATA / name, convert_options=text)


@functools.cache
def icd10() -> CodeSet:
    """医保版 ICD-10 (疾病分类与代码), 47,101 codes incl. category rows and the morphology appendix."""
    return CodeSet("ICD-10", "diagnosis", _read_codes("icd10.csv.gz"), ICD10_PATTERN,
                   _read_chapters(DATA / "icd10_chapters.csv"), "K35.800x001",
                   category=lambda c: c[:4] if _MORPHOLOGY.match(c) else c[:3],
                   chapter_key=lambda c: "附录" if _MORPHOLOGY.match(c) else c[:3])


@functools.cache
def icd9() -> CodeSet:
    """医保版 ICD-9-CM-3 (手术操作分类与代码), 17,552 codes."""
    return CodeSet("ICD-9-CM-3", "procedure", _read_codes("icd9cm3.csv.gz"), ICD9_PATTERN,
                   _read_chapters(DATA / "icd9cm3_chapters.csv"), "47.0100x001",
                   category=lambda c: c[:4], chapter_key=lambda c: c[:2])


@functools.cache
def tcm_disease() -> CodeSet:
    """医保版 中医疾病 (TCM diseases), 1,300 codes such as ``BNF010`` 咳嗽病; chapter = the 类 (``BNF``)."""
    return CodeSet("TCM-disease", "tcm_diagnosis", _read_codes("tcm_disease.csv.gz"), TCM_DISEASE_PATTERN,
                   [], "BNF010", category=lambda c: c[:3])


@functools.cache
def tcm_syndrome() -> CodeSet:
    """医保版 中医证候 (TCM syndromes), codes such as ``ZBF000`` 风邪证; chapter = the 类 (``ZBF``)."""
    return CodeSet("TCM-syndrome", "tcm_syndrome", _read_codes("tcm_syndrome.csv.gz"), TCM_SYNDROME_PATTERN,
                   [], "ZBF000", category=lambda c: c[:3])
