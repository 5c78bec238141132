"""The NHSA 两库 knowledge base as tidy tables."""

from __future__ import annotations

import pandas as pd

from yibao.catalog import rules
from yibao.catalog.items import load_catalog


def test_service_pairs():
    p = rules.service_pairs()
    assert len(p) == 900
    first = p.iloc[0]
    assert first["main_name"] == "急诊监护费" and first["main_item_code"] == "110300001"
    assert first["sub_item_code"] == "110200003" and first["window_hours"] == 24
    assert set(p["period"]) == {"单日", "单次就诊", "6小时", "同一小时"}
    assert p.loc[p["period"] == "单次就诊", "window_hours"].isna().all()
    # sub-items (…0100) have no catalog code of their own but keep their parent
    sub = p[p["sub_code"] == "001109000010100"].iloc[0]
    assert pd.isna(sub["sub_item_code"]) and sub["sub_base_item_code"] == "110900001"
    codes = set(load_catalog()["item_code"])
    assert p["main_item_code"].dropna().isin(codes).mean() > 0.7


def test_frequency_period_course():
    f = rules.service_frequency().set_index("name")
    assert f.loc["住院诊查费", "max_qty"] == 1 and f.loc["住院诊查费", "per"] == "日"
    assert f.loc["住院诊查费", "item_code"] == "110200005"
    per = rules.service_period().set_index("name")
    assert per.loc["糖化血红蛋白测定", "max_count"] == 1 and per.loc["糖化血红蛋白测定", "period_days"] == 15
    c = rules.service_course().set_index("name")
    assert c.loc["手功能评定", "max_days"] == 90 and c.loc["手功能评定", "min_interval_days"] == 14
    assert c.loc["儿童听力障碍语言训练", "max_days"] == 365 and c.loc["儿童听力障碍语言训练", "min_interval_days"] == 7
    assert len(rules.service_working_age()) == 1


def test_sex_age_and_surgery():
    s = rules.service_sex_limits()
    assert set(s["sex"]) == {"1", "2"} and len(s) == 390
    assert s.set_index("name").loc["子宫造影", "sex"] == "2"
    a = rules.service_age_limits()
    assert set(a["max_age"]) == {17, 2, 0}
    m = rules.service_multi_surgery()
    assert "胃肠手术组" in set(m["group"]) and len(m) == 378


def test_drug_rules():
    d = rules.drug_rules()
    assert len(d) == 901 and d["kind"].notna().all()
    assert set(d["sex"].dropna()) == {"1", "2"}
    assert (d.loc[d["kind"] == "age", "max_age"] == 17).all()
    assert d.loc[d["kind"] == "setting", "inpatient_only"].all()
    assert set(d["min_level"].dropna()) == {"2", "3"}
    assert d.loc[d["kind"] == "course", "course_days"].notna().all()
    assert set(d["scheme"].dropna()) == {"工伤", "生育"}
    codes = rules.drug_rule_codes()
    assert len(codes) == 13_827
    assert codes["med_list_code"].str.len().isin([20, 23]).all()


def test_drug_rules_join_the_catalog_by_name():
    j = rules.drug_rules_for_catalog(load_catalog())
    assert len(j) > 100 and j["item_code"].str.match(r"^[XZ]").all()
    # a rule joined by name agrees with the restriction the catalog item carries
    cat = load_catalog().set_index("item_code")
    sex = j[j["kind"] == "sex"]
    assert (cat.loc[sex["item_code"], "restrict_sex"].to_numpy() == sex["sex"].to_numpy()).mean() > 0.9
