"""The NHSA 医保基金智能审核 "两库" knowledge points (batches 1–8) as tidy DataFrames for supervision rules.

Service rules name NHSA 15-digit 医疗服务项目 codes; for a base item that code is ``"00"`` + the 9-digit
price-list code + ``"0000"`` (an observed pattern, true for 745 of 764 base codes), so every table
carries ``item_code`` — the 9-digit code of the shipped catalog when the code is a base item, else null
— and ``base_item_code`` (digits 3–11, the parent item, always set). Drug rules name real NHSA drug
codes (``drug_rule_codes``) and drug names; the shipped catalog's drug codes are synthetic, so
:func:`drug_rules_for_catalog` joins by name instead.

Sources and attribution: ``data/SOURCES.md``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError

__all__ = [
    "DRUG_RULE_KINDS", "drug_rule_codes", "drug_rules", "drug_rules_for_catalog", "nhsa_service_code",
    "service_age_limits", "service_course", "service_frequency", "service_multi_surgery", "service_pairs",
    "service_period", "service_sex_limits", "service_working_age",
]

DATA = Path(__file__).parent / "data" / "rules"

# 两库 drug rule names → the condition they set
DRUG_RULE_KINDS = {
    "限定性别对象": "sex",
    "限定年龄对象": "age",
    "限定保险类型": "scheme",  # 工伤 / 生育 only
    "限定就医方式": "setting",  # 住院 only
    "限定机构等级": "level",
    "限定支付疗程": "course",  # paid for at most N days
}
_SEX = {"男": "1", "女": "2"}
_MAX_AGE = {"儿童": 17, "婴幼儿": 2, "新生儿": 0}  # assumption: 儿童 = under 18
_LEVEL = {"一级": vocab.LEVEL_ONE, "二级": vocab.LEVEL_TWO, "三级": vocab.LEVEL_THREE}
_PERIOD_HOURS = {"单日": 24, "6小时": 6, "同一小时": 1}  # 单次就诊 = same visit: no fixed hours


@functools.cache
def _read(name: str) -> pd.DataFrame:
    path = DATA / f"{name}.csv.gz"
    if not path.exists():
        raise ValidationError("rules", f"no shipped rule table {name!r}", str(DATA))
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _codes(df: pd.DataFrame, col: str, prefix: str = "") -> pd.DataFrame:
    """Add ``<prefix>item_code`` and ``<prefix>base_item_code`` for an NHSA 15-digit code column."""
    item, base = nhsa_service_code(df[col])
    df[f"{prefix}item_code"] = item
    df[f"{prefix}base_item_code"] = base
    return df


def nhsa_service_code(codes) -> tuple[pd.Series, pd.Series]:
    """NHSA 15-digit service codes → (9-digit catalog code where the code is a base item, else null;
    the 9-digit parent code). Codes not of 15 digits give nulls in both."""
    s = pd.Series(codes, dtype="string").str.strip()
    ok = s.str.fullmatch(r"00\d{13}").fillna(False).astype(bool)
    base = s.str.slice(2, 11).where(ok)
    item = base.where(ok & s.str.endswith("0000").fillna(False).astype(bool))
    return item.astype("string"), base.astype("string")


def _int(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None), errors="coerce").astype("Int64")


def _copy(name: str) -> pd.DataFrame:
    return _read(name).copy()


def service_pairs() -> pd.DataFrame:
    """Main / sub item pairs that may not be billed together (重复收费, batch 7): ``period`` (单日 / 单次就诊
    / 6小时 / 同一小时), ``window_hours`` (null for 单次就诊 = the same visit), main and sub names, codes
    and catalog codes, ``note``."""
    df = _copy("service_pairs")
    df["seq"] = _int(df["seq"])
    df["window_hours"] = df["period"].map(_PERIOD_HOURS).astype("Int64")
    df = _codes(df, "main_code", "main_")
    return _codes(df, "sub_code", "sub_")


def service_frequency() -> pd.DataFrame:
    """Items billed at most ``max_qty`` per ``per`` (日 / 小时 / 天; batch 8-1), e.g. 住院诊查费 ≤ 1 per day."""
    df = _copy("service_frequency")
    df["seq"] = _int(df["seq"])
    df["max_qty"] = _int(df["max_qty"])
    df["per"] = df["per"].replace({"天": "日", "": "日"})
    return _codes(df, "code")


def service_period() -> pd.DataFrame:
    """Items billed at most ``max_count`` times in ``period_days`` days (batch 8-4), e.g. 糖化血红蛋白
    ≤ 1 per 15 days."""
    df = _copy("service_period")
    df["seq"] = _int(df["seq"])
    df["max_count"] = _int(df["max_count"])
    df["period_days"] = _int(df["period_days"])
    return _codes(df, "code")


def _days(text: str) -> int | None:
    m = re.search(r"不超过(\d+)天", text)
    if m:
        return int(m.group(1))
    return 365 if "不超过一年" in text else None


def service_course() -> pd.DataFrame:
    """Items paid for a limited course (batch 8-3): ``max_days`` of the course, ``min_interval_days``
    between two uses where stated, and the text."""
    df = _copy("service_course")
    df["seq"] = _int(df["seq"])
    df["max_days"] = df["note"].map(_days).astype("Int64")
    iv = df["note"].str.extract(r"间隔时间不短于(\d+)天", expand=False)
    weekly = df["note"].str.contains("每周最多支付一次", regex=False)
    df["min_interval_days"] = pd.to_numeric(iv, errors="coerce").astype("Int64").mask(weekly, 7)
    return _codes(df, "code")


def service_working_age() -> pd.DataFrame:
    """Items not paid beyond the legal working age (batch 8-2)."""
    df = _copy("service_working_age")
    df["seq"] = _int(df["seq"])
    return _codes(df, "code")


def service_sex_limits() -> pd.DataFrame:
    """Sex-specific service items (batch 1): ``sex`` "1" male / "2" female."""
    df = _copy("service_sex_limits")
    df["sex"] = df["limit_value"].map(_SEX).astype("string")
    return _codes(df, "code")


def service_age_limits() -> pd.DataFrame:
    """Age-limited service items (batch 1): ``max_age`` from 儿童 (17) / 婴幼儿 (2) / 新生儿 (0)."""
    df = _copy("service_age_limits")
    df["max_age"] = df["limit_value"].map(_MAX_AGE).astype("Int64")
    return _codes(df, "code")


def service_multi_surgery() -> pd.DataFrame:
    """Operations of a surgical ``group`` whose second and later operations through the same incision
    must be discounted (batch 2)."""
    return _codes(_copy("service_multi_surgery"), "code")


def drug_rules() -> pd.DataFrame:
    """Drug restriction rules by drug name (batches 1–8): ``rule`` as published, ``kind`` (sex / age /
    scheme / setting / level / course), ``description`` (the 限定支付范围 or 功能主治 text), ``limit_value``,
    and the parsed condition: ``sex``, ``max_age``, ``inpatient_only``, ``min_level``, ``course_days``,
    ``scheme`` (工伤 / 生育)."""
    df = _copy("drug_rules")
    df["kind"] = df["rule"].map(DRUG_RULE_KINDS).astype("string")
    v, k = df["limit_value"], df["kind"]
    df["sex"] = v.map(_SEX).where(k == "sex").astype("string")
    df["max_age"] = v.map(_MAX_AGE).where(k == "age").astype("Int64")
    df["inpatient_only"] = ((k == "setting") & (v == "住院")).astype(bool)
    df["min_level"] = v.map(_LEVEL).where(k == "level").astype("string")
    days = pd.to_numeric(v.str.extract(r"^(\d+)天$", expand=False), errors="coerce")
    df["course_days"] = days.where(k == "course").astype("Int64")
    df["scheme"] = v.where(k == "scheme").astype("string")
    return df


def drug_rule_codes() -> pd.DataFrame:
    """The real NHSA 医保药品代码 (23-char 西药, 20-char 中成药) each drug rule applies to."""
    df = _copy("drug_rule_codes")
    df["seq"] = _int(df["seq"])
    return df


def drug_rules_for_catalog(catalog: pd.DataFrame) -> pd.DataFrame:
    """Drug rules joined to catalog items by name (the catalog name, without its dosage-form suffix,
    or any of its '、'-joined names, equals the rule's drug name): one row per (item_code, rule)."""
    drugs = catalog.loc[catalog["kind"] == "drug", ["item_code", "name"]].copy()
    drugs["key"] = drugs["name"].astype(str).str.replace(r"\([^()]*\)$", "", regex=True).str.split("、")
    keys = drugs.explode("key")[["item_code", "key"]]
    rules = drug_rules()
    out = keys.merge(rules, left_on="key", right_on="drug_name", how="inner").drop(columns="key")
    return out.drop_duplicates().reset_index(drop=True)
