"""Dictionary-encoded text columns: a column of codes (``pd.Categorical``) into its few distinct values.

A year of claims repeats a handful of 险种, 医疗类别, levels and identities millions of times; keeping
them as small integer codes lets every rule that reads them run once per distinct value and gather
the answer by code, instead of hashing millions of strings.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def encode(values: Any, n: int | None = None, default: str = "") -> pd.Categorical:
    """``values`` (array, list, Arrow array, Categorical; ``None``: ``n`` times ``default``) as a
    Categorical of strings, nulls replaced by ``default``."""
    if values is None:
        return pd.Categorical.from_codes(np.zeros(n or 0, dtype=np.int8), categories=[default])
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if not pa.types.is_dictionary(values.type):
            values = pc.dictionary_encode(values)
        codes = values.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        cat = pd.Categorical.from_codes(codes, categories=[str(v) for v in values.dictionary.to_pylist()],
                                        validate=False)
    else:
        cat = values if isinstance(values, pd.Categorical) else pd.Categorical(np.asarray(values, dtype=object))
        if cat.categories.inferred_type not in ("string", "empty"):
            cat = cat.rename_categories([str(c) for c in cat.categories])
    if (cat.codes < 0).any():
        if default not in cat.categories:
            cat = cat.add_categories([default])
        cat = cat.fillna(default)
    return cat


def mapped(cat: pd.Categorical, f: Callable[[str], str]) -> pd.Categorical:
    """``f`` of every element, computed once per distinct value."""
    new = pd.Series([f(c) for c in cat.categories], dtype=object)
    codes, uniq = pd.factorize(new)
    return pd.Categorical.from_codes(codes[cat.codes] if len(codes) else cat.codes, categories=list(uniq) or [""],
                                     validate=False)


def per_value(cat: pd.Categorical, f: Callable[[str], Any], dtype: Any) -> np.ndarray:
    """``f`` of every element as an array of ``dtype`` (bool, int …), once per distinct value."""
    table = np.array([f(c) for c in cat.categories], dtype=dtype)
    return table[cat.codes] if len(table) else np.zeros(len(cat), dtype=dtype)


def isin(cat: pd.Categorical, allowed) -> np.ndarray:
    allowed = set(allowed)
    return per_value(cat, lambda v: v in allowed, bool)


def per_pair(a: pd.Categorical, b: pd.Categorical, f: Callable[[str, str], Any], dtype: Any) -> np.ndarray:
    """``f(a[i], b[i])`` for every element, once per distinct pair."""
    key = a.codes.astype(np.int64) * max(len(b.categories), 1) + b.codes
    uniq, inv = np.unique(key, return_inverse=True)
    k = max(len(b.categories), 1)
    table = np.array([f(a.categories[u // k], b.categories[u % k]) for u in uniq], dtype=dtype)
    return table[inv] if len(table) else np.zeros(len(a), dtype=dtype)


__all__ = ["encode", "mapped", "per_value", "isin", "per_pair"]
