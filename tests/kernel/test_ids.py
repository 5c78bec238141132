"""GB 11643 ID numbers, GB 32100 credit codes, admdvs and institution codes."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.errors import ValidationError
from yibao.ids import (
    make_credit_code,
    make_id_number,
    parse_id_number,
    validate_admdvs,
    validate_credit_code,
    validate_fixmedins_code,
)

admdvs = st.sampled_from(["110105", "370303", "210102", "411302", "654002", "510104"])
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31))


def test_known_id_number_from_the_standard():
    info = parse_id_number("11010519491231002x")  # the GB 11643 worked example, lower-case x
    assert info.number == "11010519491231002X"
    assert info.birth_date == dt.date(1949, 12, 31) and info.sex == "2" and info.admdvs == "110105"


@settings(max_examples=200)
@given(admdvs, births, st.integers(0, 499), st.sampled_from(["1", "2"]))
def test_made_id_numbers_round_trip(area, born, seq, sex):
    info = parse_id_number(make_id_number(area, born, seq, sex))
    assert (info.birth_date, info.sex, info.admdvs) == (born, sex, area)


@settings(max_examples=200)
@given(admdvs, births, st.integers(0, 499), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(area, born, seq, pos, delta):
    good = make_id_number(area, born, seq, "1")
    bad = good[:pos] + str((int(good[pos]) + delta) % 10) + good[pos + 1:]
    with pytest.raises(ValidationError) as e:
        parse_id_number(bad)
    assert e.value.field == "certno"


@pytest.mark.parametrize("bad, words", [
    ("1101051949123100", "17 digits"),
    ("99010519491231002X", "province"),
    ("11010519491331002X", "birth date"),
    ("110105194912310021", "check"),
])
def test_bad_id_numbers_say_why(bad, words):
    with pytest.raises(ValidationError, match=words):
        parse_id_number(bad)


def test_known_credit_code():
    assert validate_credit_code("91350100m000100y43") == "91350100M000100Y43"


@settings(max_examples=200)
@given(admdvs, st.integers(0, 31**9 - 1), st.integers(0, 16), st.integers(1, 30))
def test_credit_codes_round_trip_and_catch_a_changed_character(area, serial, pos, delta):
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    code = make_credit_code(area, serial)
    assert validate_credit_code(code) == code
    bad = code[:pos] + chars[(chars.index(code[pos]) + delta) % 31] + code[pos + 1:]
    with pytest.raises(ValidationError):
        validate_credit_code(bad)


def test_admdvs_and_institution_codes():
    assert validate_admdvs("370300") == "370300"
    assert validate_fixmedins_code("h43028100255") == "H43028100255"
    assert validate_fixmedins_code("P37030300001") == "P37030300001"
    for bad in ("37030", "990300", "37030a"):
        with pytest.raises(ValidationError, match="admdvs"):
            validate_admdvs(bad)
    for bad in ("X43028100255", "H4302810025", "H99028100255"):
        with pytest.raises(ValidationError):
            validate_fixmedins_code(bad)
