"""A frame of one claim (a real-time message) takes the shared front-end's small-input paths: what it
costs per call stays per claim, not per code set or per column of millions, and gives the batch's fen."""

from __future__ import annotations

import dataclasses
import datetime as dt

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


def test_few_and_many_values_take_paths_that_agree():
    """The look-ups a real-time claim takes one by one give what the hashed paths of a batch give."""
    import numpy as np

    from yibao import coded
    from yibao.catalog.items import SMALL, _dx_match_many, _level_numbers

    levels = np.array(["3", "2", "1", "0", "x", None, " 3", "3.0"], dtype=object)
    many = np.tile(levels, SMALL)
    assert np.array_equal(np.tile(_level_numbers(levels), SMALL), _level_numbers(many), equal_nan=True)
    assert list(_level_numbers(levels[:4])) == [3.0, 2.0, 1.0, 0.0]
    required = np.array(["K35|K36", "I10", "C34", "N"], dtype=object)
    diagnoses = np.array(["k35.800x001", "I10|E11", None, "J18"], dtype=object)
    assert list(_dx_match_many(required, diagnoses)) == [True, True, False, False]
    assert np.array_equal(np.tile(_dx_match_many(required, diagnoses), SMALL),
                          _dx_match_many(np.tile(required, SMALL), np.tile(diagnoses, SMALL)))
    a, b = coded.encode(["310", "390", "310", "x"]), coded.encode(["11", "15", "15", "11"])
    pair = coded.per_pair(a, b, lambda x, y: x + y, object)
    big = coded.per_pair(coded.encode(["310", "390", "310", "x"] * SMALL), coded.encode(["11", "15", "15", "11"] * SMALL),
                         lambda x, y: x + y, object)
    assert list(pair) == ["31011", "39015", "31015", "x11"] and list(big) == list(pair) * SMALL
    assert list(a == "390") == [False, True, False, False] and list(a != "y") == [True] * 4
    wide = coded.encode([str(i) for i in range(SMALL + 2)])
    assert list(np.flatnonzero(wide == str(SMALL + 1))) == [SMALL + 1]


def test_a_claim_with_no_nth_stay_rule_or_large_expense_keeps_its_accumulators():
    """Tiers that do not apply to a claim are skipped; what the claim carries forward is unchanged."""
    from yibao.settlement.model import Claim, Institution, Line, Person

    person = Person("P1", "390", "15", age=40, accumulators={"stays": 2, "hifob.paid": 7, "cap:pooling": 100})
    claim = Claim("C1", person, Institution("H1", "2", "419900"), "21", dt.date(2024, 3, 1), dt.date(2024, 3, 5),
                  [Line(amount=500_000, item_class="A")])
    st = settle(claim, "demo")
    assert st.accumulators["stays"] == 3 and st.accumulators["hifob.paid"] == 7
    assert st.setlinfo["hifob_pay"] == 0 and st.setlinfo["hifp_pay"] > 0


def test_one_claims_text_columns_are_shared_read_only():
    """Claims that carry the same 险种 share its encoded column; nobody can write into it."""
    import numpy as np

    first, _ = claim_columns(claim_from(doc()))
    second, _ = claim_columns(claim_from(doc(claim_id="C2")))
    assert first["insutype"] is second["insutype"]
    with pytest.raises(ValueError, match="read-only"):
        first["insutype"].codes[0] = 1
    assert list(np.asarray(second["insutype"])) == ["310"]


def test_one_claims_sums_are_the_sums_of_many():
    import numpy as np

    from yibao.settlement.engine import claim_sums

    col = np.array([5, 7, 11], dtype=np.int64)
    assert [list(x) for x in claim_sums(np.array([0]), np.array([3]), col, col * 2)] == [[23], [46]]
    assert [list(x) for x in claim_sums(np.array([0, 1]), np.array([1, 3]), col)] == [[5, 18]]
    assert [list(x) for x in claim_sums(np.array([0]), np.array([2]), col)] == [[12]]


def test_each_lines_scope_sums_to_the_claims():
    """A 2204 answer's lines and the claim's scope sums come from one split of the lines."""
    from yibao.settlement.synthetic import restricted_catalog

    catalog = restricted_catalog()
    codes = list(catalog["item_code"])[:6]
    claim = claim_from(doc(lines=[{"item_code": c, "amount": str(100 + 37 * i), "qty": 2} for i, c in enumerate(codes)]
                           + [{"class": "B", "amount": "88.88", "preselfpay": 0.15}]))
    pack = load_pack("demo")
    each = claim_inputs(claim, pack, catalog, each_line=True).scope
    whole = claim_inputs(claim, pack, catalog).scope
    for line_key, claim_key in (("fulamt", "fulamt"), ("overlmt", "overlmt"), ("presel", "presel"), ("inscope", "inscope")):
        assert int(each["lines"][line_key].sum()) == int(each[claim_key][0]) == int(whole[claim_key][0])
    assert int(whole["total"][0]) == sum(ln.amount for ln in claim.lines)


def test_a_kinds_fund_rows_cite_the_same_whatever_claim_comes_first():
    first = settle(claim_from(doc()), "demo")
    again = settle(claim_from(doc(claim_id="C2", lines=[{"class": "A", "amount": "20000"}])), "demo")
    assert [d.setl_proc_info for d in first.setldetail][:1] == [d.setl_proc_info for d in again.setldetail][:1]
    assert first.setldetail[0].setl_proc_info and "[" in first.setldetail[0].setl_proc_info


def test_warm_builds_what_the_first_claim_would_build_and_never_refuses():
    """A server warms each worker before its first message, so its threads do not all build the ICD-10
    code set and the catalog's look-ups at once."""
    from yibao.catalog.items import Catalog
    from yibao.settlement import inputs
    from yibao.settlement.realtime import warm

    inputs._icd10_codes.cache_clear()
    warm(load_pack("demo"), Catalog.shipped(), dt.date(2024, 6, 3))
    assert inputs._icd10_codes.cache_info().currsize == 1
    warm(load_pack("demo"), None, dt.date(2024, 6, 3))  # no catalog: an ad-hoc line, still no error
