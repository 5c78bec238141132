"""Encounter kinds on hand-built claims, each at both speeds: 分解住院, 挂床住院, 住院期间门诊/购药/住院,
死亡后就诊; and a rule's dates and 险种."""

from __future__ import annotations

import textwrap

BED, NURSING, ROUNDS = "110900001a", "120100003", "110200005"


def test_readmissions_split_a_stay(sv):
    w = sv.World()
    p = w.person()
    w.claim(p, "2024-01-01", "2024-01-10", med="2101", dx="I63.900", lines=[(BED, "service", 9, 5000)])
    again = w.claim(p, "2024-01-15", "2024-01-20", med="2101", dx="I63.000|I10.x00", lines=[(BED, "service", 5, 5000)])
    other = w.claim(p, "2024-01-22", "2024-01-25", med="2101", dx="J18.900", lines=[(BED, "service", 3, 5000)])
    w.claim(p, "2024-01-26", "2024-01-30", med="2101", inst="H2", dx="J18.900", lines=[(BED, "service", 4, 5000)])
    hits = sv.both_speeds(w, "SV-SPL-01", "SV-SPL-02")
    assert sv.found(hits) == {(again, "SV-SPL-01"), (other, "SV-SPL-02")}
    spl = next(h for h in hits if h.rule_id == "SV-SPL-01")
    assert spl.vola_amt == 25000 and spl.related_claim_id == "C000" and spl.vola_evid["observed"] == 5


def test_a_stay_without_treatment_is_bed_hanging(sv):
    w = sv.World()
    p = w.person()
    hang = w.claim(p, "2024-03-01", "2024-03-06", med="2101",
                   lines=[(BED, "service", 5, 5000), (NURSING, "service", 5, 2800), (ROUNDS, "service", 5, 1200)])
    w.claim(p, "2024-04-01", "2024-04-06", med="2101", lines=[(BED, "service", 5, 5000), ("XC10AAA0010F00000000000", "drug", 10, 100)])
    w.claim(p, "2024-05-01", "2024-05-02", med="2101", lines=[(BED, "service", 1, 5000)])  # too short to say
    hits = sv.both_speeds(w, "SV-HNG-01")
    assert sv.amounts(hits) == {(hang, "SV-HNG-01"): 5 * 5000 + 5 * 2800 + 5 * 1200}


def test_claims_admitted_during_a_stay(sv):
    w = sv.World()
    p = w.person()
    stay = w.claim(p, "2024-03-01", "2024-03-10", med="2101", lines=[(BED, "service", 9, 5000)])
    w.claim(p, "2024-03-01", lines=[("110200001", "service", 1, 800)])  # on the admission day: allowed
    visit = w.claim(p, "2024-03-05", lines=[("110200001", "service", 1, 800)])
    shop = w.claim(p, "2024-03-06", med="41", inst="P0", lines=[("XC10AAA0010F00000000000", "drug", 10, 100)])
    second = w.claim(p, "2024-03-04", "2024-03-06", med="2101", inst="H2", lines=[(BED, "service", 2, 5000)])
    w.claim(p, "2024-03-10", lines=[("110200001", "service", 1, 800)])  # on the discharge day: allowed
    hits = sv.both_speeds(w, "SV-OVL-01", "SV-OVL-02", "SV-OVL-03")
    assert sv.found(hits) == {(visit, "SV-OVL-01"), (shop, "SV-OVL-02"), (second, "SV-OVL-03")}
    # the evidence names the stay running most recently admitted
    assert {h.claim_id: h.related_claim_id for h in hits} == {visit: second, shop: stay, second: stay}
    assert next(h for h in hits if h.rule_id == "SV-OVL-01").vola_evid["observed"] == 1  # a day after the second stay began


def test_claims_after_death(sv):
    w = sv.World()
    p = w.person(died="2024-06-01")
    w.claim(p, "2024-05-30", lines=[("110200001", "service", 1, 800)])
    w.claim(p, "2024-06-01", lines=[("110200001", "service", 1, 800)])
    ghost = w.claim(p, "2024-06-05", med="41", inst="P0", lines=[("XC10AAA0010F00000000000", "drug", 10, 100)])
    hits = sv.both_speeds(w, "SV-DTH-01")
    assert sv.amounts(hits) == {(ghost, "SV-DTH-01"): 1000} and hits[0].vola_evid["observed"] == 4


def test_a_rule_applies_in_its_dates_and_scheme_only(sv, tmp_path):
    (tmp_path / "r.yaml").write_text(textwrap.dedent("""\
        rules:
          R-DEATH-390:
            name: 死亡后就诊（居民，2024年下半年起）
            kind: after_death
            sev_deg: 1
            scene: [事中]
            scheme: "390"
            period: 当次就诊
            since: 2024-07-01
            until: 2024-12-31
            assumption: a test rule
    """), encoding="utf-8")
    w = sv.World()
    p = w.person(died="2024-01-01")
    w.claim(p, "2024-03-01", insutype="390", lines=[("110200001", "service", 1, 800)])  # before since
    w.claim(p, "2024-08-01", insutype="310", lines=[("110200001", "service", 1, 800)])  # another 险种
    hit = w.claim(p, "2024-09-01", insutype="390", lines=[("110200001", "service", 1, 800)])
    w.claim(p, "2025-01-02", insutype="390", lines=[("110200001", "service", 1, 800)])  # after until
    hits = sv.both_speeds(w, rulebook=sv.book("R-DEATH-390", folder=tmp_path))
    assert sv.found(hits) == {(hit, "R-DEATH-390")}
    assert hits[0].ref == "assumption: a test rule"
