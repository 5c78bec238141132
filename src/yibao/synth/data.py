"""The generator's curated data: calibration targets, clinical profiles, regions and names.

Every table lives in ``synth/data/`` as CSV or YAML; each row cites its source or says it is an
assumption. Loaders check the shape and fail with the file and line of a bad row.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from yibao.errors import ValidationError

DATA = Path(__file__).parent / "data"

# The age shapes a profile can take: relative weight by single year of age 0–100 (assumption).
_AGES = np.arange(101)


def age_shape(name: str) -> np.ndarray:
    """Relative frequency of a profile by age (0–100), used for conditions and visit mixes."""
    a = _AGES.astype(float)
    shapes = {
        "any": np.ones_like(a),
        "elderly": np.exp(0.045 * np.minimum(a, 90)),
        "adult": np.where((a >= 18) & (a < 70), 1.0, 0.35),
        "young": np.where((a >= 5) & (a < 40), 1.0, 0.3),
        "child": np.where(a < 15, 1.0, 0.08),
        "infant": np.where(a < 3, 1.0, 0.15),
        "ushape": np.where(a < 6, 2.0, 0.0) + np.exp(0.04 * np.minimum(a, 90)) * 0.6,
        "fertile": np.exp(-0.5 * ((a - 29) / 6.0) ** 2),
        "newborn": np.where(a == 0, 1.0, 0.0),
    }
    if name not in shapes:
        raise ValidationError("age_shape", f"unknown age shape {name!r}; expected one of {sorted(shapes)}")
    return shapes[name]


def _read_csv(name: str, required: list[str]) -> pd.DataFrame:
    path = DATA / name
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationError("header", f"missing columns {missing}", record=f"{path}")
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValidationError("row", f"{len(row)} fields, header has {len(header)}", record=f"{path} line {i}")
    return pd.DataFrame(rows[1:], columns=header)


def _numbers(df: pd.DataFrame, name: str, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        try:
            df[c] = pd.to_numeric(df[c].replace("", "0"))
        except ValueError as e:
            raise ValidationError(c, f"not a number ({e})", record=f"{DATA / name}") from None
    return df


@functools.cache
def conditions() -> pd.DataFrame:
    """Inpatient clinical profiles (``conditions.csv``): one row per principal diagnosis. ``secondary``
    lists diagnoses always coded with it (the other injuries of a multiple trauma); ``tail`` a Pareto
    shape for the stay's cost (the long tail; empty = lognormal); ``courses`` the mean number of
    repeat stays in the year (chemotherapy cycles)."""
    cols = ["key", "icd10", "name", "dept", "setting", "procedures", "proc_share", "proc_cost", "los", "cost_rel",
            "sex", "min_age", "max_age", "age_shape", "weight", "day_surgery", "comorbid", "drugs", "services",
            "consumables", "upcode_to", "secondary", "tail", "courses", "source"]
    df = _read_csv("conditions.csv", cols)
    df = _numbers(df, "conditions.csv", ["proc_share", "proc_cost", "los", "cost_rel", "min_age", "max_age",
                                         "weight", "day_surgery", "tail", "courses"])
    bad = df[(df["tail"] != 0) & (df["tail"] <= 1)]
    if len(bad):
        raise ValidationError("tail", f"{bad['tail'].iloc[0]!r} for {bad['key'].iloc[0]!r}: a Pareto shape above 1 "
                              "(a finite mean) or empty", record=str(DATA / "conditions.csv"))
    bad = set(df["upcode_to"]) - set(df["key"]) - {""}
    if bad:
        raise ValidationError("upcode_to", f"unknown condition keys {sorted(bad)}", record=str(DATA / "conditions.csv"))
    return df


@functools.cache
def chronic_diseases() -> pd.DataFrame:
    """门诊慢特病 (chronic and special outpatient diseases, ``chronic.csv``)."""
    cols = ["key", "icd10", "name", "chronic_code", "age_shape", "min_age", "prevalence", "visits", "cost_rel",
            "two_diseases", "drugs", "services", "source"]
    df = _read_csv("chronic.csv", cols)
    return _numbers(df, "chronic.csv", ["min_age", "prevalence", "visits", "cost_rel", "two_diseases"])


@functools.cache
def outpatient_mix() -> pd.DataFrame:
    """The diagnoses of ordinary outpatient visits and pharmacy purchases (``outpatient.csv``)."""
    cols = ["key", "icd10", "name", "dept", "age_shape", "sex", "min_age", "max_age", "weight", "cost_rel",
            "drugs", "services", "source"]
    df = _read_csv("outpatient.csv", cols)
    return _numbers(df, "outpatient.csv", ["min_age", "max_age", "weight", "cost_rel"])


def _yaml(name: str):
    with open(DATA / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


@functools.cache
def calibration() -> dict:
    """Calibration targets: ``{section: {name: {value, ref}}}`` from ``calibration.yaml``."""
    data = _yaml("calibration.yaml")
    for section, items in data.items():
        for key, item in items.items():
            if not isinstance(item, dict) or "value" not in item or "ref" not in item:
                raise ValidationError(f"{section}.{key}", "needs a value and a ref", record=str(DATA / "calibration.yaml"))
    return data


def target(path: str):
    """One calibration value by dotted path, e.g. ``target("cost.inpatient_cost_resident")``."""
    section, key = path.split(".")
    return calibration()[section][key]["value"]


def cite(path: str) -> str:
    section, key = path.split(".")
    return calibration()[section][key]["ref"]


@functools.cache
def drug_groups() -> dict[str, list[str]]:
    return _yaml("drugs.yaml")


@functools.cache
def names() -> dict:
    return _yaml("names.yaml")


@dataclass(frozen=True)
class Region:
    key: str
    admdvs: str
    name: str
    parent: str
    districts: tuple[str, ...]
    district_names: tuple[str, ...]
    district_shares: np.ndarray


@functools.cache
def region(key: str) -> Region:
    data = _yaml("regions.yaml")
    if key not in data or key == "elsewhere":
        raise ValidationError("region", f"unknown region {key!r}; known: {sorted(k for k in data if k != 'elsewhere')}")
    r = data[key]
    codes = tuple(r["districts"])
    shares = np.array([r["districts"][c][1] for c in codes], dtype=float)
    return Region(key, r["admdvs"], r["name"], r["parent"], codes, tuple(r["districts"][c][0] for c in codes),
                  shares / shares.sum())


@functools.cache
def elsewhere() -> pd.DataFrame:
    """Places outside the region where its people are treated (异地就医)."""
    rows = _yaml("regions.yaml")["elsewhere"]
    df = pd.DataFrame(rows, columns=["admdvs", "city", "name", "weight"])
    df["weight"] = df["weight"] / df["weight"].sum()
    return df
