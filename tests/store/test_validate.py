from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from yibao import ids
from yibao.errors import ValidationError
from yibao.store import validate as v


def raises(fn, *args, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as e:
        fn(*args, **kw)
    return e.value


def test_valid_records_pass_and_are_normalised(make):
    p = make.person(1)
    assert v.person({**p, "certno": p["certno"].lower()})["certno"] == p["certno"]
    assert v.employer(make.employer(1))["uscc"] == make.employer(1)["uscc"]
    assert v.enrollment(make.spell("S1", "P1", date(2020, 1, 1)))["civil_servant"] is False
    assert v.institution(make.institution())["level"] == "3"
    assert v.catalog_item(make.catalog_item())["preselfpay_ppm"] == 100_000
    assert v.claim(make.claim("C1"))["los"] == 5
    assert v.claim_line(make.line(1))["amount_fen"] == 2000


@pytest.mark.parametrize("change, field, words", [
    (lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"), "certno", "check"),
    (lambda c: c[:6] + "19801301" + c[14:], "certno", "birth date"),
    (lambda c: "99" + c[2:], "certno", "province"),
    (lambda c: c[:10], "certno", "17 digits"),
])
def test_bad_id_number(make, change, field, words):
    p = make.person(1)
    e = raises(v.person, {**p, "certno": change(p["certno"])})
    assert e.field == field and words in e.problem and "psn_no=P00001" in str(e)


def test_birth_date_and_sex_must_match_the_id(make):
    p = make.person(1, sex="1", born=date(1980, 5, 6))
    e = raises(v.person, {**p, "birth_date": date(1980, 6, 5)})
    assert e.field == "birth_date" and "1980-05-06" in e.problem and "P00001" in str(e)
    e = raises(v.person, {**p, "sex": "2"})
    assert e.field == "sex" and "P00001" in str(e)
    e = raises(v.person, {**p, "death_date": date(1970, 1, 1)})
    assert e.field == "death_date"


def test_bad_credit_code(make):
    emp = make.employer(3)
    e = raises(v.employer, {**emp, "uscc": emp["uscc"][:-1] + ("0" if emp["uscc"][-1] != "0" else "1")})
    assert e.field == "uscc" and "GB 32100" in e.problem and "emp_no=E0003" in str(e)
    e = raises(v.employer, {**emp, "uscc": "91370302MA3I0000O"})  # 17 chars and letters outside the set
    assert e.field == "uscc"


@pytest.mark.parametrize("value", ["37030", "3703021", "990302", "37O302"])
def test_bad_admdvs(make, value):
    e = raises(v.person, {**make.person(1), "admdvs": value})
    assert e.field == "admdvs" and "P00001" in str(e)
    e = raises(v.region, {"admdvs": "370300", "name": "x", "parent_admdvs": value, "level": None})
    assert e.field == "parent_admdvs" and "admdvs=370300" in str(e)


@pytest.mark.parametrize("code, kind", [("H3703020001", "hospital"), ("X37030200001", "hospital"),
                                        ("H99030200001", "hospital"), ("H37030200001", "pharmacy")])
def test_bad_institution_code(make, code, kind):
    e = raises(v.institution, make.institution(code, kind=kind))
    assert e.field == "fixmedins_code" and code in str(e)
    if kind == "hospital":  # a malformed code is refused on claims too
        e = raises(v.claim, make.claim("C7", code=code))
        assert e.field == "fixmedins_code" and "claim_id=C7" in str(e)


def test_dates_in_order(make):
    e = raises(v.claim, make.claim("C1", adm_date=date(2025, 3, 5), dscg_date=date(2025, 3, 4)))
    assert e.field == "dscg_date" and "before admission" in e.problem and "claim_id=C1" in str(e)
    e = raises(v.enrollment, make.spell("S1", "P1", date(2020, 1, 1), date(2019, 12, 31)))
    assert e.field == "end_date" and "spell_id=S1" in str(e)
    e = raises(v.institution, make.institution(agreement_start=date(2024, 1, 1), agreement_end=date(2023, 1, 1)))
    assert e.field == "agreement_end"


@pytest.mark.parametrize("fn, builder, field", [
    (v.claim, lambda m: m.claim("C1", medfee_sumamt_fen=-1), "medfee_sumamt_fen"),
    (v.claim_line, lambda m: m.line(1, price_fen=-10), "price_fen"),
    (v.enrollment, lambda m: m.spell("S1", "P1", date(2020, 1, 1), contribution_base_fen=-5), "contribution_base_fen"),
    (v.catalog_item, lambda m: m.catalog_item(price_cap_fen=-1), "price_cap_fen"),
    (v.employer, lambda m: m.employer(1, avg_wage_fen=-1), "avg_wage_fen"),
    (v.contribution, lambda m: {"psn_no": "P1", "year": 2025, "insutype": "390", "subsidy_fen": -3}, "subsidy_fen"),
])
def test_negative_amounts(make, fn, builder, field):
    e = raises(fn, builder(make))
    assert e.field == field and "negative" in e.problem


@pytest.mark.parametrize("changes, field", [
    ({"kind": "food"}, "kind"), ({"item_class": "D"}, "item_class"), ({"preselfpay_ppm": 1_000_001}, "preselfpay_ppm"),
    ({"restrict_sex": "3"}, "restrict_sex"), ({"restrict_min_age": 18, "restrict_max_age": 6}, "restrict_max_age"),
    ({"restrict_min_level": "4"}, "restrict_min_level"), ({"item_code": "XA 01"}, "item_code"),
    ({"item_code": None}, "item_code"),
])
def test_catalog_codes(make, changes, field):
    e = raises(v.catalog_item, make.catalog_item(**changes))
    assert e.field == field and "catalog" in str(e)


@pytest.mark.parametrize("changes, field", [
    ({"insutype": "320"}, "insutype"), ({"psn_type": "99"}, "psn_type"), ({"psn_type": "15"}, "psn_type"),
    ({"emp_kind": "freelance"}, "emp_kind"), ({"emp_no": None}, "emp_no"), ({"psn_no": ""}, "psn_no"),
])
def test_enrollment_values(make, changes, field):
    e = raises(v.enrollment, {**make.spell("S1", "P1", date(2020, 1, 1)), **changes})
    assert e.field == field and "spell_id=S1" in str(e)


def test_claim_values_and_codes(make):
    assert raises(v.claim, make.claim("C1", med_type="99")).field == "med_type"
    assert raises(v.claim, make.claim("C1", filing="lost")).field == "filing"
    assert raises(v.claim, make.claim("C1", dscg_way="7")).field == "dscg_way"
    assert raises(v.claim, make.claim("C1", insuplc_admdvs="12345")).field == "insuplc_admdvs"
    assert raises(v.fraud_label, {"claim_id": "C1", "label": "nice"}).field == "label"
    icd = {"K35.800", "I10.x00"}.__contains__
    e = raises(v.claim, make.claim("C1", diagnoses="K35.800|ZZZ"), icd10=icd)
    assert e.field == "diagnoses" and "'ZZZ'" in e.problem
    assert v.claim(make.claim("C1"), icd10=icd)["diagnoses"] == "K35.800|I10.x00"


def test_wrong_type_and_unknown_field(make):
    e = raises(v.claim, make.claim("C1", medfee_sumamt_fen="lots"))
    assert e.field == "medfee_sumamt_fen" and "claim_id=C1" in str(e)
    e = raises(v.person, {**make.person(1), "colour": "blue"})
    assert e.field == "colour"


def test_check_table_reports_first_bad_row(make):
    rows = [make.claim(f"C{i}") for i in range(1, 6)]
    rows[3] = make.claim("C4", medfee_sumamt_fen=-1)
    rows[4] = make.claim("C5", med_type="zz")
    e = raises(v.check_table, "claims", pd.DataFrame(rows), where="claims.parquet", first_row=101)
    assert str(e).startswith("claims.parquet row 104 (claim_id=C4): medfee_sumamt_fen")
    rows[1] = rows[0]
    e = raises(v.check_table, "claims", pd.DataFrame(rows), where="claims.parquet")
    assert "row 2" in str(e) and "duplicate" in e.problem


def test_overlapping_spells(make):
    spells = pd.DataFrame([
        make.spell("A1", "P1", date(2020, 1, 1), date(2020, 12, 31)),
        make.spell("B1", "P2", date(2020, 1, 1)),
        make.spell("A2", "P1", date(2021, 1, 1), date(2021, 12, 31)),  # touching, not overlapping
        make.spell("A3", "P1", date(2021, 1, 1), insutype="390"),  # other scheme
        make.spell("A4", "P1", date(2020, 6, 1), date(2020, 6, 30)),  # inside A1
    ])
    assert v.first_overlap(spells) == (0, 4)
    e = raises(v.check_overlaps, spells)
    assert e.field == "start_date" and "A1" in str(e) and "A4" in str(e) and "P1" in str(e)
    assert v.first_overlap(spells.drop(index=4)) is None


def _brute_overlaps(spells):
    far = date.max
    pairs = []
    for i, a in enumerate(spells):
        for j, b in enumerate(spells):
            if i < j and a["psn_no"] == b["psn_no"] and a["insutype"] == b["insutype"]:
                if a["start_date"] <= (b["end_date"] or far) and b["start_date"] <= (a["end_date"] or far):
                    pairs.append((i, j))
    return pairs


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["P1", "P2"]), st.sampled_from(["310", "390"]),
                          st.integers(0, 60), st.one_of(st.none(), st.integers(0, 30))), min_size=0, max_size=8))
def test_overlap_finder_matches_brute_force(raw):
    d0 = date(2020, 1, 1)
    spells = [{"spell_id": f"S{i}", "psn_no": p, "insutype": ins, "start_date": d0 + timedelta(days=s),
               "end_date": None if length is None else d0 + timedelta(days=s + length)}
              for i, (p, ins, s, length) in enumerate(raw)]
    df = pd.DataFrame(spells, columns=["spell_id", "psn_no", "insutype", "start_date", "end_date"])
    found = v.first_overlap(df)
    expected = _brute_overlaps(spells)
    if not expected:
        assert found is None
    else:
        assert found is not None and tuple(sorted(found)) in expected


def _id_strings():
    digits = st.text("0123456789", min_size=17, max_size=17)
    valid = st.builds(lambda a, b, s, sex: ids.make_id_number(a, b, s, sex),
                      st.sampled_from(["370302", "110101", "440305"]),
                      st.dates(date(1900, 1, 1), date(2025, 12, 31)), st.integers(0, 499), st.sampled_from("12"))
    return st.one_of(valid, st.builds(lambda d, c: d + c, digits, st.sampled_from("0123456789X")),
                     st.text("0123456789X", max_size=19))


def _ok(fn, value) -> bool:
    try:
        fn(value)
        return True
    except ValidationError:
        return False


@settings(max_examples=80, deadline=None)
@given(st.lists(_id_strings(), min_size=1, max_size=20))
def test_vectorised_id_check_equals_scalar(values):
    bad = v.certno_bad(pa.chunked_array([pa.array(values, pa.string())]))
    assert list(~bad) == [_ok(ids.parse_id_number, x) for x in values]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(
    st.builds(lambda a, n: ids.make_credit_code(a, n), st.sampled_from(["370302", "110101"]), st.integers(0, 10**9)),
    st.text("0123456789ABCDEFGHJKLMNPQRTUWXYIOZSV", min_size=17, max_size=19)), min_size=1, max_size=20))
def test_vectorised_credit_check_equals_scalar(values):
    bad = v.credit_bad(pa.chunked_array([pa.array(values, pa.string())]))
    assert list(~bad) == [_ok(ids.validate_credit_code, x) for x in values]


def test_vectorised_checks_on_a_large_column():
    n = 20_000
    good = [ids.make_id_number("370302", date(1950, 1, 1) + timedelta(days=i % 20000), i % 500, "12"[i % 2])
            for i in range(n)]
    col = pa.chunked_array([pa.array(good[: n // 2]), pa.array(good[n // 2:])])
    assert not v.certno_bad(col).any()
    born, sex = v.certno_birth_sex(col)
    assert born[123].as_py() == ids.parse_id_number(good[123]).birth_date
    assert sex[124].as_py() == ids.parse_id_number(good[124]).sex
    assert np.array_equal(v.certno_bad(pa.chunked_array([pa.array(good[:3] + ["x"])])), [False, False, False, True])


def test_text_longer_than_its_column(make):
    e = raises(v.claim, make.claim("C1", dept="科" * 65))
    assert e.field == "dept" and "longer than 64" in e.problem
    e = raises(v.person, make.person(1, psn_no="P" * 33))
    assert e.field == "psn_no"


@pytest.mark.parametrize("amount", [v.MAX_AMOUNT_FEN + 1, -v.MAX_AMOUNT_FEN - 1, -2**63, 2**63 - 1])
def test_every_fen_column_bounded_at_one_hundred_million_yuan(make, amount):
    e = raises(v.contribution, {"psn_no": "P1", "year": 2025, "insutype": "310", "employer_fen": amount})
    assert e.field == "employer_fen" and f"{amount:,} fen is beyond the bound of 10,000,000,000 fen" in str(e)
    e = raises(v.employer, make.employer(1, avg_wage_fen=amount))
    assert e.field == "avg_wage_fen"
    assert v.employer(make.employer(1, avg_wage_fen=v.MAX_AMOUNT_FEN))["avg_wage_fen"] == v.MAX_AMOUNT_FEN
