"""Double enrollment (重复参保): one person covered twice at the same time, by two schemes (职工 310
and 居民 390) or in two regions (different admdvs).

A person is matched by ID number (certno) when it is known — the same person may hold a different
psn_no in each region — and by psn_no otherwise. Two spells are duplicates when they share at least
one day; spells that merely touch (one ends the day before the other starts) are not. Overlaps of
the same scheme in the same region are refused at enrollment and are not reported here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao.registry._frames import OPEN_END, as_frame, day_number, day_numbers, first_bad

SPELL_COLUMNS = ("spell_id", "psn_no", "insutype", "admdvs", "start_date", "end_date")
RESULT_COLUMNS = [
    "person_key", "psn_no_a", "spell_id_a", "insutype_a", "admdvs_a", "psn_no_b", "spell_id_b", "insutype_b",
    "admdvs_b", "overlap_start", "overlap_end", "overlap_days", "kind",
]


def _person_keys(spells: pd.DataFrame, persons: pd.DataFrame | pa.Table | None) -> np.ndarray:
    """certno where known (from the spells or the persons table), else psn_no."""
    keys = spells["psn_no"].astype(str).to_numpy(dtype=object)
    certno = spells["certno"] if "certno" in spells.columns else None
    if persons is not None:
        people = as_frame(persons, "persons", ("psn_no", "certno"))
        certno = spells["psn_no"].map(people.drop_duplicates("psn_no").set_index("psn_no")["certno"])
    if certno is not None:
        known = certno.notna().to_numpy()
        keys = np.where(known, "cert:" + certno.astype(str).str.upper().to_numpy(dtype=object), "psn:" + keys)
    return keys


def find_double_enrollment(spells: pd.DataFrame | pa.Table, persons: pd.DataFrame | pa.Table | None = None,
                           as_of: dt.date | None = None) -> pd.DataFrame:
    """Pairs of spells of one person overlapping in time across schemes or regions.

    ``spells`` has the lake ``enrollments`` columns (an optional ``certno`` column is used as the
    person key); ``persons`` (psn_no, certno) maps psn_no to certno when given. Open-ended spells run
    to ``as_of`` (default: the latest date in the data) for the overlap count. Returns one row per
    pair: the person key, both spells (psn_no, spell_id, insutype, admdvs), the overlap dates and
    days, and ``kind`` — ``scheme``, ``region`` or ``scheme+region``. Vectorised: only persons with
    two or more spells are self-joined.
    """
    df = as_frame(spells, "enrollments", SPELL_COLUMNS).reset_index(drop=True)
    start = day_numbers(df["start_date"])
    end = day_numbers(df["end_date"], open_value=OPEN_END)
    first_bad(df["start_date"].isna().to_numpy(), df["spell_id"], "start_date", "missing")
    first_bad(end < start, df["spell_id"], "end_date", "before start_date")
    horizon = day_number(as_of) if as_of is not None else int(max(start.max(initial=0),
                                                                   end[end != OPEN_END].max(initial=0)))
    end = np.where(end == OPEN_END, np.maximum(start, horizon), end)  # open spells run to the horizon
    frame = pd.DataFrame({
        "key": _person_keys(df, persons), "psn_no": df["psn_no"].to_numpy(), "spell_id": df["spell_id"].to_numpy(),
        "insutype": df["insutype"].astype(str).to_numpy(), "admdvs": df["admdvs"].astype(str).to_numpy(),
        "start": start, "end": end, "order": np.arange(len(df)),
    })
    multi = frame[frame["key"].duplicated(keep=False)]
    pairs = multi.merge(multi, on="key", suffixes=("_a", "_b"))
    pairs = pairs[pairs["order_a"] < pairs["order_b"]]
    lo = np.maximum(pairs["start_a"].to_numpy(), pairs["start_b"].to_numpy())
    hi = np.minimum(pairs["end_a"].to_numpy(), pairs["end_b"].to_numpy())
    other_scheme = (pairs["insutype_a"] != pairs["insutype_b"]).to_numpy()
    other_region = (pairs["admdvs_a"] != pairs["admdvs_b"]).to_numpy()
    hit = (hi >= lo) & (other_scheme | other_region)
    pairs, lo, hi = pairs[hit], lo[hit], hi[hit]
    kind = np.where(other_scheme[hit] & other_region[hit], "scheme+region",
                    np.where(other_scheme[hit], "scheme", "region"))
    out = pd.DataFrame({
        "person_key": pairs["key"].str.split(":", n=1).str[1].to_numpy(),
        **{f"{c}_{s}": pairs[f"{c}_{s}"].to_numpy() for s in "ab" for c in ("psn_no", "spell_id", "insutype",
                                                                             "admdvs")},
        "overlap_start": lo.astype("datetime64[D]"), "overlap_end": hi.astype("datetime64[D]"),
        "overlap_days": (hi - lo + 1).astype(np.int64), "kind": kind,
    })
    return out[RESULT_COLUMNS].sort_values(["person_key", "spell_id_a", "spell_id_b"]).reset_index(drop=True)


__all__ = ["find_double_enrollment", "RESULT_COLUMNS"]
