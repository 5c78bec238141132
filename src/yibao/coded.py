"""Dictionary-encoded text columns: a column of small integer codes into its few distinct values.

A year of claims repeats a handful of 险种, 医疗类别, levels and identities millions of times; keeping
them as codes lets every rule that reads them run once per distinct value and gather the answer by
code, instead of hashing millions of strings. :class:`Coded` is deliberately small (codes, values and
a few operations), so that a single real-time claim pays microseconds for it, not a DataFrame's cost.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SMALL = 64  # up to this many values, codes are found by a dict, faster than a hash table's set-up


class Coded:
    """``codes`` (int64, each ≥ 0) into ``categories`` (an object array of distinct strings)."""

    __slots__ = ("codes", "categories")

    def __init__(self, codes: np.ndarray, categories: np.ndarray):
        self.codes = codes
        self.categories = categories

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            return self.categories[self.codes[idx]]
        return Coded(self.codes[idx], self.categories)

    def _code_of(self, value: str) -> int:
        if len(self.categories) <= SMALL:  # a real-time claim's few values: no array compare
            return next((i for i, c in enumerate(self.categories) if c == value), -1)
        hit = np.flatnonzero(self.categories == value)
        return int(hit[0]) if len(hit) else -1

    def __eq__(self, value: object) -> np.ndarray:  # type: ignore[override]
        return self.codes == self._code_of(value)

    def __ne__(self, value: object) -> np.ndarray:  # type: ignore[override]
        return self.codes != self._code_of(value)

    __hash__ = None  # type: ignore[assignment]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.categories[self.codes]
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"Coded({list(self.categories)!r}, {len(self)} values)"


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) of an object array, in order of first appearance."""
    if len(values) <= SMALL:
        seen: dict = {}
        codes = np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64, count=len(values))
        return codes, np.array(list(seen), dtype=object)
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), np.asarray(uniq, dtype=object)


def _as_text(categories: np.ndarray, codes: np.ndarray, default: str) -> Coded:
    """Categories as distinct strings (nulls → ``default``), codes remapped where two became one."""
    text = np.array([default if (v is None or v != v) else (v if isinstance(v, str) else str(v)) for v in categories],
                    dtype=object)
    remap, uniq = _factorize(text)
    if len(uniq) == len(text):
        return Coded(codes, uniq if (remap == np.arange(len(remap))).all() else text[np.argsort(remap)])
    return Coded(remap[codes], uniq)


def encode(values: Any, n: int | None = None, default: str = "") -> Coded:
    """``values`` (an array, list, Arrow array, Categorical or :class:`Coded`; ``None``: ``n`` times
    ``default``) as a :class:`Coded` column of strings, nulls replaced by ``default``."""
    if values is None:
        return Coded(np.zeros(n or 0, dtype=np.int64), np.array([default], dtype=object))
    if isinstance(values, Coded):
        return values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if not pa.types.is_dictionary(values.type):
            values = pc.dictionary_encode(values)
        codes = values.indices.to_numpy(zero_copy_only=False)
        categories = np.array(values.dictionary.to_pylist() + [None], dtype=object)
        codes = np.where(pd.isna(codes), len(categories) - 1, codes).astype(np.int64)
        return _as_text(categories, codes, default)
    if isinstance(values, pd.Categorical):
        categories = np.array(list(values.categories) + [None], dtype=object)
        codes = np.where(values.codes < 0, len(categories) - 1, values.codes).astype(np.int64)
        return _as_text(categories, codes, default)
    codes, uniq = _factorize(np.asarray(values, dtype=object))
    return _as_text(uniq, codes, default)


def mapped(cat: Coded, f: Callable[[str], str]) -> Coded:
    """``f`` of every element, computed once per distinct value."""
    remap, uniq = _factorize(np.array([f(c) for c in cat.categories], dtype=object))
    return Coded(remap[cat.codes], uniq if len(uniq) else np.array([""], dtype=object))


def per_value(cat: Coded, f: Callable[[str], Any], dtype: Any) -> np.ndarray:
    """``f`` of every element as an array of ``dtype`` (bool, int …), once per distinct value."""
    table = np.array([f(c) for c in cat.categories], dtype=dtype)
    return table[cat.codes] if len(table) else np.zeros(len(cat), dtype=dtype)


def isin(cat: Coded, allowed) -> np.ndarray:
    allowed = set(allowed)
    return per_value(cat, lambda v: v in allowed, bool)


def per_pair(a: Coded, b: Coded, f: Callable[[str, str], Any], dtype: Any) -> np.ndarray:
    """``f(a[i], b[i])`` for every element, once per distinct pair."""
    if len(a) <= SMALL:  # a few elements: each pair as it comes, without the set-up of np.unique
        return np.array([f(x, y) for x, y in zip(a.categories[a.codes], b.categories[b.codes])], dtype=dtype)
    k = max(len(b.categories), 1)
    uniq, inv = np.unique(a.codes * k + b.codes, return_inverse=True)
    table = np.array([f(a.categories[u // k], b.categories[u % k]) for u in uniq], dtype=dtype)
    return table[inv] if len(table) else np.zeros(len(a), dtype=dtype)


__all__ = ["Coded", "encode", "mapped", "per_value", "isin", "per_pair"]
