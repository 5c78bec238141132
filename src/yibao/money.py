"""Money kernels: amounts are integer fen (分); rates are exact decimals applied with a named rounding.

Policy packs give amounts in yuan and rates as decimals; engines work in fen (int / int64 arrays)
and rates in parts per million (ppm), so ``fen × rate`` is an integer product followed by one
rounding step — never a binary float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import Enum

import numpy as np

PPM = 1_000_000
# The largest single amount a bill may carry: 1亿元 (10^10 fen). Far above any real line or stay, and
# 10 million such amounts still sum well inside int64 (9.2 × 10^18), so no total can overflow.
MAX_AMOUNT_FEN = 10**10


class Rounding(str, Enum):
    """Where a region rounds to the fen: half-up (四舍五入, the common case) or truncation (舍去)."""

    HALF_UP = "half_up"
    TRUNCATE = "truncate"


def to_decimal(value: object, field: str = "amount") -> Decimal:
    from yibao.errors import ValidationError

    if isinstance(value, bool):
        raise ValidationError(field, f"expected a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)  # shortest repr: 0.1 -> '0.1', not the binary expansion
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, f"not a number: {value!r}") from None
    if not d.is_finite():
        raise ValidationError(field, f"not a finite number: {value!r}")
    return d


def yuan_to_fen(value: object, field: str = "amount") -> int:
    """Exact yuan → fen; refuses sub-fen precision rather than rounding it away silently."""
    from yibao.errors import ValidationError

    d = to_decimal(value, field) * 100
    if d != d.to_integral_value():
        raise ValidationError(field, f"{value!r} yuan has more than two decimals")
    return int(d)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def format_yuan(fen: int) -> str:
    """``123456`` → ``'1234.56'`` (statements print yuan with two decimals)."""
    return str(fen_to_yuan(fen))


def show_yuan(fen) -> str:
    """Fen as a report shows yuan: ``123456789`` → ``'1,234,567.89'``, exact at any size; a missing
    amount (None, NaN, NA) as ``'—'``."""
    if fen is None or str(fen) in ("nan", "<NA>"):  # None, a float or numpy NaN, pandas' NA
        return "—"
    return f"{fen_to_yuan(fen):,}"


def rate_to_ppm(value: object, field: str = "rate") -> int:
    """A rate such as ``0.85`` or ``'85%'`` → 850000 ppm; finer than 1 ppm is refused."""
    from yibao.errors import ValidationError

    text = str(value).strip() if not isinstance(value, (int, float, Decimal)) else value
    if isinstance(text, str) and text.endswith("%"):
        d = to_decimal(text[:-1], field) / 100
    else:
        d = to_decimal(text, field)
    p = d * PPM
    if p != p.to_integral_value():
        raise ValidationError(field, f"rate {value!r} is finer than one part per million")
    return int(p)


def div_round(numer: int, denom: int, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Integer ``numer / denom`` rounded to an integer (half away from zero, or toward zero)."""
    if denom <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numer < 0 else 1
    n = abs(numer)
    q = (2 * n + denom) // (2 * denom) if rounding == Rounding.HALF_UP else n // denom
    return sign * q


def apply_rate(fen: int, ppm: int, rounding: Rounding = Rounding.HALF_UP) -> int:
    """``fen × rate`` to the fen."""
    return div_round(int(fen) * int(ppm), PPM, rounding)


def div_round_np(numer: np.ndarray, denom: int | np.ndarray, rounding: Rounding = Rounding.HALF_UP) -> np.ndarray:
    """Vectorised :func:`div_round` over int64 arrays."""
    numer = np.asarray(numer, dtype=np.int64)
    denom = np.asarray(denom, dtype=np.int64)
    n = np.abs(numer)
    if rounding == Rounding.HALF_UP:
        q = (2 * n + denom) // (2 * denom)
    else:
        q = n // denom
    return np.where(numer < 0, -q, q)


def apply_rate_np(fen: np.ndarray, ppm: int | np.ndarray, rounding: Rounding = Rounding.HALF_UP) -> np.ndarray:
    """Vectorised :func:`apply_rate`; fen × ppm stays inside int64 for amounts below ~9.2e12 fen."""
    return div_round_np(np.asarray(fen, dtype=np.int64) * np.asarray(ppm, dtype=np.int64), PPM, rounding)
