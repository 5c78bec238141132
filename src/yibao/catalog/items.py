"""The 医保目录 catalog: drugs (药品), service items (医疗服务项目) and consumables (医用耗材).

Each item has a class — 甲类 ``A`` (fully in scope), 乙类 ``B`` (in scope after a 先行自付 share,
``preselfpay_ppm``), 丙类 ``C`` (self-paid) —, a price cap / 支付标准 per unit (``price_cap_fen``),
structured restrictions (sex, age range, inpatient only, minimum institution level, required ICD-10
prefixes) with the 限定支付范围 text they come from, and an effective period with a version.

The shipped catalog (``data/catalog.csv.gz``, built by ``yibao.catalog.build`` from real public lists:
the 2024 national drug catalog, the Shaanxi 2021 service price list, the NHSA consumable classification;
see ``data/SOURCES.md``) is in the lake ``catalog`` schema. :class:`Catalog` wraps any frame of that
shape, so a region or a test can bring its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao.catalog.codes import arrow_strings, index_in
from yibao.coded import Coded
from yibao.errors import ValidationError
from yibao.lake.schema import TABLES
from yibao import vocab
from yibao.vocab import INPATIENT_MED_TYPES, ITEM_CLASSES, ITEM_KINDS

__all__ = [
    "Catalog", "Item", "RESTRICTION_CHECKS", "catalog_table", "claim_context", "drug_categories",
    "drug_category", "load_catalog", "service_prices",
]

DATA = Path(__file__).parent / "data"
COLUMNS = [f.name for f in TABLES["catalog"]]
INT_COLUMNS = ("preselfpay_ppm", "price_cap_fen", "restrict_min_age", "restrict_max_age")
DATE_COLUMNS = ("begin_date", "end_date")
STRING_COLUMNS = tuple(
    c for c in COLUMNS if c not in INT_COLUMNS + DATE_COLUMNS + ("inpatient_only",))
RESTRICTION_CHECKS = ("sex", "age", "inpatient", "level", "diagnosis")
SMALL = 64  # codes looked up one by one below this many (a real-time claim), hashed in bulk above
CLASS_ORDER = ("A", "B", "C")  # 甲 / 乙 / 丙 ranked 0 / 1 / 2, as the settlement engine numbers them


# -- loading ----------------------------------------------------------------------------------------

def _coerce(df: pd.DataFrame, where: str, first_line: int | None = None) -> pd.DataFrame:
    """A copy of ``df`` with the catalog columns in their canonical dtypes; refuses bad rows, naming
    ``where`` and the row (or the file line, when ``first_line`` gives the line of the first row)."""
    label = _labeller(first_line)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError(", ".join(missing), "missing catalog column(s)", where)
    out = pd.DataFrame(index=range(len(df)))
    src = df.reset_index(drop=True)
    for c in STRING_COLUMNS:
        out[c] = src[c].astype("string")
        out.loc[out[c] == "", c] = pd.NA
    for c in INT_COLUMNS:
        text = src[c].astype("string").str.strip()
        num = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = ((num.isna() & text.notna() & (text != "")) | (num.notna() & (num % 1 != 0))).to_numpy(bool)
        _fail(bad, src, c, "not an integer", where, label)
        out[c] = num.astype("Int64")
    for c in DATE_COLUMNS:
        raw = src[c].where(src[c].astype("string").str.strip().fillna("") != "", None)
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = (parsed.isna() & raw.notna()).to_numpy()
        _fail(bad, src, c, "not a date", where, label)
        out[c] = parsed.astype("datetime64[s]")
    inp = src["inpatient_only"]
    if not pd.api.types.is_bool_dtype(inp):
        text = inp.astype("string").str.strip().str.lower()
        inp = text.map({"true": True, "false": False, "1": True, "0": False, "": False})
        bad = (inp.isna() & text.notna()).to_numpy()
        _fail(bad, src, "inpatient_only", "not true/false", where, label)
    out["inpatient_only"] = inp.fillna(False).astype(bool)
    out = out[COLUMNS]
    _check(out, where, label)
    return out


def _labeller(first_line: int | None):
    return (lambda i: f"line {i + first_line}") if first_line else (lambda i: f"row {i + 1}")


def _fail(mask: np.ndarray, df: pd.DataFrame, field: str, problem: str, where: str, label=_labeller(None)) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise ValidationError(field, f"{problem} (got {df[field].iloc[i]!r})",
                              f"{where} {label(i)} ({df['item_code'].iloc[i]})")


def _check(df: pd.DataFrame, where: str, label=_labeller(None)) -> None:
    na = df["item_code"].isna().to_numpy()
    if na.any():
        raise ValidationError("item_code", "missing", f"{where} {label(int(np.flatnonzero(na)[0]))}")
    _fail(~df["kind"].isin(list(ITEM_KINDS)).to_numpy(), df, "kind", f"not one of {list(ITEM_KINDS)}", where, label)
    _fail(~df["item_class"].isin(list(ITEM_CLASSES)).to_numpy(), df, "item_class", "not A/B/C", where, label)
    ppm = df["preselfpay_ppm"].fillna(0).to_numpy()
    _fail((ppm < 0) | (ppm > 1_000_000), df, "preselfpay_ppm", "outside 0..1000000", where, label)
    _fail((df["price_cap_fen"].fillna(1).to_numpy() <= 0), df, "price_cap_fen", "not positive", where, label)
    _fail(~df["restrict_sex"].isin(["1", "2"]).to_numpy() & df["restrict_sex"].notna().to_numpy(),
          df, "restrict_sex", "not 1 (male) or 2 (female)", where, label)
    lo, hi = df["restrict_min_age"], df["restrict_max_age"]
    _fail(((lo > hi) & lo.notna() & hi.notna()).to_numpy(bool), df, "restrict_min_age",
          "above restrict_max_age", where, label)
    rated = [vocab.LEVEL_ONE, vocab.LEVEL_TWO, vocab.LEVEL_THREE]
    _fail(~df["restrict_min_level"].isin(rated).to_numpy() & df["restrict_min_level"].notna().to_numpy(),
          df, "restrict_min_level", "not 1/2/3", where, label)
    _fail(df["begin_date"].isna().to_numpy(), df, "begin_date", "missing", where, label)
    _fail((df["end_date"] < df["begin_date"]).to_numpy(bool), df, "end_date", "before begin_date", where, label)
    # two rows of one code may not be in force on the same day
    s = df.sort_values(["item_code", "begin_date"])
    same = (s["item_code"].to_numpy()[1:] == s["item_code"].to_numpy()[:-1])
    prev_end = s["end_date"].to_numpy()[:-1]
    next_begin = s["begin_date"].to_numpy()[1:]
    overlap = same & (pd.isna(prev_end) | (prev_end >= next_begin))
    if overlap.any():
        i = int(np.flatnonzero(overlap)[0])
        code = s["item_code"].iloc[i]
        raise ValidationError("begin_date", "two versions in force on the same day", f"{where} item {code}")


@functools.cache
def _shipped() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "catalog.csv.gz", dtype=str, keep_default_na=False)
    return _coerce(raw, "catalog.csv.gz")


def load_catalog() -> pd.DataFrame:
    """The shipped catalog as a DataFrame in the lake ``catalog`` schema (a copy of a cached frame).
    Strings are ``string`` dtype, money and ages ``Int64`` (null = none), dates ``datetime64[s]``."""
    return _shipped().copy()


@functools.cache
def _service_prices() -> pd.DataFrame:
    df = pd.read_csv(DATA / "service_prices.csv.gz", dtype={"item_code": str, "level": str, "price_fen": "int64"})
    return df


def service_prices() -> pd.DataFrame:
    """Per-level maximum prices of the service items: ``item_code, level ("3"/"2"/"1"), price_fen``.
    The catalog's ``price_cap_fen`` is the 三级 price; 一级 applies to 未定级 institutions too."""
    return _service_prices().copy()


@functools.cache
def _drug_categories() -> pd.DataFrame:
    return pd.read_csv(DATA / "drug_categories.csv.gz", dtype=str, keep_default_na=False)


def drug_categories() -> pd.DataFrame:
    """The 药品分类 tree of the national drug catalog: ``code`` (XA10B, ZA04 …; 西药 codes follow the
    ATC levels), ``name``, ``parent``."""
    return _drug_categories().copy()


def drug_category(item_codes) -> pd.Series:
    """The deepest 药品分类 code of each shipped drug item (from its code: characters 2–6 are the
    category, zero-padded), null for other items — e.g. to pick antidiabetics (``XA10``) for a diabetes
    visit: ``drug_category(codes).str.startswith("XA10")``."""
    known = set(_drug_categories()["code"])
    s = pd.Series(item_codes, dtype="string").reset_index(drop=True)
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    drug = s.str.match(r"^[XZ][A-Z0-9]{5}").fillna(False).astype(bool)
    for n in (6, 5, 4, 2):  # longest known prefix wins; trailing zeros are padding
        cand = s.str.slice(0, n)
        hit = drug & out.isna() & cand.isin(known).fillna(False).astype(bool)
        pad_ok = s.str.slice(n, 6).str.fullmatch(r"0*").fillna(False).astype(bool)
        hit &= pad_ok
        out[hit] = cand[hit]
    return out


def catalog_table(df: pd.DataFrame | None = None) -> pa.Table:
    """A catalog frame (default: the shipped one) as an Arrow table in the lake ``catalog`` schema."""
    df = load_catalog() if df is None else df
    cols = {}
    for f in TABLES["catalog"]:
        s = df[f.name]
        if f.name in DATE_COLUMNS:
            cols[f.name] = pa.array(pd.to_datetime(s).dt.date.astype(object).where(s.notna(), None), type=f.type)
        else:
            cols[f.name] = pa.array(s.astype(object).where(s.notna(), None).tolist(), type=f.type)
    return pa.table(cols, schema=TABLES["catalog"])


# -- items ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One catalog row, with plain Python values (``None`` where the column is null)."""

    item_code: str
    kind: str
    name: str
    item_class: str
    preselfpay_ppm: int | None
    price_cap_fen: int | None
    unit: str | None
    restrict_sex: str | None
    restrict_min_age: int | None
    restrict_max_age: int | None
    inpatient_only: bool
    restrict_min_level: str | None
    required_dx: str | None
    restriction_text: str | None
    begin_date: dt.date
    end_date: dt.date | None
    version: str | None
    source: str | None

    @property
    def required_dx_prefixes(self) -> tuple[str, ...]:
        return tuple(self.required_dx.split("|")) if self.required_dx else ()

    @property
    def restricted(self) -> bool:
        return bool(self.restrict_sex or self.restrict_min_age is not None or self.restrict_max_age is not None
                    or self.inpatient_only or self.restrict_min_level or self.required_dx)

    def in_force(self, on: dt.date) -> bool:
        return self.begin_date <= on and (self.end_date is None or on <= self.end_date)


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


_ITEM_FIELDS = [f.name for f in fields(Item)]


def _is_scalar_date(on: Any) -> bool:
    return isinstance(on, (dt.date, str, pd.Timestamp, np.datetime64))


def _as_date(on: Any, field: str = "on") -> dt.date:
    if isinstance(on, dt.datetime):
        return on.date()
    if isinstance(on, dt.date):
        return on
    if isinstance(on, np.datetime64) and not np.isnat(on):
        return pd.Timestamp(on).date()
    try:
        return dt.date.fromisoformat(str(on))
    except ValueError:
        raise ValidationError(field, f"not a date: {on!r}") from None


class Catalog:
    """A catalog frame with look-ups by code and date, vectorised look-ups and restriction checks.

    ``Catalog(df)`` accepts any frame with the lake ``catalog`` columns (validated: kinds, classes,
    positive prices, consistent dates, no two versions of a code in force on one day).
    """

    def __init__(self, df: pd.DataFrame, name: str = "catalog", _trusted: bool = False):
        self.name = name
        frame = df if _trusted else _coerce(df, name)
        self.frame = frame.sort_values(["item_code", "begin_date"], kind="stable").reset_index(drop=True)
        codes = self.frame["item_code"].to_numpy(dtype=object)
        first = np.ones(len(codes), dtype=bool)
        first[1:] = codes[1:] != codes[:-1]
        self._first = np.flatnonzero(first)  # first row of each code
        self._count = np.diff(np.append(self._first, len(codes)))  # versions per code
        self._index = pd.Index(codes[first])
        self._arrow = pa.array(codes[first].tolist(), type=pa.string())
        self._begin = self.frame["begin_date"].to_numpy("datetime64[D]")
        end = self.frame["end_date"].to_numpy("datetime64[D]")
        self._end = np.where(np.isnat(end), np.datetime64("9999-12-31"), end)
        self._rank = np.repeat(np.arange(len(self._first)), self._count)
        self._begin_days = self._begin.astype("int64")
        self._end_days = self._end.astype("int64")
        self._day0 = int(self._begin_days.min()) if len(codes) else 0
        self._span = 1 << 24  # > any day offset (46,000 years)
        self._keys = self._rank * self._span + (self._begin_days - self._day0)
        self._single = bool(len(codes) == 0 or self._count.max() == 1)
        self._latest = self._first + self._count - 1
        self._by_day: dict[int, np.ndarray] = {}
        f = self.frame
        self._r = {
            "sex": f["restrict_sex"].to_numpy(dtype=object, na_value=None),
            "min_age": f["restrict_min_age"].to_numpy(dtype="float64", na_value=np.nan),
            "max_age": f["restrict_max_age"].to_numpy(dtype="float64", na_value=np.nan),
            "inpatient": f["inpatient_only"].to_numpy(dtype=bool),
            "level": pd.to_numeric(f["restrict_min_level"]).to_numpy(dtype="float64", na_value=np.nan),
            "dx": f["required_dx"].to_numpy(dtype=object, na_value=None),
        }
        self._class_rank = f["item_class"].map({c: i for i, c in enumerate(CLASS_ORDER)}).to_numpy(dtype=np.int64)
        self._preselfpay = f["preselfpay_ppm"].fillna(-1).to_numpy(dtype=np.int64)
        self._price_cap = f["price_cap_fen"].fillna(-1).to_numpy(dtype=np.int64)
        r = self._r
        self._restricted = ((r["sex"] != None) | ~np.isnan(r["min_age"]) | ~np.isnan(r["max_age"])  # noqa: E711
                            | r["inpatient"] | ~np.isnan(r["level"]) | (r["dx"] != None))  # noqa: E711

    @classmethod
    def read(cls, path: str | Path) -> "Catalog":
        """A region's own catalog from a ``.csv`` (errors name the file line) or ``.parquet`` file with
        the lake ``catalog`` columns."""
        path = Path(path)
        if not path.exists():
            raise ValidationError("catalog", "no such file", str(path))
        if path.suffix == ".parquet":
            return cls(_coerce(pd.read_parquet(path), path.name), name=path.name, _trusted=True)
        if path.suffix not in (".csv", ".gz"):
            raise ValidationError("catalog", "expected a .csv, .csv.gz or .parquet file", str(path))
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        return cls(_coerce(raw, path.name, first_line=2), name=path.name, _trusted=True)

    @classmethod
    def of_items(cls, df: pd.DataFrame, name: str = "catalog") -> "Catalog":
        """A catalog from a frame that gives at least ``item_code`` and ``item_class``; the other
        catalog columns, where absent, take their neutral value (no price cap, no restriction, in
        force from 1900-01-01, kind ``drug``). Validated like any catalog."""
        for c in ("item_code", "item_class"):
            if c not in df.columns:
                raise ValidationError(c, "missing catalog column", name)
        neutral = {"kind": "drug", "inpatient_only": False, "begin_date": "1900-01-01"}
        full = df.copy()
        for c in COLUMNS:
            if c not in full.columns:
                full[c] = neutral.get(c, full["item_code"] if c == "name" else None)
        return cls(full, name=name)

    @classmethod
    def of_lake(cls, folder: str | Path) -> "Catalog":
        """A lake's own catalog (its ``catalog`` table), else the one shipped with yibao."""
        from yibao.lake.io import has_table, read_table

        if has_table(folder, "catalog"):
            return cls(read_table(folder, "catalog").to_pandas(), name=f"{folder} catalog")
        return cls.shipped()

    @classmethod
    def shipped(cls) -> "Catalog":
        """The catalog shipped with yibao (cached)."""
        return _shipped_catalog()

    def __len__(self) -> int:
        return len(self.frame)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._index.get_indexer([code])[0] >= 0

    def __repr__(self) -> str:
        return f"<Catalog {self.name}: {len(self._index)} items, {len(self)} rows>"

    @property
    def codes(self) -> np.ndarray:
        return self._index.to_numpy(dtype=object)

    def versions(self, code: str) -> list[str]:
        """The versions of one item, oldest first."""
        rows = self._rows(code)
        return [self.frame["version"].iloc[i] for i in rows]

    def revise(self, rows: pd.DataFrame, name: str | None = None) -> "Catalog":
        """A new catalog with a revision applied (a new edition, a price change, a new restriction):
        each row of ``rows`` (catalog columns) starts a new version of its item on its ``begin_date``;
        the version in force the day before is closed then (``end_date`` = begin − 1 day). Versions that
        would begin on or after the new row's date are refused rather than silently dropped."""
        new = _coerce(rows, name or "revision")
        old = self.frame.copy()
        first = new.groupby("item_code", as_index=False)["begin_date"].min()
        hit = old.reset_index().merge(first, on="item_code", suffixes=("", "_new"))
        later = hit[hit["begin_date"] >= hit["begin_date_new"]]
        if len(later):
            r = later.iloc[0]
            raise ValidationError("begin_date", f"item {r['item_code']!r} already has a version from "
                                  f"{r['begin_date'].date()}", name or "revision")
        open_ = hit[hit["end_date"].isna() | (hit["end_date"] >= hit["begin_date_new"])]
        old.loc[open_["index"].to_numpy(), "end_date"] = (open_["begin_date_new"] - pd.Timedelta(days=1)).to_numpy()
        merged = pd.concat([old, new], ignore_index=True)
        return Catalog(merged, name=name or f"{self.name} (revised)")

    def _rows(self, code: str) -> range:
        k = self._index.get_indexer([code])[0] if isinstance(code, str) else -1
        if k < 0:
            raise ValidationError("item_code", f"unknown catalog item {code!r}", self.name)
        start = int(self._first[k])
        return range(start, start + int(self._count[k]))

    def get(self, code: str, on: dt.date | str | None = None, version: str | None = None) -> Item:
        """The item ``code`` in force on ``on`` (default: its latest version), or of ``version``.
        Raises :class:`ValidationError` for an unknown code, an unknown version, or a date on which
        no version is in force."""
        rows = self._rows(code)
        if version is not None:
            hits = [i for i in rows if self.frame["version"].iloc[i] == version]
            if not hits:
                raise ValidationError("version", f"item {code!r} has no version {version!r} "
                                      f"(has {self.versions(code)})", self.name)
            item = self._item(hits[-1])
            if on is not None and not item.in_force(_as_date(on)):
                raise ValidationError("on", f"item {code!r} version {version!r} is not in force on {on}", self.name)
            return item
        if on is None:
            return self._item(rows[-1])
        day = np.datetime64(_as_date(on), "D")
        for i in reversed(rows):
            if self._begin[i] <= day <= self._end[i]:
                return self._item(i)
        spans = ", ".join(f"{self._begin[i]}..{'' if self._end[i] == np.datetime64('9999-12-31') else self._end[i]}"
                          for i in rows)
        raise ValidationError("item_code", f"catalog item {code!r} is not in force on {on} (in force {spans})",
                              self.name)

    def _item(self, i: int) -> Item:
        row = self.frame.iloc[i]
        return Item(**{f: _plain(row[f]) for f in _ITEM_FIELDS})

    # -- vectorised -----------------------------------------------------------------------------------

    def positions(self, codes, on=None) -> np.ndarray:
        """Row numbers in :attr:`frame` for many codes (``-1`` = unknown code, or no version in force
        on the given date(s)). ``on`` is one date or an array of dates aligned with ``codes``; codes
        may be dictionary-encoded (:class:`yibao.coded.Coded`), looked up once per distinct code."""
        if isinstance(codes, Coded):
            per_code = self._ranks(list(codes.categories))
            k = np.where(codes.codes >= 0, per_code[codes.codes], -1) if len(per_code) else np.full(len(codes), -1)
        else:
            k = self._ranks(codes)
        found = k >= 0
        if on is None or _is_scalar_date(on):
            per_code = self._latest if on is None else self._rows_on(np.datetime64(_as_date(on), "D"))
            return np.where(found, per_code[np.maximum(k, 0)], -1)
        days = self._days(on, len(k)).astype("int64")
        pos = np.full(len(k), -1, dtype=np.int64)
        pos[found] = self._search(k[found], days[found])
        return pos

    def _ranks(self, codes) -> np.ndarray:
        """Each code's rank among the catalog's codes (−1: unknown): a dictionary lookup for the few
        codes of a real-time claim, Arrow hashing for a batch."""
        if len(codes) > SMALL:
            return index_in(codes, self._arrow)
        rank = self.__dict__.get("_rank_of")
        if rank is None:
            rank = self.__dict__["_rank_of"] = {c: i for i, c in enumerate(self._arrow.to_pylist())}
        return np.fromiter((rank.get(c, -1) if isinstance(c, str) else -1 for c in codes), dtype=np.int64,
                           count=len(codes))

    def _search(self, rank: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Row in force for each (code rank, day), -1 where none. Rows are sorted by (code, begin):
        the version in force is the last one beginning on or before the day, if it has not ended."""
        if self._single:
            cand = self._first[rank]
            ok = self._begin_days[cand] <= days
        else:
            cand = np.searchsorted(self._keys, rank * self._span + (days - self._day0), side="right") - 1
            cand = np.maximum(cand, 0)
            ok = (self._rank[cand] == rank) & (self._begin_days[cand] <= days)
        ok &= days <= self._end_days[cand]
        return np.where(ok, cand, -1)

    def _rows_on(self, day: np.datetime64) -> np.ndarray:
        key = int(day.astype("int64"))
        hit = self._by_day.get(key)
        if hit is None:
            ranks = np.arange(len(self._first))
            hit = self._search(ranks, np.full(len(ranks), key, dtype=np.int64))
            if len(self._by_day) > 64:
                self._by_day.clear()
            self._by_day[key] = hit
        return hit

    @staticmethod
    def _days(on, n: int) -> np.ndarray:
        if isinstance(on, np.ndarray) and on.dtype == "datetime64[D]" and len(on) == n and not np.isnat(on).any():
            return on
        if isinstance(on, (dt.date, str, pd.Timestamp, np.datetime64)):
            return np.full(n, np.datetime64(pd.Timestamp(on).date(), "D"))
        days = pd.to_datetime(pd.Series(on)).to_numpy("datetime64[D]")
        if len(days) != n:
            raise ValidationError("on", f"{len(days)} dates for {n} codes")
        if np.isnat(days).any():
            raise ValidationError("on", f"missing date at position {int(np.flatnonzero(np.isnat(days))[0]) + 1}")
        return days

    def lookup_many(self, codes, on=None) -> pd.DataFrame:
        """The catalog rows for many codes, aligned with the input (same length and order), plus
        ``found`` (False = unknown code or not in force on the date; the row's other columns are null)."""
        pos = self.positions(codes, on)
        found = pos >= 0
        out = self.frame.iloc[np.where(found, pos, 0)].reset_index(drop=True)
        if not found.all():
            keep = pd.Series(found)
            out["inpatient_only"] = out["inpatient_only"].astype("boolean")
            for c in out.columns:
                out[c] = out[c].where(keep)
        out["item_code"] = arrow_strings(codes).to_pandas().astype("string").reset_index(drop=True)
        out["found"] = found
        return out

    # -- restrictions ------------------------------------------------------------------------------

    def restriction_reasons(self, lines: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
        """One boolean column per condition (:data:`RESTRICTION_CHECKS`) per line: True where the line's
        item has that restriction and the claim falls outside it.

        ``lines`` needs ``claim_id`` and ``item_code`` (and ``service_date`` to pick the version in
        force; otherwise the latest). ``claims`` needs ``claim_id``, ``sex`` ("1"/"2"), ``age``
        (years; or ``birth_date`` to compute it at the service date / ``adm_date``), ``med_type`` (or a
        boolean ``inpatient``), ``level`` (institution level "3"/"2"/"1"/"0") and ``diagnoses``
        ('|'-joined ICD-10). :func:`claim_context` builds these columns from the lake tables. Lines of
        unknown items are not restriction violations (scope handles them as out of catalog).
        """
        for c in ("claim_id", "item_code"):
            if c not in lines.columns:
                raise ValidationError(c, "missing column", "lines")
        ctx = _claim_columns(claims)
        k_all = index_in(lines["claim_id"].astype("string"), arrow_strings(ctx["claim_id"].astype("string")))
        if (k_all < 0).any():
            i = int(np.flatnonzero(k_all < 0)[0])
            raise ValidationError("claim_id", f"no claim {lines['claim_id'].iloc[i]!r} for this line",
                                  f"lines row {i + 1}")
        has_date = "service_date" in lines.columns
        pos = self.positions(lines["item_code"], lines["service_date"] if has_date else None)
        age = ctx["age"].to_numpy(dtype="float64", na_value=np.nan)[k_all]
        if "birth_date" in ctx and np.isnan(age).any():
            age = self._ages(ctx, k_all, lines["service_date"].to_numpy() if has_date else None)
        line_no = np.arange(len(lines))  # ages are per line (the service date), the rest per claim
        at = k_all
        out = self.violation_reasons(pos, line_no, ctx["sex"].to_numpy(dtype=object)[at], age,
                                     ctx["inpatient"].to_numpy(dtype=bool)[at], ctx["level"].to_numpy(dtype=object)[at],
                                     ctx["diagnoses"].to_numpy(dtype=object, na_value=None)[at])
        return pd.DataFrame(out, index=lines.index)

    @staticmethod
    def _ages(ctx: pd.DataFrame, k: np.ndarray, when: np.ndarray | None) -> np.ndarray:
        """Age in whole years of each line's person: the claim's ``age``, else from ``birth_date`` at
        the service date (or the claim's ``adm_date``)."""
        age = ctx["age"].to_numpy(dtype="float64", na_value=np.nan)[k]
        if "birth_date" in ctx and np.isnan(age).any():
            if when is None:
                when = ctx["adm_date"].to_numpy()[k] if "adm_date" in ctx else np.full(len(k), np.datetime64("NaT"))
            born = ctx["birth_date"].to_numpy("datetime64[D]")[k]
            computed = _age_years(born, pd.to_datetime(pd.Series(when)).to_numpy("datetime64[D]"))
            age = np.where(np.isnan(age), computed, age)
        return age

    def violation_reasons(self, pos, at, sex, age, inpatient, level, diagnoses) -> dict[str, np.ndarray]:
        """The one restriction checker: for catalog rows ``pos`` (−1: not in the catalog, never a
        violation) used on claims ``at`` (each line's claim) whose person has ``sex`` ("1"/"2",
        unknown: None or ""), ``age`` (years, NaN unknown), on ``inpatient`` care, at an institution
        of ``level`` with ``diagnoses`` ('|'-joined ICD-10) — those five given per claim —, one boolean
        array per condition (:data:`RESTRICTION_CHECKS`): True where the item has that restriction
        and the use falls outside it. A restriction that cannot be verified (unknown sex or age) is
        not met."""
        pos = np.asarray(pos, dtype=np.int64)
        out = {c: np.zeros(len(pos), dtype=bool) for c in RESTRICTION_CHECKS}
        rows = np.flatnonzero((pos >= 0) & self._restricted[np.maximum(pos, 0)])  # only restricted lines
        if not len(rows):
            return out
        p, k, r = pos[rows], np.asarray(at)[rows], self._r

        def of_claims(values, dtype=object):
            return np.asarray(values[k], dtype=dtype)

        need_sex = r["sex"][p]
        out["sex"][rows] = (need_sex != None) & (of_claims(sex) != need_sex)  # noqa: E711
        lo, hi = r["min_age"][p], r["max_age"][p]
        has_age = ~np.isnan(lo) | ~np.isnan(hi)
        if has_age.any():
            a = of_claims(age, "float64")
            out["age"][rows] = has_age & (np.isnan(a) | (a < np.nan_to_num(lo, nan=-1)) | (a > np.nan_to_num(hi, nan=1e9)))
        out["inpatient"][rows] = r["inpatient"][p] & ~of_claims(inpatient, bool)
        need = r["level"][p]
        lvl = _level_numbers(of_claims(level))
        out["level"][rows] = ~np.isnan(need) & (np.isnan(lvl) | (lvl < np.nan_to_num(need)))
        req = r["dx"][p]
        with_dx = np.flatnonzero(req != None)  # noqa: E711
        if len(with_dx):
            out["diagnosis"][rows[with_dx]] = ~_dx_match_many(req[with_dx], of_claims(diagnoses)[with_dx])
        return out

    def violations(self, pos, at, sex, age, inpatient, level, diagnoses) -> np.ndarray:
        """True where the row's item is used outside any of its restrictions (see :meth:`violation_reasons`)."""
        reasons = self.violation_reasons(pos, at, sex, age, inpatient, level, diagnoses)
        return np.logical_or.reduce(list(reasons.values()))

    def scope_of(self, pos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For rows ``pos`` (all in the catalog): class as 0 甲 / 1 乙 / 2 丙, the item's own 先行自付 ratio
        in ppm (−1 where the catalog gives none: the pack's default applies; 0 is a ratio of 0) and
        the unit price cap in fen (−1: none)."""
        pos = np.asarray(pos, dtype=np.int64)
        return self._class_rank[pos], self._preselfpay[pos], self._price_cap[pos]

    def restriction_violations(self, lines: pd.DataFrame, claims: pd.DataFrame) -> np.ndarray:
        """Boolean mask over ``lines``: True where the line's item is used outside its structured
        restrictions (sex, age, inpatient only, institution level, required diagnoses). See
        :meth:`restriction_reasons` for the columns it needs."""
        return self.restriction_reasons(lines, claims).to_numpy().any(axis=1)


@functools.cache
def _shipped_catalog() -> Catalog:
    return Catalog(_shipped(), name="shipped catalog", _trusted=True)


_LEVEL_NUMBERS = {level: float(level) for level in ("0", "1", "2", "3")}


def _level_numbers(levels: np.ndarray) -> np.ndarray:
    """Institution levels as numbers (NaN where not a number): a real-time claim's few without pandas."""
    if len(levels) <= SMALL and all(isinstance(v, str) and v in _LEVEL_NUMBERS for v in levels):
        return np.array([_LEVEL_NUMBERS[v] for v in levels], dtype="float64")
    return pd.to_numeric(pd.Series(levels), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _dx_match_many(required: np.ndarray, diagnoses: np.ndarray) -> np.ndarray:
    """Elementwise :func:`_dx_matches`, evaluated once per distinct (required, diagnoses) pair (a
    real-time claim's few lines one by one)."""
    if len(required) <= SMALL:
        return np.fromiter(map(_dx_matches, required, diagnoses), dtype=bool, count=len(required))
    rq, rq_u = pd.factorize(pd.Series(required, dtype=object), use_na_sentinel=False)
    dq, dq_u = pd.factorize(pd.Series(diagnoses, dtype=object), use_na_sentinel=False)
    pair = rq.astype(np.int64) * max(len(dq_u), 1) + dq
    uniq, inv = np.unique(pair, return_inverse=True)
    ok = np.fromiter((_dx_matches(rq_u[u // max(len(dq_u), 1)], dq_u[u % max(len(dq_u), 1)]) for u in uniq),
                     dtype=bool, count=len(uniq))
    return ok[inv]


def _dx_matches(required: str, diagnoses: str | None) -> bool:
    if not isinstance(diagnoses, str) or not diagnoses:
        return False
    prefixes = tuple(required.split("|"))
    return any(d.strip().upper().startswith(prefixes) for d in diagnoses.split("|"))


def _age_years(born: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whole years between two datetime64[D] arrays (NaN where either is missing)."""
    b = pd.DatetimeIndex(born)
    w = pd.DatetimeIndex(when)
    years = (w.year - b.year) - ((w.month < b.month) | ((w.month == b.month) & (w.day < b.day)))
    out = np.asarray(years, dtype="float64")
    out[np.isnat(born) | np.isnat(when)] = np.nan
    return out


def _claim_columns(claims: pd.DataFrame) -> pd.DataFrame:
    need = {"claim_id", "sex", "level", "diagnoses"}
    missing = sorted(need - set(claims.columns))
    if "age" not in claims.columns and "birth_date" not in claims.columns:
        missing.append("age or birth_date")
    if "inpatient" not in claims.columns and "med_type" not in claims.columns:
        missing.append("inpatient or med_type")
    if missing:
        raise ValidationError(", ".join(missing), "missing column(s) for restriction checks", "claims")
    ctx = pd.DataFrame({"claim_id": claims["claim_id"].to_numpy(dtype=object)})
    ctx["sex"] = claims["sex"].astype("string").to_numpy(dtype=object, na_value=None)
    ctx["age"] = pd.to_numeric(claims["age"], errors="coerce").to_numpy() if "age" in claims.columns \
        else np.full(len(claims), np.nan)
    if "birth_date" in claims.columns:
        ctx["birth_date"] = pd.to_datetime(claims["birth_date"]).to_numpy("datetime64[D]")
        if "adm_date" in claims.columns:
            ctx["adm_date"] = pd.to_datetime(claims["adm_date"]).to_numpy("datetime64[D]")
    if "inpatient" in claims.columns:
        ctx["inpatient"] = claims["inpatient"].fillna(False).astype(bool).to_numpy()
    else:
        ctx["inpatient"] = claims["med_type"].astype("string").isin(list(INPATIENT_MED_TYPES)).to_numpy(bool)
    ctx["level"] = claims["level"].astype("string").to_numpy(dtype=object, na_value=None)
    ctx["diagnoses"] = claims["diagnoses"].astype("string").to_numpy(dtype=object, na_value=None)
    if ctx["claim_id"].duplicated().any():
        raise ValidationError("claim_id", f"duplicate claim {ctx['claim_id'][ctx['claim_id'].duplicated()].iloc[0]!r}",
                              "claims")
    return ctx


def claim_context(claims: pd.DataFrame, persons: pd.DataFrame, institutions: pd.DataFrame) -> pd.DataFrame:
    """Lake ``claims`` joined with ``persons`` (sex, birth_date) and ``institutions`` (level): the
    columns :meth:`Catalog.restriction_violations` needs."""
    out = claims.merge(persons[["psn_no", "sex", "birth_date"]], on="psn_no", how="left", validate="m:1")
    out = out.merge(institutions[["fixmedins_code", "level"]], on="fixmedins_code", how="left", validate="m:1")
    return out
