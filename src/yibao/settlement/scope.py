"""Line scope inputs (政策范围): resolve each line's 甲/乙/丙 class, 先行自付 ratio, price cap and
restriction check from the catalog of the place of treatment at the date of service.

A catalog is anything with the lake ``catalog`` columns as a DataFrame (``yibao.lake.schema``), or an
object with ``get(code, on)`` returning such a row (mapping or attributes). Lines may instead carry
their own class, ratio and cap (ad-hoc items).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from yibao.errors import ValidationError
from yibao.settlement.engine import CLASS_A, CLASS_B, CLASS_C

CLASS_CODES = {"A": CLASS_A, "B": CLASS_B, "C": CLASS_C}


def _field(row: Any, name: str, default: Any = None) -> Any:
    if row is None:
        return default
    if isinstance(row, (dict, pd.Series)):
        v = row.get(name, default)
    else:
        v = getattr(row, name, default)
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return default
    return v


class ItemTable:
    """A catalog as arrays, for vectorised lookups by item code and date."""

    def __init__(self, frame: pd.DataFrame):
        need = {"item_code", "item_class"}
        missing = need - set(frame.columns)
        if missing:
            raise ValidationError(", ".join(sorted(missing)), "missing catalog column(s)", "catalog")
        f = frame.copy()
        for col, default in (("preselfpay_ppm", 0), ("price_cap_fen", -1)):
            f[col] = f[col].fillna(default).astype("int64") if col in f else default
        for col in ("begin_date", "end_date"):
            f[col] = pd.to_datetime(f[col]) if col in f else pd.NaT
        f = f.sort_values(["item_code", "begin_date"], kind="stable", na_position="first").reset_index(drop=True)
        self.frame = f
        self.unique = not f["item_code"].duplicated().any()
        self.index = pd.Index(f["item_code"].drop_duplicates(keep="first"))

    @classmethod
    def of(cls, catalog: Any) -> "ItemTable | None":
        if catalog is None or isinstance(catalog, ItemTable):
            return catalog
        if isinstance(catalog, pd.DataFrame):
            return cls(catalog)
        for attr in ("to_frame", "frame", "df"):
            obj = getattr(catalog, attr, None)
            obj = obj() if callable(obj) else obj
            if isinstance(obj, pd.DataFrame):
                return cls(obj)
        return None

    def rows(self, codes: pd.Series, dates: pd.Series) -> np.ndarray:
        """Row index in ``frame`` of each (code, date), −1 when not in the catalog on that date."""
        codes = pd.Series(codes).astype("string").reset_index(drop=True)
        dates = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
        if self.unique:
            pos = self.index.get_indexer(codes.fillna(""))
            pos = np.where(pos >= 0, pos, -1)
        else:
            left = pd.DataFrame({"item_code": codes.fillna(""), "d": dates, "i": np.arange(len(codes))}).sort_values("d")
            right = self.frame[["item_code", "begin_date"]].assign(row=np.arange(len(self.frame)))
            right = right.assign(begin_date=right["begin_date"].fillna(pd.Timestamp("1900-01-01"))).sort_values("begin_date")
            m = pd.merge_asof(left, right, left_on="d", right_on="begin_date", by="item_code", direction="backward")
            pos = np.full(len(codes), -1, dtype=np.int64)
            pos[m["i"].to_numpy()] = m["row"].fillna(-1).to_numpy(dtype=np.int64)
        valid = pos >= 0
        f = self.frame
        safe = np.where(valid, pos, 0)
        begin = f["begin_date"].to_numpy()[safe]
        end = f["end_date"].to_numpy()[safe]
        d = dates.to_numpy()
        valid &= ~((~pd.isna(begin)) & (d < begin)) & ~((~pd.isna(end)) & (d > end))
        return np.where(valid, pos, -1)

    def line_inputs(self, rows: np.ndarray, default_preselfpay_ppm: int) -> dict[str, np.ndarray]:
        f = self.frame
        found = rows >= 0
        safe = np.where(found, rows, 0)
        cls = f["item_class"].map(CLASS_CODES).fillna(CLASS_C).to_numpy(dtype=np.int64)[safe]
        ppm = f["preselfpay_ppm"].to_numpy(dtype=np.int64)[safe]
        has_ppm = f["preselfpay_ppm"].to_numpy(dtype=np.int64)[safe] > 0
        ppm = np.where((cls == CLASS_B) & ~has_ppm, default_preselfpay_ppm, np.where(cls == CLASS_A, 0, ppm))
        return {
            "item_class": np.where(found, cls, CLASS_C),
            "preselfpay_ppm": np.where(found, ppm, 0),
            "price_cap": np.where(found, f["price_cap_fen"].to_numpy(dtype=np.int64)[safe], -1),
        }

    def violations(self, rows: np.ndarray, sex, age, inpatient, level, diagnoses) -> np.ndarray:
        """Restricted items used outside their conditions (限性别/年龄/住院/级别/限定诊断)."""
        f = self.frame
        found = rows >= 0
        safe = np.where(found, rows, 0)
        bad = np.zeros(len(rows), dtype=bool)
        if "restrict_sex" in f:
            rs = f["restrict_sex"].astype("string").fillna("").to_numpy(dtype=object)[safe]
            bad |= (rs != "") & (rs != np.asarray(sex, dtype=object))
        if "restrict_min_age" in f:
            lo = f["restrict_min_age"].fillna(-1).to_numpy(dtype=np.int64)[safe]
            bad |= (lo >= 0) & (np.asarray(age) < lo)
        if "restrict_max_age" in f:
            hi = f["restrict_max_age"].fillna(-1).to_numpy(dtype=np.int64)[safe]
            bad |= (hi >= 0) & (np.asarray(age) > hi)
        if "inpatient_only" in f:
            io = f["inpatient_only"].fillna(False).to_numpy(dtype=bool)[safe]
            bad |= io & ~np.asarray(inpatient, dtype=bool)
        if "restrict_min_level" in f:
            ml = pd.to_numeric(f["restrict_min_level"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)[safe]
            lv = pd.to_numeric(pd.Series(np.asarray(level, dtype=object)), errors="coerce").fillna(0).to_numpy(dtype=np.int64)
            bad |= lv < ml
        if "required_dx" in f:
            req = f["required_dx"].astype("string").fillna("").to_numpy(dtype=object)[safe]
            idx = np.flatnonzero(found & (req != ""))
            dx = np.asarray(diagnoses, dtype=object)
            for i in idx:  # few lines carry a 限定诊断; checked one by one
                prefixes = tuple(str(req[i]).split("|"))
                if not any(str(d).startswith(prefixes) for d in str(dx[i] or "").split("|") if d):
                    bad[i] = True
        return bad & found


def lookup_one(catalog: Any, code: str, on: dt.date) -> Any:
    """A single catalog row by code at a date, from a table or a ``get(code, on)`` object."""
    table = ItemTable.of(catalog)
    if table is not None:
        r = table.rows(pd.Series([code]), pd.Series([pd.Timestamp(on)]))[0]
        return None if r < 0 else table.frame.iloc[int(r)]
    getter = getattr(catalog, "get", None)
    if getter is None:
        raise ValidationError("catalog", f"{type(catalog).__name__} is not a catalog (no get(code, on) and no frame)")
    try:
        return getter(code, on)
    except (KeyError, LookupError):
        return None


__all__ = ["ItemTable", "lookup_one", "CLASS_CODES", "_field"]
