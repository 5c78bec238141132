"""The exact integer division every payment engine relies on, on both backends."""

from __future__ import annotations

import numpy as np
import pytest

from yibao.errors import ValidationError
from yibao.payment.backends import get_backend, idiv, round_div


def test_exact_division_matches_python_integers(lab):
    rng = np.random.default_rng(11)
    # quotients up to 2**50, numerators up to 2**60 (the documented range: quotient < 2**51, int64 operands)
    numer = [int(x) for x in rng.integers(0, 2**50, 200)] + [int(x) for x in rng.integers(2**50, 2**60, 100)]
    denom = [int(x) for x in rng.integers(1, 10**7, 200)] + [int(x) for x in rng.integers(2**11, 2**20, 100)]
    numer += [2**50 - 1, 0, 7, 10**15 + 1, 2**60 - 1]
    denom += [1, 5, 2, 10**6, 2**10]
    t = lab.table(i=list(range(len(numer))), a=numer, b=denom)
    got = lab.rows(t.select("i", q=idiv(t.a, t.b), r=round_div(t.a, t.b)), "i")
    for i, (a, b) in enumerate(zip(numer, denom)):
        assert got[i]["q"] == a // b, (a, b)
        assert got[i]["r"] == (2 * a + b) // (2 * b), (a, b)


def test_unknown_backend_is_refused():
    with pytest.raises(ValidationError, match="unknown backend 'polars'"):
        get_backend("polars")
