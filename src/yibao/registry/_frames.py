"""Small helpers shared by the registry's vectorised engines: dates as day numbers and input checks."""

from __future__ import annotations

import datetime as dt
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao.errors import ValidationError

EPOCH = dt.date(1970, 1, 1)
OPEN_END = np.int64(2_000_000)  # day number far beyond any real date: an open-ended spell


def as_frame(data: pd.DataFrame | pa.Table, name: str, required: Iterable[str]) -> pd.DataFrame:
    """A pandas frame from a frame or Arrow table, refusing one that lacks a required column."""
    df = data.to_pandas() if isinstance(data, pa.Table) else data
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(name, f"expected a DataFrame or Arrow table, got {type(data).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValidationError(", ".join(missing), f"missing column(s) in {name}", record=name)
    return df


def day_numbers(col: pd.Series, open_value: np.int64 | None = None) -> np.ndarray:
    """Dates → int64 days since 1970-01-01; nulls become ``open_value`` (or -1 when none is given)."""
    if len(col) == 0:
        return np.zeros(0, dtype=np.int64)
    values = pd.to_datetime(col).to_numpy(dtype="datetime64[D]")
    nat = np.isnat(values)
    days = values.astype(np.int64)
    days[nat] = -1 if open_value is None else open_value
    return days


def day_number(d: dt.date | None, open_value: int | None = None) -> int:
    if d is None or d is pd.NaT:
        return -1 if open_value is None else int(open_value)
    if isinstance(d, pd.Timestamp):
        d = d.date()
    if isinstance(d, dt.datetime):
        d = d.date()
    return (d - EPOCH).days


def to_date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def month_bounds(year: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last day numbers of each month of ``year`` (12-element arrays)."""
    firsts = np.array([day_number(dt.date(year, m, 1)) for m in range(1, 13)], dtype=np.int64)
    nexts = np.array([day_number(dt.date(year + (m == 12), m % 12 + 1, 1)) for m in range(1, 13)], dtype=np.int64)
    return firsts, nexts - 1


def first_bad(mask: np.ndarray, ids: pd.Series, field: str, problem: str, what: str = "spell") -> None:
    """Raise a ValidationError naming the first record where ``mask`` is true."""
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        extra = f" ({int(mask.sum())} records in all)" if mask.sum() > 1 else ""
        raise ValidationError(field, problem + extra, record=f"{what} {ids.iloc[i]}")


def group_sum(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the rows of ``values`` (n × k int64) by integer ``keys``: (index of each group's first row in
    input order, sums k-wide), groups in ascending key order. Sort-based, no Python loop."""
    if values.ndim == 1:
        values = values[:, None]
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, values.shape[1]), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return order[starts], np.add.reduceat(values[order], starts, axis=0)
