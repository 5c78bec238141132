"""Count and history kinds on hand-built claims, each at both speeds: 频次超限, 虚记, 重复收费, 互斥项目,
限定频次, 限定疗程, 重复开药, 超量开药."""

from __future__ import annotations

EMERGENCY_MONITOR = "110300001"  # 急诊监护费: ≤ 1 a day (两库 8-1); main of 急诊诊查费 (两库 7, 单日)
EMERGENCY_EXAM = "110200003"  # 急诊诊查费
NURSING = "120100003"  # Ⅰ级护理: ≤ 1 a day
ABO = "260000002"
EXAM = "110200001"  # 普通门诊诊查费
HBA1C = "250302003"  # 糖化血红蛋白: ≤ 1 per 15 days (两库 8-4)
HAND = "340200005"  # 手功能评定: course 90 days, ≥ 14 days apart (两库 8-3)
GINKGO = "ZA12H0A0599000000000"  # 银杏内酯注射液: 两库 course 14 days
HEMATOMA_MAIN, HEMATOMA_SUB = "330201014", "330201004"  # 两库 7 单次就诊 pair
DRUG = "XC10AAA0010F00000000000"


def test_frequency_per_day_on_a_visit_and_per_stay(sv):
    w = sv.World()
    p = w.person()
    a = w.claim(p, "2024-02-01", med="13", lines=[(EMERGENCY_MONITOR, "service", 2, 15000)])
    w.claim(p, "2024-02-03", med="13", lines=[(EMERGENCY_MONITOR, "service", 1, 15000),
                                              (EMERGENCY_MONITOR, "service", 1, 15000, "2024-02-04")])
    s = w.claim(p, "2024-03-01", "2024-03-10", med="2101", lines=[(ABO, "service", 1, 800), (ABO, "service", 1, 800, "2024-03-05")])
    hits = sv.both_speeds(w, "SV-FRQ-01", "SV-FRQ-02")
    assert sv.amounts(hits) == {(a, "SV-FRQ-01"): 15000, (s, "SV-FRQ-02"): 800}


def test_daily_items_billed_for_more_days_than_the_stay(sv):
    w = sv.World()
    p = w.person()
    over = w.claim(p, "2024-03-01", "2024-03-06", med="2101", lines=[(NURSING, "service", 7, 2800)])
    w.claim(p, "2024-04-01", "2024-04-06", med="2101", lines=[(NURSING, "service", 5, 2800)])
    w.claim(p, "2024-05-01", "2024-05-01", med="2101", lines=[(NURSING, "service", 1, 2800)])  # a day's stay bills one
    hits = sv.both_speeds(w, "SV-LOS-02")
    assert sv.amounts(hits) == {(over, "SV-LOS-02"): 2 * 2800}
    assert hits[0].vola_evid["observed"] == 7 and hits[0].vola_evid["limit"] == 5


def test_duplicate_charges_and_mutually_exclusive_items(sv):
    w = sv.World()
    p = w.person()
    dup = w.claim(p, "2024-02-01", lines=[(EXAM, "service", 1, 800), ("250101001", "service", 1, 500), (EXAM, "service", 1, 800)])
    w.claim(p, "2024-02-02", "2024-02-03", med="2101",
            lines=[(EXAM, "service", 1, 800), (EXAM, "service", 1, 800, "2024-02-03")])
    pair = w.claim(p, "2024-02-05", med="13", lines=[(EMERGENCY_MONITOR, "service", 1, 15000), (EMERGENCY_EXAM, "service", 1, 1200)])
    w.claim(p, "2024-02-06", "2024-02-07", med="2101",
            lines=[(EMERGENCY_MONITOR, "service", 1, 15000), (EMERGENCY_EXAM, "service", 1, 1200, "2024-02-07")])
    visit = w.claim(p, "2024-03-01", "2024-03-09", med="2101", proc="01.2400x001",
                    lines=[(HEMATOMA_MAIN, "service", 1, 300000), (HEMATOMA_SUB, "service", 1, 150000, "2024-03-04")])
    hits = sv.both_speeds(w, "SV-DUP-01", "SV-PAIR-01", "SV-PAIR-02")
    assert sv.amounts(hits) == {(dup, "SV-DUP-01"): 800, (pair, "SV-PAIR-01"): 1200, (visit, "SV-PAIR-02"): 150000}
    assert {h.rule_id: h.vola_evid["lines"] for h in hits} == {"SV-DUP-01": [1, 3], "SV-PAIR-01": [1, 2], "SV-PAIR-02": [1, 2]}


def test_uses_in_a_period_a_course_and_an_interval(sv):
    w = sv.World()
    p = w.person()
    w.claim(p, "2024-01-10", lines=[(HBA1C, "service", 1, 2000), (HAND, "service", 1, 3500)])
    soon = w.claim(p, "2024-01-20", lines=[(HBA1C, "service", 1, 2000), (HAND, "service", 1, 3500)])
    w.claim(p, "2024-02-10", lines=[(HBA1C, "service", 1, 2000), (HAND, "service", 1, 3500)])
    late = w.claim(p, "2024-05-01", lines=[(HAND, "service", 1, 3500)])
    q = w.person()
    first = w.claim(q, "2024-06-01", lines=[(GINKGO, "drug", 1, 5000)])
    again = w.claim(q, "2024-06-20", lines=[(GINKGO, "drug", 1, 5000)])
    w.claim(q, "2025-01-02", lines=[(GINKGO, "drug", 1, 5000)])  # a new 医保年度, a new course
    hits = sv.both_speeds(w, "SV-PER-01", "SV-CRS-01", "SV-CRS-02", "SV-CRS-03")
    assert sv.found(hits) == {(soon, "SV-PER-01"), (soon, "SV-CRS-02"), (late, "SV-CRS-01"), (again, "SV-CRS-03")}
    by = {h.rule_id: h.vola_evid for h in hits}
    assert by["SV-CRS-01"]["observed"] == 113 and by["SV-CRS-01"]["history"] == ["C000"]
    assert by["SV-CRS-03"]["history"] == [first] and by["SV-PER-01"]["observed"] == 2


def test_repeat_prescriptions_and_oversupply(sv):
    w = sv.World()
    p = w.person()
    w.claim(p, "2024-02-01", inst="H3", lines=[(DRUG, "drug", 30, 100)])
    repeat = w.claim(p, "2024-02-05", inst="H2", lines=[(DRUG, "drug", 60, 100)])
    same_day = w.claim(p, "2024-02-05", inst="H2", lines=[(DRUG, "drug", 100, 100)])
    w.claim(p, "2024-04-01", inst="H2", lines=[(DRUG, "drug", 30, 100)])  # beyond every window
    hits = sv.both_speeds(w, "SV-RPT-01", "SV-RPT-02", "SV-OVR-01", "SV-OVR-02")
    assert sv.found(hits) == {(repeat, "SV-RPT-01"), (same_day, "SV-RPT-01"), (same_day, "SV-RPT-02"),
                              (same_day, "SV-OVR-01"), (same_day, "SV-OVR-02")}
    a = sv.amounts(hits)
    assert a[(same_day, "SV-OVR-01")] == 10 * 100 and a[(same_day, "SV-OVR-02")] == (190 - 180) * 100
    ovr2 = next(h for h in hits if h.rule_id == "SV-OVR-02")
    assert ovr2.vola_evid["history"] == [repeat] and ovr2.vola_evid["observed"] == 190
