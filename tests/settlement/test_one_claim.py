"""A frame of one claim (a real-time message) takes the shared front-end's small-input paths: what it
costs per call stays per claim, not per code set or per column of millions, and gives the batch's fen."""

from __future__ import annotations

import dataclasses

import pytest

from yibao.catalog.codes import icd10
from yibao.errors import ValidationError
from yibao.policy import load_pack
from yibao.settlement import claim_from, settle
from yibao.settlement.realtime import claim_columns, claim_inputs


def doc(**over):
    d = {"claim_id": "C1", "person": {"insutype": "310", "psn_type": "11", "age": 45, "sex": "2"},
         "institution": {"level": "3", "admdvs": "419900"}, "med_type": "21", "diagnoses": ["I10", "K35.800x001"],
         "adm_date": "2024-03-01", "dscg_date": "2024-03-08", "lines": [{"class": "A", "amount": "10800"}]}
    d.update(over)
    return d


def test_canonical_diagnoses_are_checked_without_hashing_the_code_set(monkeypatch):
    """Hashing the 47,101 ICD-10 codes for a claim's two diagnoses cost milliseconds per message."""
    def whole_set(values):
        raise AssertionError(f"the whole ICD-10 set was hashed for {list(values)}")

    monkeypatch.setattr(icd10(), "validate_many", whole_set)
    assert settle(claim_from(doc()), "demo").setlinfo["medfee_sumamt"] == 1_080_000


@pytest.mark.parametrize("code", ["k35.800X001", "i10", " I10"])
def test_a_diagnosis_in_another_spelling_is_read_as_the_code_set_reads_it(code):
    assert settle(claim_from(doc(diagnoses=[code])), "demo").setlinfo == settle(claim_from(doc()), "demo").setlinfo


def test_an_unknown_diagnosis_is_still_refused():
    with pytest.raises(ValidationError, match="'K35.999x999' is not in the 医保 ICD-10 code set"):
        settle(claim_from(doc(diagnoses=["I10", "K35.999x999"])), "demo")


def test_one_claims_text_columns_read_as_the_batch_reads_them():
    """A level or code given as a number is its text; a missing text is ''; a line with an ad-hoc
    class has no code."""
    claim = claim_from(doc(lines=[{"class": "B", "amount": "5"}, {"item_code": "XA01", "amount": "1"}]))
    claims, lines = claim_columns(claim)
    assert list(claims["insutype"]) == ["310"] and list(claims["chronic_disease"]) == [""]
    assert list(lines["item_code"]) == ["", "XA01"]
    as_number = dataclasses.replace(claim, institution=dataclasses.replace(claim.institution, level=3), lines=claim.lines[:1])
    same = dataclasses.replace(claim, lines=claim.lines[:1])
    assert settle(as_number, "demo").setlinfo == settle(same, "demo").setlinfo
    assert claim_inputs(as_number, load_pack("demo")).claims["level"][0] == "3"
