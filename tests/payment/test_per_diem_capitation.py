"""按床日, 按人头 and 按项目 payment on small tables computed by hand, on both backends."""

from __future__ import annotations

import pytest

from yibao.errors import PolicyError, ValidationError
from yibao.payment.capitation import CapitationRules, capitation_institutions, capitation_persons
from yibao.payment.per_diem import PerDiemRules, fee_for_service, per_diem_pay


def test_per_diem_by_los_band(lab, params):
    rules = PerDiemRules.from_params(params)
    stays = lab.table(
        case_id=["p70", "p200", "r0", "h31", "gen"],
        fixmedins_code=["H1", "H1", "H2", "H2", "H2"],
        dept=["psychiatry", "精神科", "rehabilitation", "hospice", "internal"],
        los=[70, 200, 0, 31, 5],
        cost_fen=[1, 1, 1, 1, 1],
    )
    got = lab.rows(per_diem_pay(stays, rules), "case_id")
    assert "gen" not in got  # not a per-diem department
    # psychiatry: days 1–60 at 260 yuan, 61–180 at 220, from 181 at 180
    assert got["p70"]["payment_fen"] == 60 * 26000 + 10 * 22000  # 1 780 000
    assert got["p200"]["payment_fen"] == 60 * 26000 + 120 * 22000 + 20 * 18000  # 4 560 000
    # a same-day stay counts one bed-day; hospice days 1–30 at 380, day 31 at 320
    assert (got["r0"]["bed_days"], got["r0"]["payment_fen"]) == (1, 42000)
    assert (got["h31"]["kind"], got["h31"]["payment_fen"]) == ("hospice", 30 * 38000 + 32000)


def test_per_diem_bands_must_start_on_day_one(params):
    bad = params.pack.reform({"payment.per_diem.bands": {"2024-01-01": [{"kind": "psychiatry", "from_day": 2, "rate": 1}]}})
    with pytest.raises(PolicyError, match="must start on day 1"):
        PerDiemRules.from_params(bad.at(params.date))


def test_capitation_by_age_and_sex(lab, params):
    rules = CapitationRules.from_params(params)
    contracts = lab.table(psn_no=["m70", "f30", "m5", "f45"], fixmedins_code=["H1", "H1", "H2", "H2"],
                          sex=["1", "2", "1", "2"], age=[70, 30, 5, 45])
    persons = capitation_persons(contracts, rules)
    per = lab.rows(persons, "psn_no")
    # 120 yuan a head: male 70 × 1.60 = 192; female 30 × 0.80 = 96; male 5 × 0.90 = 108; female 45 × 1.05 = 126
    assert {k: v["amount_fen"] for k, v in per.items()} == {"m70": 19200, "f30": 9600, "m5": 10800, "f45": 12600}
    inst = lab.rows(capitation_institutions(persons), "fixmedins_code")
    assert (inst["H1"]["persons"], inst["H1"]["amount_fen"], inst["H2"]["amount_fen"]) == (2, 28800, 23400)
    with pytest.raises(ValidationError, match="age: missing column"):
        capitation_persons(lab.table(psn_no=["x"], fixmedins_code=["H1"], sex=["1"]), rules)


def test_fee_for_service_pays_the_rest(lab):
    claims = lab.table(case_id=["c1", "c2", "c3", "c4"], fixmedins_code=["H1", "H1", "H2", "H2"],
                       cost_fen=[1000, 2001, 500, 300])
    paid = lab.table(case_id=["c1"])
    got = lab.rows(fee_for_service(claims, paid, "0.7"), "fixmedins_code")
    # H1: only c2 left: 2001 × 0.7 = 1400.7 → 1401; H2: 350 + 210
    assert (got["H1"]["cases"], got["H1"]["payment_fen"], got["H2"]["payment_fen"]) == (1, 1401, 560)
