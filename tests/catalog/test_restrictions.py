"""Parsing the 限定支付范围 text into structured conditions — examples are real catalog texts."""

from __future__ import annotations

import pytest

from yibao.catalog.codes import icd10
from yibao.catalog.restrictions import DISEASE_PREFIXES, Restriction, merge_prefixes, parse_restriction

DM = ("E10", "E11", "E12", "E13", "E14")


@pytest.mark.parametrize("text, want", [
    ("限二级及以上医疗机构癌症患者。", Restriction(min_level="2", required_dx=("C",))),
    ("限二级及以上医疗机构。", Restriction(min_level="2")),
    ("限女性绝经后骨质疏松症。", Restriction(sex="2", required_dx=("M80", "M81", "M82"))),
    ("限儿童。", Restriction(max_age=17)),
    ("限儿童检查、操作前的镇静、催眠。", Restriction(max_age=17)),
    ("限2岁至11岁儿童慢性便秘。", Restriction(min_age=2, max_age=11)),
    ("限3-12岁特发性或先天性肺动脉高压患者。", Restriction(min_age=3, max_age=12, required_dx=("I27.0", "I27.2"))),
    ("限5至12岁以下单纯性甲型和乙型流感儿童患者。", Restriction(min_age=5, max_age=11)),
    ("限16岁及以上癫痫患者部分性发作的单药治疗和添加治疗。", Restriction(min_age=16, required_dx=("G40", "G41"))),
    ("限3岁及3岁以上伴有症状、无法手术的丛状神经纤维瘤(PN)的I型神经纤维瘤病(NF1)儿童患者。", Restriction(min_age=3)),
    ("限成人2型糖尿病患者。", Restriction(min_age=18, required_dx=DM)),
    ("限成人慢性阻塞性肺疾病(COPD)。", Restriction(min_age=18, required_dx=("J44",))),
    ("限诊断明确的类风湿关节炎经传统DMARDs治疗3-6个月疾病活动度下降低于50%者；诊断明确的强直性脊柱炎"
     "(不含放射学前期中轴性脊柱关节炎)NSAIDs充分治疗3个月疾病活动度下降低于50%者。",
     Restriction(required_dx=("M05", "M06", "M45"))),
    ("限：1.反流性食管炎；2.十二指肠溃疡。", Restriction(required_dx=("K21", "K26"))),
    ("限轻、中度原发性高血压。", Restriction(required_dx=("I10", "I11", "I12", "I13", "I15"))),
    ("限住院患者。", Restriction(inpatient_only=True)),
    ("限三级医疗机构使用。", Restriction(min_level="3")),
    # not recognisable as structured conditions: kept as text only
    ("限二线用药。", Restriction()),
    ("限重度炎症及感染的患者。", Restriction()),
    ("清心泄热。用于心脾积热所致轻型复发性口腔溃疡。", Restriction()),  # 功能主治, not a restriction
    (None, Restriction()),
    ("", Restriction()),
])
def test_real_texts(text, want):
    assert parse_restriction(text) == want


def test_false_friends_are_not_diseases():
    # 间变性淋巴瘤激酶 (ALK) is not a lymphoma; 肿瘤坏死因子 (TNF) is not a tumour
    assert parse_restriction("限间变性淋巴瘤激酶(ALK)阳性的局部晚期或转移性非小细胞肺癌患者。").required_dx == ("C34",)
    got = parse_restriction("限对传统治疗或肿瘤坏死因子α (TNF-α)拮抗剂应答不足、失应答或无法耐受的成年中重度活动性克罗恩病患者。")
    assert got.required_dx == ("K50",)


def test_partial_lists_give_no_diagnosis_rule():
    # one indication (免疫性血小板减少症) is not in the curated map: requiring the others would refuse it
    text = "限：1.既往对糖皮质激素治疗反应不佳的成人慢性免疫性血小板减少症(ITP)患者；2.原发性高血压。"
    assert parse_restriction(text).required_dx == ()
    # emergencies and surgery are not diagnoses
    assert parse_restriction("限抢救、重症或因肝硬化、癌症引起胸腹水的患者。").required_dx == ()


def test_numbered_lists_give_no_age_rule():
    text = "限：1.1岁至14岁儿童哮喘的预防和长期治疗；2.2岁至14岁儿童季节性过敏性鼻炎和常年性过敏性鼻炎。"
    r = parse_restriction(text)
    assert r.min_age is None and r.max_age is None
    # adults and adolescents together: not an adult-only rule
    assert parse_restriction("限成人和12至＜18岁青少年的慢性丙型肝炎病毒(HCV)感染。").min_age is None


def test_merge_and_prefixes():
    a = Restriction(sex="2", min_age=10)
    b = Restriction(min_age=12, max_age=17, inpatient_only=True, min_level="2")
    m = a.merge(b)
    assert m == Restriction(sex="2", min_age=12, max_age=17, inpatient_only=True, min_level="2")
    assert merge_prefixes(["C34", "C", "E11", "E11.9"]) == ("C", "E11")
    assert Restriction().empty and not m.empty
    assert Restriction(required_dx=("C", "D0")).required_dx_text == "C|D0"


def test_every_curated_prefix_is_a_real_code_prefix():
    dx = icd10()
    for word, prefixes in DISEASE_PREFIXES.items():
        for p in prefixes:
            assert len(dx.codes_with_prefix(p)) > 0, (word, p)
