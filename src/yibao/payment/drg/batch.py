"""Grouping many cases at once: a DataFrame of 结算清单 cases in, one row of groups per case out.

Columns in: ``case_id, sex, age, age_days, birth_weight_g, dept, los_days, discharge_way, diagnoses,
procedures`` (codes ``|``-separated or as lists, principal / main first; ``case_id``, ``dept`` and
``discharge_way`` optional). Columns out: ``case_id, mdc, adrg, drg, status, reason, cc_code,
cc_level``. With ``|``-joined code strings the work is done on arrays (``vector.py``) with the
MDC/ADRG decision made once per distinct signature; codes given as lists go row by row. Both give
the same result as :func:`yibao.payment.drg.group` for every case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao.errors import ValidationError
from yibao.payment.drg.grouper import BAD, MISSING, Grouper, split_codes
from yibao.payment.drg.vector import group_arrays

__all__ = ["group_many", "cases_from_claims", "INPUT_COLUMNS", "OUTPUT_COLUMNS", "REQUIRED_COLUMNS"]

INPUT_COLUMNS = ("case_id", "sex", "age", "age_days", "birth_weight_g", "dept", "los_days", "discharge_way",
                 "diagnoses", "procedures")
OUTPUT_COLUMNS = ("case_id", "mdc", "adrg", "drg", "status", "reason", "cc_code", "cc_level")
REQUIRED_COLUMNS = ("sex", "age", "diagnoses")
_NUMERIC = ("sex", "age", "age_days", "birth_weight_g", "los_days")
_BAD = BAD


def _numeric(col: pd.Series | None, n: int) -> list[int]:
    """Whole numbers as Python ints; ``MISSING`` where absent and ``_BAD`` where malformed."""
    if col is None:
        return [MISSING] * n
    num = pd.to_numeric(col, errors="coerce")
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    present = ~col.isna().to_numpy()
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        present &= col.astype(str).str.strip().ne("").to_numpy()
    with np.errstate(invalid="ignore"):
        bad = present & (np.isnan(values) | (values != np.floor(values)) | (values < 0) | (values > 1e9))
    out = np.where(bad, _BAD, np.where(np.isnan(values), MISSING, values))
    return out.astype(np.int64).tolist()


def group_many(df: pd.DataFrame, version: str = "chs-1.1") -> pd.DataFrame:
    """Group every row of ``df``; a bad row gets status ``0000`` with the reason, never an exception."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError(missing[0], f"column missing (needs {', '.join(REQUIRED_COLUMNS)})", "cases")
    grouper = Grouper.load(version)
    n = len(df)
    case_ids = df["case_id"].astype(str).to_numpy(dtype=object) if "case_id" in df.columns else \
        np.arange(n).astype(str).astype(object)
    dx_arr = _string_array(df["diagnoses"])
    pr_arr = _string_array(df["procedures"]) if "procedures" in df.columns else pa.nulls(n, pa.string())
    if dx_arr is not None and pr_arr is not None:
        nums = {c: np.asarray(_numeric(df[c] if c in df.columns else None, n), dtype=np.int64) for c in _NUMERIC}
        out_cols = group_arrays(grouper, nums, dx_arr, pr_arr)
    else:  # codes given as lists: the row-by-row path
        nums = {c: _numeric(df[c] if c in df.columns else None, n) for c in _NUMERIC}
        dxs = [split_codes(v) for v in df["diagnoses"].tolist()]
        procs = [split_codes(v) for v in df["procedures"].tolist()] if "procedures" in df.columns else [()] * n
        rows = grouper.group_columns(nums["sex"], nums["age"], nums["age_days"], nums["birth_weight_g"],
                                     nums["los_days"], dxs, procs)
        out_cols = list(zip(*rows)) if rows else [()] * 7
    arrays = [c if isinstance(c, pa.Array) else pa.array(np.asarray(c, dtype=object), pa.string())
              for c in (case_ids, *out_cols)]
    return pa.table(dict(zip(OUTPUT_COLUMNS, arrays))).to_pandas()


def _string_array(col: pd.Series) -> pa.Array | None:
    """The column as a pyarrow string array when it holds only strings and missing values."""
    try:
        arr = pa.array(col, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if pa.types.is_null(arr.type):
        return arr.cast(pa.string())
    if pa.types.is_large_string(arr.type):
        return arr.cast(pa.string())
    return arr if pa.types.is_string(arr.type) else None


def cases_from_claims(claims: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Grouper input from the lake's ``claims`` and ``persons`` tables (schemas in ``yibao.lake.schema``).

    Age in whole years and in days at admission (adm_date − birth_date); sex from persons; the
    newborn weight, LOS and discharge way from the claim. Claims whose person is unknown keep a
    missing sex and age, so they come out as 0000 with the reason.
    """
    people = persons[["psn_no", "sex", "birth_date"]].drop_duplicates("psn_no")
    df = claims.merge(people, on="psn_no", how="left")
    adm = pd.to_datetime(df["adm_date"])
    birth = pd.to_datetime(df["birth_date"])
    before_birthday = (adm.dt.month < birth.dt.month) | ((adm.dt.month == birth.dt.month) & (adm.dt.day < birth.dt.day))
    age = adm.dt.year - birth.dt.year - before_birthday.astype("int64")
    return pd.DataFrame({
        "case_id": df["claim_id"],
        "sex": df["sex"],
        "age": age.astype("Int64"),
        "age_days": (adm - birth).dt.days.astype("Int64"),
        "birth_weight_g": df["newborn_weight_g"],
        "dept": df["dept"],
        "los_days": df["los"],
        "discharge_way": df["dscg_way"],
        "diagnoses": df["diagnoses"].fillna(""),
        "procedures": df["procedures"].fillna(""),
    })
