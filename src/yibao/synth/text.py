"""Vectorised string building for identifiers (Arrow compute kernels, no per-row Python)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal strings of ``width`` characters."""
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string()), width, "0")


def prefixed(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    """``prefix`` followed by each integer zero-padded to ``width``: ``prefixed("E", [7], 3)`` → ``E007``."""
    return pc.binary_join_element_wise(pa.scalar(prefix), digits(values, width), "")


def join(parts: Sequence[pa.Array | str], sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays (scalars broadcast)."""
    return pc.binary_join_element_wise(*parts, sep)


def take_strings(labels: Sequence[str], index: np.ndarray) -> pa.Array:
    """``labels[index]`` for an integer index array, as an Arrow string array."""
    return pa.array(list(labels), pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))
