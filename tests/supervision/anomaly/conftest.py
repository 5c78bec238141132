"""Hand-built regions for the anomaly detector: institutions of one peer group treating the same case
mix at the same cost, with seeded noise, that a test then changes in one institution or doctor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao import vocab

DRGS = {"ES21": 1_000_000, "GB11": 2_000_000, "FM19": 600_000}  # mean cost in fen of each (made-up) DRG
YEAR = pd.date_range("2024-01-01", "2024-12-31", freq="D")


class Region:
    """``claims`` and ``lines`` frames in the detector's columns, built institution by institution."""

    def __init__(self, institutions: int = 12, stays: int = 60, visits: int = 80, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        claims = []
        for i in range(institutions):
            inst = f"H{i:02d}"
            claims.append(self._stays(inst, stays))
            claims.append(self._visits(inst, visits))
        self.claims = pd.concat(claims, ignore_index=True)
        self.claims["claim_id"] = [f"C{k:06d}" for k in range(len(self.claims))]
        self.lines = self.lines_of(self.claims)

    def _stays(self, inst: str, n: int) -> pd.DataFrame:
        drg = self.rng.choice(list(DRGS), n)
        cost = np.array([DRGS[d] for d in drg]) * self.rng.normal(1.0, 0.08, n)
        adm = pd.Series(self.rng.choice(YEAR, n))
        los = self.rng.integers(5, 10, n)
        return pd.DataFrame({
            "psn_no": [f"{inst}-S{k:03d}" for k in range(n)], "fixmedins_code": inst, "dept": "内科",
            "doctor_code": [f"{inst}-D{k % 3}" for k in range(n)], "med_type": vocab.MED_ORDINARY_INPATIENT,
            "adm_date": adm, "dscg_date": adm + pd.to_timedelta(los, unit="D"), "los": los.astype(float),
            "diagnoses": "I10.x00", "medfee_sumamt_fen": cost.round().astype("int64"), "is_stay": True,
            "drg": drg, "cc_level": "", "peer": "hospital/2"})

    def _visits(self, inst: str, n: int) -> pd.DataFrame:
        adm = pd.Series(self.rng.choice(YEAR, n))
        return pd.DataFrame({
            "psn_no": [f"{inst}-V{k:03d}" for k in range(n)], "fixmedins_code": inst, "dept": "内科",
            "doctor_code": [f"{inst}-D{k % 3}" for k in range(n)], "med_type": vocab.MED_OUTPATIENT,
            "adm_date": adm, "dscg_date": adm, "los": np.nan, "diagnoses": "J06.900",
            "medfee_sumamt_fen": (30_000 * self.rng.normal(1.0, 0.08, n)).round().astype("int64"),
            "is_stay": False, "drg": None, "cc_level": "", "peer": "hospital/2"})

    @staticmethod
    def lines_of(claims: pd.DataFrame, drug=0.30, consumable=0.05) -> pd.DataFrame:
        """Three lines a claim: a drug, a consumable and services, in the given shares of its cost."""
        cost = claims["medfee_sumamt_fen"].to_numpy()
        parts = []
        for item, kind, share in (("DRUG-1", "drug", drug), ("MAT-1", "consumable", consumable),
                                  ("SVC-1", "service", 1 - drug - consumable)):
            parts.append(pd.DataFrame({"claim_id": claims["claim_id"].to_numpy(), "item_code": item, "kind": kind,
                                       "amount_fen": (cost * share).round().astype("int64")}))
        return pd.concat(parts, ignore_index=True)

    def at(self, inst: str, stays_only: bool = True) -> pd.Series:
        mask = self.claims["fixmedins_code"] == inst
        return mask & self.claims["is_stay"] if stays_only else mask


@pytest.fixture
def region():
    return Region
