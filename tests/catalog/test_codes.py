"""医保 ICD-10 / ICD-9-CM-3 code sets: real look-ups, malformed vs unknown, vectorised checks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.catalog.codes import icd9, icd10, normalize
from yibao.errors import ValidationError


def test_sizes_match_the_published_lists():
    assert len(icd10()) == 47_101
    assert len(icd9()) == 17_552
    assert icd10() is icd10()  # cached


def test_appendicitis_and_appendectomy():
    dx, px = icd10(), icd9()
    assert dx.name("K35.800x001") == "急性阑尾炎"
    assert dx.category("K35.800x001") == "K35"
    assert dx.category("K35.800x002") == "K35"  # well-formed, category known even if the row is not
    assert dx.chapter("K35.800x001").number == "11"
    assert dx.chapter("K35.800x001").name == "消化系统疾病"
    assert "K35.800x001" in dx and "k35.800X001 " in dx
    assert px.name("47.0100") == "腹腔镜下阑尾切除术"
    assert px.category("47.0100") == "47.0"
    assert px.chapter("47.0901").name == "消化系统手术"
    assert list(px.codes_with_prefix("47.0")) == [
        "47.0", "47.01", "47.0100", "47.09", "47.0900", "47.0901", "47.0902", "47.0903"]
    assert all(c.startswith("K35") for c in dx.codes_with_prefix("K35"))
    assert len(dx.codes_with_prefix("K35")) == 10


def test_special_shapes():
    dx, px = icd10(), icd9()
    assert dx.validate("A01.001+K77.0*") == "A01.001+K77.0*"
    assert dx.category("A01.001+K77.0*") == "A01"
    assert dx.chapter("M80000/3").number == "附录"  # morphology, not chapter 13
    assert dx.category("M80000/3") == "M800"
    assert dx.chapter("M80.000").number == "13"
    assert dx.parent("K35.800x001") == "K35.800"
    assert dx.parent("K35") is None
    assert px.validate("17.912A0") == "17.912A0"
    assert px.validate("01.6x00") == "01.6x00"
    assert px.chapter("17.91100").number == "3A"


def test_normalisation():
    assert normalize(" k35.800X001 ") == "K35.800x001"
    assert normalize("Ｋ３５") == "K35"  # full-width
    assert normalize("x01.0") == "X01.0"  # chapter-20 letter X stays upper-case


@pytest.mark.parametrize("code, kind", [
    ("K35.8000", "malformed"), ("K3", "malformed"), ("35.800", "malformed"), ("K35.80x001", "malformed"),
    ("47.01", "malformed"),  # an operation code given as a diagnosis
    ("Z99.999", "unknown"), ("K35.800x999", "unknown"),
])
def test_icd10_rejections_say_why(code, kind):
    with pytest.raises(ValidationError) as e:
        icd10().validate(code, field="principal_dx", record="claim C1")
    msg = str(e.value)
    assert kind in msg and "principal_dx" in msg and "claim C1" in msg


@pytest.mark.parametrize("code, kind", [
    ("47.010000", "malformed"), ("470100", "malformed"), ("K35.8", "malformed"), ("47.0100x01", "malformed"),
    ("47.0199", "unknown"), ("99.9999x999", "unknown"),
])
def test_icd9_rejections_say_why(code, kind):
    with pytest.raises(ValidationError, match=kind):
        icd9().validate(code)


@pytest.mark.parametrize("value", [None, "", "   ", 35])
def test_missing_code(value):
    with pytest.raises(ValidationError, match="missing"):
        icd10().validate(value)


def test_vectorised_checks():
    dx = icd10()
    s = pd.Series(["K35.800x001", " k35 ", None, "Z99.999", "bad", "I10.x00"])
    assert dx.validate_many(s).tolist() == [True, True, False, False, False, True]
    assert dx.wellformed_many(s).tolist() == [True, True, False, True, False, True]
    assert dx.names_many(s).iloc[0] == "急性阑尾炎" and pd.isna(dx.names_many(s).iloc[3])
    assert dx.validate_many(dx.codes).all()
    with pytest.raises(ValidationError, match="row 4: diagnosis: unknown"):
        dx.check_many(s.iloc[[0, 1, 5, 3]])


def test_every_shipped_code_is_wellformed():
    for cs in (icd10(), icd9()):
        assert cs.wellformed_many(cs.codes).all()
        assert cs.validate_many(cs.codes).all()
        for c in cs.codes[:: max(1, len(cs) // 500)]:
            cs.chapter(c)  # every code lies in a chapter


ICD10 = icd10().codes
ICD9 = icd9().codes


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(ICD10) - 1), st.integers(0, len(ICD9) - 1))
def test_property_shipped_codes_validate(i, j):
    assert icd10().validate(ICD10[i]) == ICD10[i]
    assert icd10().validate(ICD10[i].lower()) == ICD10[i]
    assert icd9().validate(ICD9[j]) == ICD9[j]


def _mutations():
    """Mutations that always break the shape: a stray letter or punctuation, a doubled dot, a
    dropped leading character, digits appended past the longest form."""
    return st.sampled_from(["insert_bang", "double_dot", "drop_first", "append_digits", "prefix_digit"])


def _mutate(code: str, how: str, pos: int) -> str:
    pos = pos % (len(code) + 1)
    if how == "insert_bang":
        return code[:pos] + "!" + code[pos:]
    if how == "double_dot":
        return code.replace(".", "..", 1) if "." in code else code + ".."
    if how == "drop_first":
        return code[1:]
    if how == "append_digits":
        return code + "12345"
    return "9" + code


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(ICD10) - 1), st.integers(0, len(ICD9) - 1), _mutations(), st.integers(0, 20))
def test_property_mutations_are_refused_as_malformed(i, j, how, pos):
    for cs, code in ((icd10(), ICD10[i]), (icd9(), ICD9[j])):
        bad = _mutate(code, how, pos)
        if how == "drop_first" and cs is icd9():
            bad = bad if not re.fullmatch(cs.pattern, normalize(bad)) else "!" + bad
        assert not cs.is_wellformed(bad), bad
        with pytest.raises(ValidationError, match="malformed"):
            cs.validate(bad)
        assert not cs.validate_many(np.array([bad], dtype=object))[0]


def test_tcm_code_sets():
    from yibao.catalog.codes import tcm_disease, tcm_syndrome

    d, z = tcm_disease(), tcm_syndrome()
    assert d.name("BNF010") == "咳嗽病" and d.chapter("BNF010").name == "肺系病类"
    assert z.name(" zbf000") == "风邪证" and z.category("ZBF000") == "ZBF"
    assert d.wellformed_many(d.codes).all() and z.wellformed_many(z.codes).all()
    assert "儿科虫病（小儿绦虫病）" in d.name("BEC000")  # several names of one code are kept
    with pytest.raises(ValidationError, match="malformed"):
        d.validate("ZBF000")  # a syndrome code given as a disease
    with pytest.raises(ValidationError, match="unknown"):
        d.validate("BNF999")
