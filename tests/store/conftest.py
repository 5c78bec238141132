"""Fixtures of the store tests: a migrated store on SQLite and PostgreSQL, and valid sample records."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from yibao.ids import make_credit_code, make_id_number
from yibao.store import Store, upgrade

ADMDVS = "370302"


def person(n: int, sex: str = "1", born: date = date(1980, 5, 6), **kw) -> dict:
    return {"psn_no": f"P{n:05d}", "certno": make_id_number(ADMDVS, born, n, sex), "name": f"参保人{n}",
            "sex": sex, "birth_date": born, "admdvs": ADMDVS, "household_id": None, "death_date": None, **kw}


def employer(n: int, **kw) -> dict:
    return {"emp_no": f"E{n:04d}", "uscc": make_credit_code(ADMDVS, n), "name": f"单位{n}", "admdvs": ADMDVS,
            "industry": "C", "avg_wage_fen": 700_000, "headcount": 10, **kw}


def spell(spell_id: str, psn_no: str, start: date, end: date | None = None, insutype: str = "310", **kw) -> dict:
    base = {"spell_id": spell_id, "psn_no": psn_no, "insutype": insutype,
            "psn_type": "11" if insutype == "310" else "15", "emp_kind": "employer" if insutype == "310" else None,
            "emp_no": "E0001" if insutype == "310" else None, "admdvs": ADMDVS, "start_date": start,
            "end_date": end, "contribution_base_fen": 600_000 if insutype == "310" else None,
            "civil_servant": False}
    return {**base, **kw}


def institution(code: str = "H37030200001", kind: str = "hospital", level: str = "3", **kw) -> dict:
    return {"fixmedins_code": code, "name": f"医院{code[-3:]}", "kind": kind, "level": level, "admdvs": ADMDVS,
            "beds": 500, "agreement_start": date(2020, 1, 1), "agreement_end": None, **kw}


def catalog_item(code: str = "XA01ABD075A002010100594", **kw) -> dict:
    return {"item_code": code, "kind": "drug", "name": "药品", "item_class": "B", "preselfpay_ppm": 100_000,
            "price_cap_fen": 1250, "unit": "片", "restrict_sex": None, "restrict_min_age": None,
            "restrict_max_age": None, "inpatient_only": False, "restrict_min_level": None, "required_dx": None,
            "restriction_text": None, "begin_date": date(2024, 1, 1), "end_date": None, "version": "2024",
            "source": "test", **kw}


def claim(claim_id: str, psn_no: str = "P00001", code: str = "H37030200001", **kw) -> dict:
    return {"claim_id": claim_id, "psn_no": psn_no, "fixmedins_code": code, "insutype": "310", "med_type": "21",
            "adm_date": date(2025, 3, 1), "dscg_date": date(2025, 3, 6), "los": 5, "diagnoses": "K35.800|I10.x00",
            "procedures": "47.0900", "dscg_way": "1", "newborn_weight_g": None, "dept": "普外科",
            "doctor_code": "D001", "medfee_sumamt_fen": 1_000_000, "mdtrtarea_admdvs": ADMDVS,
            "insuplc_admdvs": ADMDVS, "out_of_region": False, "filing": None, "chronic_disease": None, **kw}


def line(line_no: int, claim_id: str = "C1", **kw) -> dict:
    return {"claim_id": claim_id, "line_no": line_no, "item_code": "XA01ABD075A002010100594", "kind": "drug",
            "service_date": date(2025, 3, 2), "qty": 2.0, "price_fen": 1000, "amount_fen": 2000, **kw}


@pytest.fixture
def make():
    """Builders of valid records in the lake schema."""
    return SimpleNamespace(person=person, employer=employer, spell=spell, institution=institution,
                           catalog_item=catalog_item, claim=claim, line=line, admdvs=ADMDVS)


@pytest.fixture
def store(db_url):
    upgrade(db_url)
    s = Store(db_url)
    try:
        yield s
    finally:
        s.dispose()
