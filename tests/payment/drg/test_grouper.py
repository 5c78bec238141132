"""CHS-DRG 1.1 grouper: cases checked by hand against the scheme text.

Rule lines cited as ``DETAIL:n`` refer to ``CHS_DRG_11_rules/4_ADRG_DETAIL.txt`` of OpenDRG/DRG_Rules
(ab57a5bd); ``DRG.dat:n``, ``MCC.dat:n``, ``CC.dat:n``, ``CCE.dat:n`` and ``SS_VALID.dat:n`` to
``CHS_DRG_11_tables/`` of OpenDRG/DRG_Python (5d523a26); ``MCC.txt:n`` / ``CCE.txt:n`` to
``5_MCC.txt`` / ``7_CCE.txt`` of the rules.
"""

from __future__ import annotations

import pytest

from yibao.errors import PolicyError
from yibao.payment.drg import AMBIGUOUS, OK, UNGROUPABLE, GroupInput, Grouper, GroupResult, group


def case(diagnoses: str, procedures: str = "", sex: int = 1, age: int = 50, **kw) -> GroupResult:
    return group(dict(sex=sex, age=age, diagnoses=diagnoses, procedures=procedures, **kw))


# -- pre-MDC ---------------------------------------------------------------------------------------

def test_heart_transplant_is_aa19():
    # DETAIL:2-4 "AA1 心脏移植 / 包含以下主要手术或操作： / 37.5100 心脏移植术"; DRG.dat:1 "AA19 心脏移植"
    r = case("I42.000", "37.5100")
    assert (r.mdc, r.adrg, r.drg, r.status) == ("MDCA", "AA1", "AA19", OK)


def test_ventilation_96h_is_ah1_and_split_by_mcc():
    # DETAIL:51-55 AH1 "96.7201 呼吸机治疗[大于等于 96 小时]"; DRG.dat:9-10 AH11 / AH15 (no AH13)
    plain = case("J18.900", "96.7201")
    assert (plain.mdc, plain.adrg, plain.drg) == ("MDCA", "AH1", "AH15")
    # MCC.dat:1840 "J96.000 109" (呼吸衰竭), J18.900 is in no exclusion table 109
    with_mcc = case("J18.900|J96.000", "96.7201")
    assert (with_mcc.drg, with_mcc.cc_code, with_mcc.cc_level) == ("AH11", "J96.000", "MCC")


def test_ventilation_as_other_procedure_does_not_enter_mdca():
    # MDCA is decided by the main procedure (README: "MDCA … by main procedure")
    r = case("J18.900", "34.0400|96.7201")
    assert r.mdc == "MDCE"


def test_pancreas_kidney_combination_ac1_versus_pancreas_alone_ad1():
    # DETAIL:14-21 AC1 "同时包含以下手术： 52.8000 … 和 … 55.6901"; DETAIL:22-26 AD1 52.8000 alone
    assert case("E10.200", "52.8000|55.6901").adrg == "AC1"
    assert case("E10.200", "52.8000").adrg == "AD1"


@pytest.mark.parametrize("weight, adrg", [(1400, "PS1"), (1500, "PS2"), (1999, "PS2"), (2000, "PS3"),
                                          (2499, "PS3"), (2500, "PS4"), (3600, "PS4")])
def test_newborn_premature_by_birth_weight_band(weight, adrg):
    # DETAIL:62777-62812 PS1 <1500g, PS2 1500-1999g, PS3 2000-2499g, PS4 >2499g, each "主要诊断或其他
    # 诊断中包含以下诊断： P07.200 极度不成熟 …"
    r = case("P07.200", sex=2, age=0, age_days=2, birth_weight_g=weight)
    assert (r.mdc, r.adrg, r.status) == ("MDCP", adrg, OK)


def test_newborn_with_p07_as_other_diagnosis_still_goes_by_weight():
    # PS rules look at "主要诊断或其他诊断"; P59.900 新生儿黄疸 is not in PR1 (DETAIL:62769-62776)
    r = case("P59.900|P07.200", age=0, age_days=5, birth_weight_g=1800)
    assert (r.mdc, r.adrg) == ("MDCP", "PS2")


def test_newborn_respiratory_distress_is_pr1_before_weight_bands():
    # DETAIL:62769-62771 PR1 "P22.000 新生儿呼吸窘迫综合征" comes before PS1-PS4 in the MDCP order
    r = case("P22.000|P07.200", age=0, age_days=1, birth_weight_g=1200)
    assert (r.mdc, r.adrg) == ("MDCP", "PR1")


def test_infant_with_newborn_diagnosis_is_pv1_and_adult_is_ungroupable():
    # DETAIL:63279-63281 PV1 "源于新生儿(29 天≤出生年龄＜1 周岁)诊断的婴儿疾患"
    infant = case("A04.402", age=0, age_days=90)
    assert (infant.mdc, infant.adrg) == ("MDCP", "PV1")
    adult = case("A04.402", age=30)
    assert adult.status == UNGROUPABLE and "newborn diagnosis" in adult.reason


def test_hiv_principal_diagnosis_is_mdcy():
    # DETAIL:83761-83766 MDCY 主诊表 "B20.003 人类免疫缺陷病毒病性肺结核"; DETAIL:83848-83853 YR1
    r = case("B20.003")
    assert (r.mdc, r.adrg) == ("MDCY", "YR1")


def test_two_trauma_regions_is_mdcz_one_region_is_not():
    # DETAIL:83903 头颈部创伤 … DETAIL:83925 "S06.000 脑震荡"; DETAIL:84028 胸部创伤 … DETAIL:84099
    # "S27.000 创伤性气胸"; DETAIL:90118-90119 ZZ1 "符合 MDCZ 主诊表，且无手术"
    multi = case("S06.000|S27.000")
    assert (multi.mdc, multi.adrg) == ("MDCZ", "ZZ1")
    single = case("S06.000")
    assert single.mdc == "MDCB"  # DETAIL:2877 S06.000 in the MDCB table


# -- sex-specific MDCs ----------------------------------------------------------------------------

def test_female_only_diagnosis_for_a_male_is_ungroupable():
    # DETAIL:54896 "N83.201 卵巢囊肿" in the MDCN table (女性生殖系统), MDCN is female only
    female = case("N83.201", sex=2)
    assert (female.mdc, female.adrg, female.drg) == ("MDCN", "NZ1", "NZ19")  # DETAIL:56571 NZ1
    male = case("N83.201", sex=1)
    assert male.status == UNGROUPABLE and male.drg == "0000" and "female only" in male.reason


def test_male_only_diagnosis_for_a_female_is_ungroupable():
    # DETAIL:53486 "N43.300 鞘膜积液" in the MDCM table (男性生殖系统)
    assert case("N43.300", sex=1).mdc == "MDCM"
    r = case("N43.300", sex=2)
    assert r.status == UNGROUPABLE and "male only" in r.reason


def test_normal_delivery_o80_without_procedure_has_no_medical_adrg():
    # DETAIL:58018 "O80.000 头位顺产" is in the MDCO 主诊表 (DETAIL:57174) and in no ADRG list of MDCO;
    # OR1 阴道分娩 (DETAIL:59452) is entered by Z37 分娩结局 as principal diagnosis, not by O80
    r = case("O80.000", sex=2, age=28)
    assert (r.mdc, r.drg, r.status) == ("MDCO", "0000", UNGROUPABLE)
    assert "in the MDCO 主诊表 but the chs-1.1 tables put it in no medical ADRG" in r.reason
    # the same with an Z37 other diagnosis: the principal diagnosis decides, still no group
    assert case("O80.000|Z37.000", sex=2, age=28).drg == "0000"
    # Z37.000 单一活产 as principal diagnosis → OR1 (DETAIL:59454), not split (DRG.dat OR19)
    assert (case("Z37.000", sex=2, age=28).adrg, case("Z37.000", sex=2, age=28).drg) == ("OR1", "OR19")
    # with a delivery procedure O80 lands in OC1 阴道分娩伴手术操作: DETAIL:58568 "73.6x01 会阴侧切缝合术",
    # DETAIL:58565 "73.5900x002 头位阴道助产" (the synthetic generator's normal birth)
    assert case("O80.000", "73.6x01", sex=2, age=28).drg == "OC19"
    assert case("O80.000", "73.5900x002", sex=2, age=28).adrg == "OC1"


# -- MCC / CC and exclusion tables -----------------------------------------------------------------

def test_mcc_removed_by_its_exclusion_table():
    # MCC.txt:1007 "I60.000 颈动脉弯管和杈的蛛网膜下出血 表 7-96"; CCE.dat:11527 "I63.900 96" (脑梗死 is
    # in 表 7-96, CCE.txt:12200/12380), so I60.000 does not count for principal I63.900
    r = case("I63.900|I60.000")
    assert (r.adrg, r.drg, r.cc_code) == ("BR2", "BR25", "")
    assert "I60.000 excluded" in r.reason


def test_mcc_kept_when_principal_not_in_its_table():
    # MCC.dat:1840 "J96.000 109": table 109 does not hold I63.900 (CCE.dat:11527 → 96) → BR21
    r = case("I63.900|I60.000|J96.000")
    assert (r.drg, r.cc_code, r.cc_level) == ("BR21", "J96.000", "MCC")


def test_suffixes_mcc_1_cc_3_none_5():
    # DRG.dat: BR21 / BR23 / BR25 (脑缺血性疾患); CC.dat:7925 "J18.900 101"
    assert case("I63.900|J96.000").drg == "BR21"
    cc = case("I63.900|J18.900")
    assert (cc.drg, cc.cc_code, cc.cc_level) == ("BR23", "J18.900", "CC")
    assert case("I63.900").drg == "BR25"


def test_no_split_suffix_9_ignores_mcc():
    # DRG.dat:1 AA19 only: the ADRG is not split
    r = case("I42.000|J96.000", "37.5100")
    assert (r.drg, r.cc_code) == ("AA19", "")


def test_mcc_or_cc_gives_3_where_the_adrg_has_no_1():
    # DRG.dat:25-26 BJ13 "伴并发症或合并症" / BJ15; DETAIL:4408-4411 BJ1 "01.0100 脑池穿刺"
    assert case("I63.900|J96.000", "01.0100").drg == "BJ13"
    assert case("I63.900|J18.900", "01.0100").drg == "BJ13"
    assert case("I63.900", "01.0100").drg == "BJ15"


def test_cc_does_not_split_an_adrg_with_only_mcc():
    # DRG.dat:20-21 BD11 / BD15 (no BD13); DETAIL:4064-4067 BD1 "03.0200 椎板切除术部位再切开"
    assert case("I63.900|J96.000", "03.0200").drg == "BD11"
    r = case("I63.900|J18.900", "03.0200")
    assert (r.drg, r.cc_code) == ("BD15", "")
    assert "does not split" in r.reason


# -- QY and 0000 -----------------------------------------------------------------------------------

def test_or_procedure_fitting_no_surgical_adrg_is_qy():
    # DETAIL:30018 "47.0901 阑尾切除术" under GD1 (a surgical ADRG: second letter D) makes it a 手术室手术;
    # no MDCB surgical ADRG lists it
    r = case("I63.900", "47.0901")
    assert (r.mdc, r.adrg, r.drg, r.status) == ("MDCB", "", "BQY", AMBIGUOUS)


@pytest.mark.parametrize("procedure", ["96.7101", "96.0400"])
def test_non_or_procedure_never_makes_a_case_qy(procedure):
    # 96.7101 呼吸机治疗[小于96小时] is listed only by operation ADRGs (DETAIL:25672 FP1, PK1: second
    # letters P, K = 非手术室操作), 96.0400 气管内插管 by no ADRG; neither is a 手术室手术, so 脑梗死
    # I63.900 stays in its medical ADRG (DETAIL:4962 BR2) instead of BQY
    r = case("I63.900", procedure)
    assert (r.mdc, r.adrg, r.drg, r.status) == ("MDCB", "BR2", "BR25", OK)


# -- main procedure ---------------------------------------------------------------------------------

def test_main_procedure_decides_not_a_later_one():
    # DETAIL:4408-4411 BJ1 "包含以下主要手术或操作： 01.0100 脑池穿刺": entered by the main procedure only.
    # Main 47.0901 (an OR procedure of GD1) fits no MDCB surgical ADRG → BQY, though 01.0100 comes second
    r = case("I63.900", "47.0901|01.0100")
    assert (r.mdc, r.drg, r.status) == ("MDCB", "BQY", AMBIGUOUS)
    assert "main procedure 47.0901" in r.reason
    # the other way round 01.0100 is the main procedure → BJ1
    assert case("I63.900", "01.0100|47.0901").adrg == "BJ1"


def test_non_or_main_procedure_with_a_later_or_one_is_medical():
    # main 96.0400 (no ADRG lists it, not an OR procedure) → no surgical ADRG, no QY → BR2 by diagnosis
    # (DETAIL:4962); the second procedure 01.0100 (BJ1) does not count
    assert case("I63.900", "96.0400|01.0100").drg == "BR25"


def test_operation_main_procedure_beats_a_later_surgical_one():
    # DETAIL:25672-25680 FP1 心力衰竭、休克伴操作性治疗: "包含以下主要诊断： … I50.000" and main procedure
    # 96.7101; 37.0x01 心包穿刺引流术 (DETAIL:25059, FJ1 循环系统其他手术) is only the second procedure
    r = case("I50.000", "96.7101|37.0x01")
    assert (r.mdc, r.adrg, r.drg) == ("MDCF", "FP1", "FP19")


def test_combination_rules_look_at_every_procedure():
    # DETAIL:45876-45878 JA1 "包含以下主要诊断+手术表 1+手术表 2": D05.100 乳房导管原位癌 (主要诊断),
    # 85.4301 单侧乳腺改良根治术 (手术表 2, DETAIL:45920) and 85.7000x001 乳房重建术 (手术表 1, DETAIL:45908)
    # in either order; with the 根治术 alone it is JA2 (DETAIL:45963-45964, 主要诊断+手术表 1)
    assert case("D05.100", "85.4301|85.7000x001", sex=2).adrg == "JA1"
    assert case("D05.100", "85.7000x001|85.4301", sex=2).adrg == "JA1"
    assert case("D05.100", "85.4301", sex=2).adrg == "JA2"


def test_unknown_codes_are_ungroupable_with_the_code_named():
    r = case("I63.900|Q99.999x999")
    assert r.status == UNGROUPABLE and "Q99.999x999" in r.reason and "diagnoses[1]" in r.reason
    r = case("I63.900", "99.9999")
    assert r.status == UNGROUPABLE and "procedure" in r.reason


def test_principal_diagnosis_in_no_mdc():
    # I25.200 陈旧性心肌梗死 is a known code (ZD_INFO.dat) that no MDC table lists, nor any code of I25.2
    r = case("I25.200")
    assert r.status == UNGROUPABLE and "in no MDC" in r.reason


# Sub-category codes (亚目, "X00") that 医保版 ICD-10 accepts but the MDC tables leave out; each groups as
# the codes listed under its sub-category, which all sit in one MDC table and one ADRG list:
@pytest.mark.parametrize("code, mdc, adrg, sibling_lines", [
    ("I21.000", "MDCF", "FR1", "DETAIL:21297-21301 I21.000x005, I21.001-I21.004 in 主诊表 MDCF; 25731-25737 FR1"),
    ("I21.100", "MDCF", "FR1", "DETAIL:21302-21305 I21.103-I21.106 in MDCF; 25738-25741 FR1"),
    ("I21.400", "MDCF", "FR1", "DETAIL:21341 I21.400x003, I21.401, I21.402 in MDCF; 25777 FR1"),
    ("C34.100", "MDCE", "ER1", "DETAIL:18440-18443 C34.100x003 … C34.102 in MDCE; 19802-19805 ER1"),
    ("C34.900", "MDCE", "ER1", "DETAIL:18455-18461 C34.900x001 … C34.902 in MDCE; 19817-19823 ER1"),
    ("I63.400", "MDCB", "BR2", "DETAIL:2339-2340 I63.401, I63.402 in MDCB; 4962-4963 BR2"),
    ("S72.100", "MDCI", "IR2", "DETAIL:37706 S72.100x001 … S72.110 in MDCI (and MDCZ 下肢创伤, 84727); 40573 IR2"),
    ("J18.800", "MDCE", "ES3", "DETAIL:18669-18676 J18.800x001 … J18.803 in MDCE; 20345-20352 ES3"),
])
def test_subcategory_code_groups_as_its_listed_codes(code, mdc, adrg, sibling_lines):
    r = case(code)
    assert (r.mdc, r.adrg, r.status) == (mdc, adrg, OK), sibling_lines


def test_subcategory_code_keeps_its_cc_role_as_other_diagnosis():
    # MCC.dat: "I21.000 93" — I21.000 is an MCC itself; as an other diagnosis of 脑梗死 I63.900 (表 7-96,
    # CCE.dat:11527) it still makes BR21
    assert case("I63.900|I21.000").drg == "BR21"


def test_subcategory_code_whose_codes_group_apart_stays_unlisted():
    # I10.x00 特发性高血压: its listed codes differ (I10.x00x002 … are in FV2's list, I10.x01 is not), so no
    # stand-in
    g = Grouper.load("chs-1.1")
    assert g.dx_map["I10.x00"] == "I10.x00" and "in no MDC" in case("I10.x00").reason


def test_only_the_subcategory_code_itself_takes_a_stand_in():
    # K30.x00x002 新生儿消化不良 is unlisted too, but it is an extension, not the sub-category's own code:
    # grouping it as its sibling K30.x00 (消化不良, MDCG) would lose what it says, so it stays unlisted
    assert "in no MDC" in case("K30.x00x002").reason
    assert case("K30.x00").mdc == "MDCG"


@pytest.mark.parametrize("fields, word", [
    (dict(age=0), "age_days"),
    (dict(age=0, age_days=10), "birth_weight_g"),
    (dict(sex=3), "sex"),
    (dict(age=200), "age"),
    (dict(age=-1), "age"),
    (dict(los_days=-2), "los_days"),
])
def test_invalid_input_is_0000_with_reason(fields, word):
    r = group({"sex": 1, "age": 40, "diagnoses": "I63.900", **fields})
    assert (r.status, r.drg) == (UNGROUPABLE, "0000")
    assert r.reason.startswith("invalid input") and word in r.reason


def test_empty_diagnoses_and_bad_numbers_do_not_raise():
    assert group({"sex": 1, "age": 40, "diagnoses": ""}).status == UNGROUPABLE
    r = group({"sex": 1, "age": "forty", "diagnoses": "I63.900", "case_id": "c9"})
    assert r.status == UNGROUPABLE and "age" in r.reason and r.case_id == "c9"


def test_code_maps_apply_before_grouping():
    # ZD_MAP.dat: "A01.000x003+G01* A01.002+G01*"; a dagger code written without its pair is accepted
    g = Grouper.load("chs-1.1")
    assert g.dx_map["A01.000x003+G01*"] == "A01.002+G01*"
    assert g.dx_map["A01.002"] == "A01.002+G01*"
    assert case("A01.002").mdc == "MDCB"  # DETAIL:59 "A01.002+G01* 伤寒性脑膜炎" in the MDCB table


def test_group_input_and_mapping_agree():
    inp = GroupInput(sex=1, age=60, diagnoses=("I63.900", "J18.900"), procedures=())
    assert group(inp) == group({"sex": "1", "age": "60", "diagnoses": ["I63.900", "J18.900"]})
    with pytest.raises(TypeError):
        group(42)


def test_group_input_from_mapping_names_the_field_and_record():
    from yibao.errors import ValidationError

    with pytest.raises(ValidationError, match=r"c7: age: not a whole number"):
        GroupInput.from_mapping({"case_id": "c7", "sex": 1, "age": "old", "diagnoses": "I63.900"})
    with pytest.raises(ValidationError, match=r"sex: is missing"):
        GroupInput.from_mapping({"age": 3, "diagnoses": "I63.900"})
    inp = GroupInput.from_mapping({"sex": "2", "age": 3.0, "diagnoses": "I63.900| J18.900 ", "procedures": None})
    assert (inp.sex, inp.age, inp.diagnoses, inp.procedures) == (2, 3, ("I63.900", "J18.900"), ())


def test_chs_20_has_names_but_no_rules():
    from yibao.payment.drg import load_version

    v = load_version("chs-2.0")
    assert len(v.table("adrg")) == 409 and len(v.table("drg")) == 634
    assert not v.has_rules
    with pytest.raises(PolicyError, match="rules are not available"):
        Grouper.load("chs-2.0")


def test_unknown_version_is_a_policy_error():
    with pytest.raises(PolicyError, match="no such version"):
        group({"sex": 1, "age": 1, "diagnoses": "I63.900"}, version="chs-9.9")


def test_multiple_trauma_with_craniotomy_is_zb1():
    # DETAIL:84921-84923 ZB1 多发性严重创伤开颅术 "01.0900x006 颅内血肿硬通道穿刺引流术"; regions as above
    r = case("S06.000|S27.000", "01.0900x006")
    assert (r.mdc, r.adrg, r.drg) == ("MDCZ", "ZB1", "ZB19")


def test_hiv_with_or_procedure_is_yc1():
    # DETAIL:83812-83816 YC1 HIV 相关疾患的手术室手术 "包含以下诊断： … B20.003" + an OR procedure: 47.0901
    # 阑尾切除术 (DETAIL:30018, listed by the surgical ADRG GD1)
    r = case("B20.003", "47.0901")
    assert (r.mdc, r.adrg) == ("MDCY", "YC1")


def test_newborn_surgery_pb1_only_under_29_days():
    # DETAIL:61290-61292 PB1 新生儿（出生年龄＜29 天）心血管手术 "34.0200x003 胸腔镜中转开胸探查术"
    newborn = case("P22.000", "34.0200x003", age=0, age_days=10, birth_weight_g=3000)
    assert (newborn.mdc, newborn.adrg, newborn.drg) == ("MDCP", "PB1", "PB19")
    # at 100 days PB1 no longer applies and no other MDCP surgical ADRG fits the OR procedure → PQY
    infant = case("P22.000", "34.0200x003", age=0, age_days=100)
    assert (infant.mdc, infant.drg, infant.status) == ("MDCP", "PQY", AMBIGUOUS)
