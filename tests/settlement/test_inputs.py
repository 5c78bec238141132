"""Bad input gives a ValidationError naming the field; catalog lookups; statement, trace and FHIR."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from yibao.errors import PolicyError, ValidationError
from yibao.policy import load_pack
from yibao.settlement import claim_from, read_claims, settle, settle_frame, to_fhir
from yibao.settlement.statement import check_conservation
from yibao.vocab import FUND_PAY_TYPES


def doc(**over):
    d = {"claim_id": "C1", "person": {"insutype": "310", "psn_type": "11", "age": 45},
         "institution": {"level": "3", "admdvs": "419900"}, "med_type": "21",
         "adm_date": "2024-03-01", "dscg_date": "2024-03-08", "lines": [{"class": "A", "amount": "10800"}]}
    d.update(over)
    return d


def test_unknown_pack():
    with pytest.raises(PolicyError, match="unknown policy pack 'atlantis'"):
        settle(claim_from(doc()), "atlantis")


@pytest.mark.parametrize("change, field", [
    ({"lines": [{"class": "A", "amount": "-5"}]}, "lines[0].amount"),
    ({"lines": [{"class": "A", "amount": "1.234"}]}, "lines[0].amount"),
    ({"lines": [{"class": "A", "amount": 5, "qty": -1}]}, "lines[0].qty"),
    ({"lines": [{"class": "D", "amount": 5}]}, "lines[0].class"),
    ({"lines": [{"amount": 5}]}, "lines[0].item_code"),
    ({"lines": []}, "lines"),
    ({"dscg_date": "2024-02-01"}, "dscg_date"),
    ({"adm_date": "2024-13-01"}, "adm_date"),
    ({"person": {"psn_type": "11", "age": 45}}, "person.insutype"),
    ({"person": {"insutype": "310", "age": 45}}, "person.psn_type"),
    ({"person": {"insutype": "310", "psn_type": "11"}}, "person.birth_date"),
    ({"person": {"insutype": "310", "psn_type": "11", "age": 45, "account_balance": -1}}, "person.account_balance"),
    ({"institution": {"admdvs": "419900"}}, "institution.level"),
    ({"med_type": None}, "med_type"),
])
def test_bad_claim_json_names_the_field(change, field):
    with pytest.raises(ValidationError) as e:
        claim_from(doc(**change), "claim.json")
    assert e.value.field == field
    assert "claim.json" in str(e.value)


@pytest.mark.parametrize("change, field", [
    ({"person": {"insutype": "999", "psn_type": "11", "age": 45}}, "person.insutype"),
    ({"person": {"insutype": "310", "psn_type": "77", "age": 45}}, "person.psn_type"),
    ({"institution": {"level": "5"}}, "institution.level"),
    ({"med_type": "77"}, "med_type"),
    ({"person": {"insutype": "310", "psn_type": "11", "age": 45, "admdvs": "419900", "filing": "whenever"},
      "institution": {"level": "3", "admdvs": "110100"}}, "filing"),
])
def test_bad_values_rejected_at_settlement(change, field):
    with pytest.raises(ValidationError) as e:
        settle(claim_from(doc(**change)), "demo")
    assert e.value.field == field


def catalog():
    return pd.DataFrame([
        {"item_code": "DRUG-A", "item_class": "A", "preselfpay_ppm": None, "price_cap_fen": None},
        {"item_code": "DRUG-B", "item_class": "B", "preselfpay_ppm": 200_000, "price_cap_fen": 1000},
        {"item_code": "JOINT", "item_class": "B", "preselfpay_ppm": None, "price_cap_fen": None},
        {"item_code": "MALE-ONLY", "item_class": "A", "preselfpay_ppm": None, "price_cap_fen": None, "restrict_sex": "1"},
        {"item_code": "WARD", "item_class": "A", "preselfpay_ppm": None, "price_cap_fen": None, "inpatient_only": True},
        {"item_code": "DX-ONLY", "item_class": "A", "preselfpay_ppm": None, "price_cap_fen": None, "required_dx": "C34|C50"},
    ])


def test_unknown_item_code_names_the_line():
    c = claim_from(doc(lines=[{"item_code": "DRUG-A", "amount": 1}, {"item_code": "NOPE", "amount": 1}]))
    with pytest.raises(ValidationError) as e:
        settle(c, "demo", catalog())
    assert e.value.field == "lines[1].item_code"
    # not strict: an unknown code is 目录外, fully self-paid
    s = settle(c, "demo", catalog(), strict=False)
    assert s["fulamt_ownpay_amt"] == 100


def test_catalog_scope_and_restrictions():
    lines = [{"item_code": "DRUG-A", "amount": 100}, {"item_code": "DRUG-B", "qty": 2, "amount": 30},
             {"item_code": "JOINT", "amount": 100}, {"item_code": "MALE-ONLY", "amount": 10},
             {"item_code": "WARD", "amount": 10}, {"item_code": "DX-ONLY", "amount": 10}]
    person = {"insutype": "310", "psn_type": "11", "age": 45, "sex": "2"}
    s = settle(claim_from(doc(person=person, med_type="11", diagnoses=["I10"], lines=lines)), "demo", catalog())
    # DRUG-B: cap 10 × 2 = 20 allowed, 10 above the cap, 20% of 20 先行自付; JOINT: the pack's 10%
    assert s["overlmt_selfpay"] == 1000
    assert s["preselfpay_amt"] == 400 + 1000
    # restricted items used outside their conditions (sex, outpatient, diagnosis) are self-paid
    assert s["fulamt_ownpay_amt"] == 3000
    s2 = settle(claim_from(doc(person={**person, "sex": "1"}, diagnoses=["C34.1"], lines=lines)), "demo", catalog())
    assert s2["fulamt_ownpay_amt"] == 0


def test_catalog_object_with_a_frame_and_place_of_treatment():
    class Cat:
        frame = catalog()

    c = claim_from(doc(lines=[{"item_code": "DRUG-B", "amount": 10}], institution={"level": "3", "admdvs": "420100"}))
    s = settle(c, "demo", {"420100": Cat()})
    assert s["preselfpay_amt"] == 200


def test_statement_trace_cites_parameters():
    s = settle(claim_from(doc(person={"insutype": "390", "psn_type": "15", "age": 50, "identities": ["dibao"]},
                              lines=[{"class": "A", "amount": "100000"}])), "demo")
    check_conservation(s.setlinfo)
    fields = {t.field for t in s.trace}
    assert {"act_pay_dedc", "hifp_pay", "hifmi_pay", "maf_pay", "psn_cash_pay"} <= fields
    for t in s.trace:
        if t.field in ("hifp_pay", "hifmi_pay", "maf_pay"):
            assert t.ref and t.parameter.startswith("benefits.")
            assert t.zh and t.en
    assert {d.fund_pay_type for d in s.setldetail} == {"390100", "390200", "610100"}
    assert all(d.fund_pay_type in FUND_PAY_TYPES for d in s.setldetail)
    assert json.loads(json.dumps(s.to_dict(), ensure_ascii=False))["setlinfo"]["hifmi_pay"] == s["hifmi_pay"]


def test_fhir_explanation_of_benefit():
    s = settle(claim_from(doc()), "demo")
    eob = to_fhir(s)
    assert eob.__resource_type__ == "ExplanationOfBenefit"
    assert float(eob.payment.amount.value) == s["fund_pay_sumamt"] / 100
    assert eob.benefitBalance[0].category.coding[0].code == "310100"


def test_read_claims_file(tmp_path):
    p = tmp_path / "claims.json"
    p.write_text(json.dumps({"claims": [doc(), doc(claim_id="C2")]}), encoding="utf-8")
    assert [c.claim_id for c in read_claims(p)] == ["C1", "C2"]
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="claims.json"):
        read_claims(p)


def test_batch_bad_input_names_the_record():
    claims = pd.DataFrame([{"claim_id": "X1", "psn_no": "P", "insutype": "310", "psn_type": "11", "med_type": "21",
                            "level": "3", "adm_date": dt.date(2024, 3, 9), "dscg_date": dt.date(2024, 3, 8), "age": 40}])
    lines = pd.DataFrame([{"claim_id": "X1", "item_class": "A", "amount_fen": 100}])
    with pytest.raises(ValidationError, match="X1"):
        settle_frame(claims, lines, "demo")
    claims["adm_date"] = dt.date(2024, 3, 1)
    with pytest.raises(ValidationError) as e:
        settle_frame(claims, lines.assign(amount_fen=-1), "demo")
    assert e.value.field == "amount_fen"
    with pytest.raises(ValidationError) as e:
        settle_frame(claims.drop(columns="psn_type"), lines, "demo")
    assert e.value.field == "psn_type"


def test_batch_scan_when_a_cap_changes_mid_year():
    """A reform moving the cap mid-year: the batch must use the grouped scan and still match real time."""
    from yibao.settlement.synthetic import claims_frames
    from yibao.settlement.model import Claim, Institution, Line, Person

    pack = load_pack("demo").reform({"benefits.pooling.caps": {"2024-07-01": [
        {"insutype": "310", "group": "pooling", "amount": 20000}, {"insutype": "310", "group": "outpatient", "amount": 3000},
        {"insutype": "310", "group": "maternity", "amount": 6000}]}})
    p = Person("P1", "310", "11", age=40)
    claims = [Claim(f"C{i}", p, Institution("H", "3"), "21", d, d, [Line(amount=1_000_000, item_class="A")])
              for i, d in enumerate([dt.date(2024, 3, 1), dt.date(2024, 5, 1), dt.date(2024, 8, 1), dt.date(2024, 9, 1)])]
    f, lines = claims_frames(claims)
    batch = settle_frame(f, lines, pack)
    acc, seq = {}, []
    for c in claims:
        c.person.accumulators = acc
        s = settle(c, pack)
        acc = s.accumulators
        seq.append(s["hifp_pay"])
    assert batch["hifp_pay"].tolist() == seq
    # 7820 and 8160 under the 15万 cap; from July the 2万 cap leaves 4020, then nothing
    assert seq == [782_000, 816_000, 402_000, 0]
