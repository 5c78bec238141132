"""Helpers of the catalog build script (the shipped data itself is checked in test_items)."""

from __future__ import annotations

import datetime as dt

import pytest

from yibao.catalog.build import parse_payment_standard, parse_period, service_class, synthetic_fen


@pytest.mark.parametrize("text, want", [
    ("63.00元(10mg/支)", (6300, "支")),
    ("1.23元(25mg/片)；2.09元(50mg/片)", (123, "片")),  # the first specification
    ("5.68元(10mg/片(按C22H25FN2O4S计))", (568, "片")),  # nested brackets
    ("3.47元(每片含磷酸西格列汀50mg (以C16H15F6N5O计)和盐酸二甲双胍1000mg)", (347, "片")),
    ("90.00元(625ml/袋[中长链脂肪乳注射液125ml；复方氨基酸(16)注射液250ml])", (9000, "袋")),
    ("35.90元(0.2ml:2500IU(抗Xa))", (3590, "支")),
    ("479.00元/盒(先诺特韦片0.375g/利托那韦片0.1g,每盒30片)", (47900, "盒")),
    ("*", None), ("", None), ("见备注2", None),
])
def test_payment_standard(text, want):
    assert parse_payment_standard(text) == want


def test_agreement_period():
    assert parse_period("2025年1月1日至2026年12月31日") == (dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    assert parse_period("") == (None, None)


def test_synthetic_prices_are_stable_and_in_range():
    a = synthetic_fen("X1", 0.1, 5)
    assert a == synthetic_fen("X1", 0.1, 5)
    assert 10 <= a <= 500
    assert len({synthetic_fen(f"X{i}", 1, 100) for i in range(50)}) > 40


@pytest.mark.parametrize("name, cls", [
    ("体检费", "C"), ("激光脱毛术", "C"), ("验光", "C"), ("纹饰美容术", "C"), ("急救出诊", "A"),
    ("磁共振平扫(3T及以上)", "B"), ("螺旋CT平扫", "B"), ("血液透析", "B"), ("角膜移植术", "B"),
    ("凝血时间测定(CT)", "A"), ("胚胎移植术", "C"), ("阑尾切除术", "A"), ("血培养及鉴定", "A"),
])
def test_service_class_rule(name, cls):
    got, ppm, rule = service_class(name)
    assert got == cls and (ppm > 0) == (cls == "B")
    assert ("1999" in rule) == (cls != "A")
