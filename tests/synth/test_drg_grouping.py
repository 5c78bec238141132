"""The generator's inpatient stays fit the CHS-DRG 1.1 grouper: specific codes it knows, principal
diagnoses in its MDC tables, and each condition in the ADRG its diagnosis and operation call for."""

from __future__ import annotations

import pytest

from yibao.catalog.codes import icd9, icd10
from yibao.lake.io import read_table
from yibao.payment.drg import Grouper, group_many
from yibao.payment.drg.batch import cases_from_claims
from yibao.synth import SynthConfig, generate
from yibao.synth import data as sdata

PERSONS = 8000


def _codes(cell: str) -> list[str]:
    return [c for c in cell.split("|") if c]


def _case(row) -> tuple[int, int, int, int]:
    """(sex, age, age_days, birth weight) of a typical patient of a condition."""
    if row.setting == "newborn":
        return 1, 0, 5, 3000
    sex = 2 if row.sex == "2" else 1
    return sex, int(min(max(row.min_age, 50), row.max_age)), -1, -1


def test_every_condition_code_is_specific_and_known_to_the_grouper():
    g = Grouper.load("chs-1.1")
    for row in sdata.conditions().itertuples():
        dx = [row.icd10, *_codes(row.comorbid)]
        procs = _codes(row.procedures)
        assert icd10().validate_many(dx).all() and icd9().validate_many(procs).all(), row.key
        assert all(c in g.dx_map for c in dx), row.key
        assert all(p in g.proc_map for p in procs), row.key
        assert g.mdc_of.get(g.dx_map[row.icd10]) or g.dx_map[row.icd10] in g.members["MDCP"], row.key
        sex, age, days, weight = _case(row)
        # the principal alone (when a stay can go without an operation) and with each operation
        options = [[p] for p in procs] + ([[]] if row.proc_share < 1 else [])
        for px in options:
            mdc, adrg, drg, status, reason, *_ = g.group_fields(sex, age, days, weight, 5, [row.icd10], px)
            assert status == "ok", (row.key, px, reason)


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    out = tmp_path_factory.mktemp("drg_region")
    generate(SynthConfig(persons=PERSONS, seed=11, with_lines=False), out)
    claims = read_table(out, "claims").to_pandas()
    persons = read_table(out, "persons").to_pandas()
    labels = read_table(out, "fraud_labels").to_pandas()
    stays = claims[claims["los"].notna()].reset_index(drop=True)
    cases = cases_from_claims(stays, persons)
    groups = group_many(cases)
    assert (groups["case_id"].to_numpy() == stays["claim_id"].to_numpy()).all()
    keys = sdata.conditions().set_index("icd10")["key"]
    out_df = groups.assign(principal=stays["diagnoses"].str.split("|").str[0],
                           procedures=stays["procedures"], age_days=cases["age_days"],
                           weight=stays["newborn_weight_g"],
                           upcoded=stays["claim_id"].isin(labels["claim_id"][labels["label"] == "upcoding"]))
    out_df["condition"] = out_df["principal"].map(keys)
    return out_df


def test_nearly_every_stay_groups(grouped):
    assert len(grouped) > 1000
    status = grouped["status"].value_counts(normalize=True)
    assert status.get("ok", 0) >= 0.99, grouped[grouped["status"] != "ok"]["reason"].value_counts().head()
    assert status.get("QY", 0) <= 0.005
    assert grouped["condition"].notna().all()  # every principal diagnosis is a condition's
    # a stay of a patient up to 28 days old is a newborn stay, with the birth weight the grouper needs
    young = grouped["age_days"].notna() & (grouped["age_days"] <= 28)
    assert young.any() and grouped.loc[young, "weight"].notna().all()


@pytest.mark.parametrize("condition, procedure, adrgs", [
    ("appendicitis", "47.0", {"GD1", "GD2"}),  # 阑尾切除术
    ("cataract", "13.", {"CB3"}),  # 晶体手术
    ("vaginal_birth", "", {"OC1", "OR1"}),  # 阴道分娩 (the delivery manoeuvre puts it in OC1)
    ("caesarean", "74.1", {"OB1"}),  # 剖宫产术
    ("hip_fx", "81.5", {"IC2"}),  # 髋关节置换术
    ("ami", "36.06", {"FM1"}),  # 经皮冠状动脉支架植入
    ("chd", "36.06", {"FM1"}),
    ("pneumonia", None, {"ES3"}),  # 呼吸系统感染／炎症
    ("stroke", None, {"BR2"}),  # 脑缺血性疾患
    ("chemo", "99.25", {"RE1"}),  # 恶性增生性疾患的化学治疗
    ("ventilation", "96.72", {"AH1"}),  # 有创呼吸机支持 ≥ 96 小时
    ("major_trauma", "01.31", {"ZB1"}),  # 多发性严重创伤开颅术
    ("major_trauma", None, {"ZZ1"}),  # 多发性重要创伤无手术
])
def test_conditions_land_in_their_adrg(grouped, condition, procedure, adrgs):
    rows = grouped[(grouped["condition"] == condition) & ~grouped["upcoded"]]
    if procedure is None:
        rows = rows[rows["procedures"].isna()]
    else:
        rows = rows[rows["procedures"].fillna("-").str.startswith(procedure)]
    assert len(rows) > 0
    assert set(rows["adrg"]) <= adrgs, rows["adrg"].value_counts()
