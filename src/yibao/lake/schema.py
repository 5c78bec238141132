"""The lake's tables: one Parquet file per table in a region folder. These schemas are the contract
between the synthetic generator, the store loader and the batch engines (settlement, payment,
supervision). Money is int64 fen; rates are int ppm (parts per million); dates are date32.
"""

from __future__ import annotations

import pyarrow as pa

S, I8, I16, I32, I64, B, D, F = pa.string(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.bool_(), pa.date32(), pa.float64()

TABLES: dict[str, pa.Schema] = {
    # 医保区划 of the region and the places its people are treated in
    "regions": pa.schema([("admdvs", S), ("name", S), ("parent_admdvs", S), ("level", S)]),
    "employers": pa.schema([
        ("emp_no", S), ("uscc", S), ("name", S), ("admdvs", S), ("industry", S),
        ("avg_wage_fen", I64),  # average monthly wage of its staff
        ("headcount", I32),
        ("has_supplementary", B),  # runs 企业补充医疗保险 for its staff; null = unknown (older lakes)
    ]),
    "persons": pa.schema([
        ("psn_no", S), ("certno", S), ("name", S), ("sex", S), ("birth_date", D), ("admdvs", S),
        ("household_id", S), ("death_date", D),
    ]),
    # 参保 spells: insutype 310 职工 / 390 居民; emp_kind employer / flexible (灵活就业) for 310
    "enrollments": pa.schema([
        ("spell_id", S), ("psn_no", S), ("insutype", S), ("psn_type", S), ("emp_kind", S), ("emp_no", S),
        ("admdvs", S), ("start_date", D), ("end_date", D),
        ("contribution_base_fen", I64),  # monthly base for 310, null for 390
        ("civil_servant", B),  # 公务员医疗补助 eligible
    ]),
    # 医疗救助 identity categories (yibao.vocab.IDENTITIES keys)
    "identities": pa.schema([("psn_no", S), ("identity", S), ("start_date", D), ("end_date", D)]),
    # 定点医药机构: kind hospital / primary / pharmacy; level "3"/"2"/"1"/"0" (未定级)
    "institutions": pa.schema([
        ("fixmedins_code", S), ("name", S), ("kind", S), ("level", S), ("admdvs", S), ("beds", I32),
        ("agreement_start", D), ("agreement_end", D),
    ]),
    # 医保目录 items (drug / service / consumable) with class 甲A/乙B/丙C and restrictions
    "catalog": pa.schema([
        ("item_code", S), ("kind", S), ("name", S), ("item_class", S), ("preselfpay_ppm", I32),
        ("price_cap_fen", I64),  # 最高限价 / 支付标准 per unit; null = none
        ("unit", S), ("restrict_sex", S), ("restrict_min_age", I16), ("restrict_max_age", I16),
        ("inpatient_only", B), ("restrict_min_level", S),
        ("required_dx", S),  # '|'-joined ICD-10 prefixes of the 限定支付范围; null = none
        ("restriction_text", S), ("begin_date", D), ("end_date", D), ("version", S), ("source", S),
    ]),
    # 结算清单-shaped encounters; diagnoses / procedures '|'-joined, principal / main first
    "claims": pa.schema([
        ("claim_id", S), ("psn_no", S), ("fixmedins_code", S), ("insutype", S), ("med_type", S),
        ("adm_date", D), ("dscg_date", D), ("los", I16), ("diagnoses", S), ("procedures", S),
        ("dscg_way", S), ("newborn_weight_g", I32), ("dept", S), ("doctor_code", S),
        ("medfee_sumamt_fen", I64), ("mdtrtarea_admdvs", S), ("insuplc_admdvs", S),
        ("out_of_region", B), ("filing", S),  # 异地: filed / referred / emergency / unfiled; null in region
        ("chronic_disease", S),  # 门诊慢特病 code for med_type 14, else null
    ]),
    "claim_lines": pa.schema([
        ("claim_id", S), ("line_no", I32), ("item_code", S), ("kind", S), ("service_date", D),
        ("qty", F), ("price_fen", I64), ("amount_fen", I64),
    ]),
    # ground truth of injected fraud and abuse (one row per label; a claim may carry several)
    "fraud_labels": pa.schema([("claim_id", S), ("label", S), ("detail", S)]),
    # ground truth above the claim: level person / doctor / institution, entity_id psn_no / doctor_code /
    # fixmedins_code, the label (a FRAUD_LABELS key, or ENTITY_PROPENSITY for a doctor or institution
    # whose fraud is injected on purpose) and its detail (a ring id, the institution of a doctor …)
    "fraud_entities": pa.schema([("level", S), ("entity_id", S), ("label", S), ("detail", S)]),
    # choices made at enrolment for a year: 居民缴费档次 (0 = unknown / single-tier region) and the
    # voluntary supplementary tiers joined ('|'-joined pack supplementary.tiers names, e.g. huiminbao)
    "coverage_choices": pa.schema([("psn_no", S), ("year", I16), ("tier", I8), ("supplementary", S)]),
    # 个人账户 balance at 1 January of ``year`` (before that year's accruals)
    "account_balances": pa.schema([("psn_no", S), ("year", I16), ("balance_fen", I64)]),
    "contributions": pa.schema([
        ("psn_no", S), ("year", I16), ("insutype", S), ("employer_fen", I64), ("individual_fen", I64),
        ("subsidy_fen", I64), ("sponsored_fen", I64),
    ]),
}

FRAUD_LABELS = {
    "split_stay": "分解住院",
    "bed_hanging": "挂床住院",
    "duplicate_charge": "重复收费",
    "item_swap": "串换项目",
    "overdose": "超量开药",
    "sex_violation": "限性别违规",
    "age_violation": "限年龄违规",
    "overlapping_stay": "住院期间重叠结算",
    "after_death": "死亡后就医",
    "upcoding": "高套诊断",
    "ring": "结伙骗保",
}
ENTITY_LEVELS = ("person", "doctor", "institution")
ENTITY_PROPENSITY = "propensity"  # a doctor or institution that carries injected fraud on purpose


def empty(table: str) -> pa.Table:
    return TABLES[table].empty_table()
