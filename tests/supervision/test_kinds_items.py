"""Line kinds on hand-built claims, each at both speeds: 限性别, 限年龄, 限适应症, 限医院等级, 限住院,
限定保险类型, 超标准收费, 超医保支付范围, 串换项目."""

from __future__ import annotations


FEMALE_DRUG = "XA1100A0185F00000000000"  # 艾地骨化醇软胶囊: catalog 限女性
UTERUS_XRAY = "210103030"  # 子宫造影: 两库 batch 1 female only
MALE_DRUG_NHSA = "XL02B0A0916F00000000000"  # 恩扎卢胺软胶囊: 两库 限男性
CHILD_DRUG = "XC02K0A0368F00000000000"  # 波生坦分散片: catalog ≤ 12 岁
ADULT_DRUG = "XA0600A0080F00000000000"  # 利那洛肽胶囊: catalog ≥ 18 岁
CHILD_TOOTH = "310512004"  # 儿童前牙树脂冠修复: 两库 儿童
CHILD_TCM = "ZA01A0A0010000000000"  # 小儿至宝丸: 两库 儿童
WORK_TRAINING = "340200032"  # 职业功能训练: 两库 法定就业年龄
PPI = "XA02BCA0017F00800000000"  # 艾普拉唑: 限 K21|K26
LIXISENATIDE = "XA10BJA0161F00000000000"  # 利司那肽注射液: 二级及以上 (catalog and 两库)
AMINO_ACIDS = "XB05BAA0279F03300000000"  # 复方氨基酸(18AA): catalog 限住院
FISH_OIL = "XB05BAA0292F00000000000"  # ω-3鱼油中/长链脂肪乳注射液: 两库 限住院
RABIES = "XJ0700A0803F03300000000"  # 人用狂犬病疫苗(Vero细胞): 两库 限工伤
CONSUMABLE = "C0101010010100100000"  # cap 141,823 fen


def test_sex_limits_from_the_catalog_and_the_nhsa_tables(sv):
    w = sv.World()
    man, woman = w.person("1"), w.person("2")
    a = w.claim(man, "2024-03-01", lines=[(FEMALE_DRUG, "drug", 2, 3000), (UTERUS_XRAY, "service", 1, 8000)])
    w.claim(woman, "2024-03-01", lines=[(FEMALE_DRUG, "drug", 2, 3000), (UTERUS_XRAY, "service", 1, 8000)])
    c = w.claim(woman, "2024-04-01", lines=[(MALE_DRUG_NHSA, "drug", 3, 800)])
    hits = sv.both_speeds(w, "SV-SEX-01", "SV-SEX-02", "SV-SEX-03", "SV-SEX-04")
    # both drugs are restricted in the catalog and in the 两库 drug rules alike
    assert sv.found(hits) == {(a, "SV-SEX-01"), (a, "SV-SEX-02"), (a, "SV-SEX-03"), (a, "SV-SEX-04"), (c, "SV-SEX-01"),
                              (c, "SV-SEX-04")}
    assert sv.amounts(hits)[(a, "SV-SEX-01")] == 6000 and sv.amounts(hits)[(c, "SV-SEX-04")] == 2400
    assert {h.sev_deg for h in hits} == {1} and all(h.vola_evid["lines"] for h in hits)


def test_age_limits_children_adults_and_the_working_age(sv):
    w = sv.World()
    adult, child = w.person("1", "1984-02-01"), w.person("2", "2014-05-01")
    old_man, old_woman, woman_52 = w.person("1", "1959-01-01"), w.person("2", "1966-01-01"), w.person("2", "1972-01-01")
    a = w.claim(adult, "2024-03-01", lines=[(CHILD_DRUG, "drug", 1, 3000), (CHILD_TOOTH, "service", 1, 6500),
                                            (CHILD_TCM, "drug", 2, 200)])
    b = w.claim(child, "2024-03-01", lines=[(ADULT_DRUG, "drug", 1, 900), (CHILD_TCM, "drug", 2, 200)])
    m = w.claim(old_man, "2024-03-01", lines=[(WORK_TRAINING, "service", 1, 4500)])
    f = w.claim(old_woman, "2024-03-01", lines=[(WORK_TRAINING, "service", 1, 4500)])
    w.claim(woman_52, "2024-03-01", lines=[(WORK_TRAINING, "service", 1, 4500)])
    hits = sv.both_speeds(w, "SV-AGE-01", "SV-AGE-03", "SV-AGE-04", "SV-AGE-05", "SV-AGE-06")
    assert sv.found(hits) == {(a, "SV-AGE-01"), (a, "SV-AGE-03"), (a, "SV-AGE-04"), (b, "SV-AGE-01"),
                           (m, "SV-AGE-05"), (f, "SV-AGE-06")}
    by = {(h.claim_id, h.rule_id, h.vola_evid["item_code"]): h.vola_evid for h in hits}
    assert by[(a, "SV-AGE-01", CHILD_DRUG)]["observed"] == 40 and by[(a, "SV-AGE-01", CHILD_DRUG)]["limit"] == 12
    assert by[(a, "SV-AGE-01", CHILD_TCM)]["limit"] == 17  # the catalog's 儿童 as well as 两库's
    assert by[(b, "SV-AGE-01", ADULT_DRUG)]["limit"] == 18


def test_indication_level_setting_and_scheme(sv):
    w = sv.World()
    p = w.person()
    ok = w.claim(p, "2024-02-01", dx="K21.000", lines=[(PPI, "drug", 10, 30)])
    bad = w.claim(p, "2024-02-02", dx="I10.x00|E11.900", lines=[(PPI, "drug", 10, 30)])
    low = w.claim(p, "2024-02-03", inst="H1", lines=[(LIXISENATIDE, "drug", 1, 2375)])
    w.claim(p, "2024-02-04", inst="H2", lines=[(LIXISENATIDE, "drug", 1, 2375)])
    op = w.claim(p, "2024-02-05", lines=[(AMINO_ACIDS, "drug", 1, 8766), (FISH_OIL, "drug", 1, 1670)])
    w.claim(p, "2024-03-01", "2024-03-05", med="2101", lines=[(AMINO_ACIDS, "drug", 1, 8766), (FISH_OIL, "drug", 1, 1670)])
    vac = w.claim(p, "2024-04-01", lines=[(RABIES, "drug", 1, 13242)])
    hits = sv.both_speeds(w, "SV-DX-01", "SV-LVL-01", "SV-LVL-02", "SV-SET-01", "SV-SET-02", "SV-SCH-01")
    assert sv.found(hits) == {(bad, "SV-DX-01"), (low, "SV-LVL-01"), (low, "SV-LVL-02"), (op, "SV-SET-01"),
                           (op, "SV-SET-02"), (vac, "SV-SCH-01")}
    assert ok not in {c for c, _ in sv.found(hits)}
    assert sv.amounts(hits)[(op, "SV-SET-01")] == 8766 + 1670 and sv.amounts(hits)[(op, "SV-SET-02")] == 1670


def test_price_above_the_cap_and_items_outside_the_catalog(sv):
    w = sv.World()
    p = w.person("2")
    a = w.claim(p, "2024-02-01", lines=[(UTERUS_XRAY, "service", 2, 9000), (CONSUMABLE, "consumable", 1, 150000),
                                        (UTERUS_XRAY, "service", 1, 8000)])
    b = w.claim(p, "2024-02-02", lines=[("999999999", "service", 1, 500), ("XA02BCN0002F00000000000", "drug", 2, 100)])
    hits = sv.both_speeds(w, "SV-PRC-01", "SV-PRC-02", "SV-SCP-01")
    assert sv.amounts(hits) == {(a, "SV-PRC-01"): 2000, (a, "SV-PRC-02"): 150000 - 141823, (b, "SV-SCP-01"): 700}
    assert {tuple(h.vola_evid["lines"]) for h in hits if h.rule_id == "SV-SCP-01"} == {(1,), (2,)}  # unknown; not yet in force


def test_an_operation_without_a_procedure_and_a_dear_test_on_a_visit(sv):
    w = sv.World()
    p = w.person()
    a = w.claim(p, "2024-02-01", lines=[("330100001", "service", 1, 5000), ("230400002", "service", 1, 320000)])
    w.claim(p, "2024-03-01", "2024-03-06", med="2101", proc="86.0400x001",
            lines=[("330100001", "service", 1, 5000), ("230400002", "service", 1, 320000)])
    hits = sv.both_speeds(w, "SV-SWP-01", "SV-SWP-02")
    assert sv.amounts(hits) == {(a, "SV-SWP-01"): 5000, (a, "SV-SWP-02"): 320000}
