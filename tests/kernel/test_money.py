"""Integer-fen arithmetic: exact conversion, named rounding, scalar == vectorised."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.errors import ValidationError
from yibao.money import Rounding, apply_rate, apply_rate_np, format_yuan, rate_to_ppm, show_yuan, yuan_to_fen


def test_yuan_to_fen_is_exact_and_refuses_sub_fen():
    assert yuan_to_fen("1234.56") == 123456
    assert yuan_to_fen(0.1) == 10  # the float's shortest repr, not its binary expansion
    assert yuan_to_fen(Decimal("-3.5")) == -350
    with pytest.raises(ValidationError, match="more than two decimals"):
        yuan_to_fen("1.005")
    with pytest.raises(ValidationError, match="not a number"):
        yuan_to_fen("12元")
    assert format_yuan(123456) == "1234.56" and format_yuan(5) == "0.05"


def test_reports_show_yuan_exactly_with_thousands():
    import numpy as np
    import pandas as pd

    assert show_yuan(123456789) == "1,234,567.89" and show_yuan(-5) == "-0.05" and show_yuan(0) == "0.00"
    assert show_yuan(np.int64(10**17 + 1)) == "1,000,000,000,000,000.01"  # a float would lose the fen
    assert [show_yuan(v) for v in (None, float("nan"), pd.NA)] == ["—", "—", "—"]


def test_rates_and_rounding_modes():
    assert rate_to_ppm("85%") == 850_000 and rate_to_ppm(0.075) == 75_000
    with pytest.raises(ValidationError, match="part per million"):
        rate_to_ppm("0.12345678")
    # 0.85 × 12345 fen = 10493.25 → 10493; 0.5 × 3 fen = 1.5 → 2 half-up, 1 truncated
    assert apply_rate(12345, 850_000) == 10493
    assert apply_rate(3, 500_000, Rounding.HALF_UP) == 2
    assert apply_rate(3, 500_000, Rounding.TRUNCATE) == 1
    assert apply_rate(-3, 500_000, Rounding.HALF_UP) == -2


@given(st.lists(st.integers(-10**11, 10**11), min_size=1, max_size=50), st.integers(0, 2 * 10**6),
       st.sampled_from(list(Rounding)))
def test_vectorised_equals_scalar(fens, ppm, mode):
    got = apply_rate_np(np.array(fens, dtype=np.int64), ppm, mode)
    assert got.tolist() == [apply_rate(f, ppm, mode) for f in fens]
