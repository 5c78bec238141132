"""定点医药机构 of a synthetic region: hospitals by level, primary-care institutions and pharmacies,
scaled to the population with the NHC per-capita counts (CALIBRATION.md §7), plus a few hospitals
elsewhere for 异地就医."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from yibao.synth import data
from yibao.synth.config import SynthConfig
from yibao.synth.population import day
from yibao.synth.text import digits, join

# Level categories used by the utilisation mixes: hospitals "3", "2", "1", "0" and primary care.
CATS = ["3", "2", "1", "0", "primary"]
CAT_LEVEL = {"3": "3", "2": "2", "1": "1", "0": "0", "primary": "1"}


@dataclass
class Institutions:
    table: pa.Table
    code: pa.Array
    cat: np.ndarray  # index into CATS (pharmacies: -1)
    level: np.ndarray  # price level index: 0 三级, 1 二级, 2 一级 and below
    local: np.ndarray  # bool: inside the pooling region
    city: np.ndarray  # object: city admdvs of the institution (mdtrtarea)
    beds: np.ndarray
    doctors: np.ndarray
    admdvs: np.ndarray  # object: district admdvs
    pharmacy: np.ndarray  # bool

    def pool(self, cat: int, local: bool = True) -> np.ndarray:
        return np.flatnonzero((self.cat == cat) & (self.local == local) & ~self.pharmacy)


def _count(per_million: float, persons: int, minimum: int) -> int:
    return max(minimum, int(round(per_million * persons / 1e6)))


def build_institutions(cfg: SynthConfig, rng: np.random.Generator) -> Institutions:
    region = data.region(cfg.region)
    n = cfg.persons * cfg.institution_scale  # inhabitants the institutions are counted for
    per = {c: data.target(f"institutions.level{c}_per_million") for c in "3210"}
    counts = {"3": _count(per["3"], n, 1), "2": _count(per["2"], n, 1), "1": _count(per["1"], n, 1),
              "0": _count(per["0"], n, 0),
              "primary": _count(data.target("institutions.primary_per_million"), n, 2),
              "pharmacy": _count(data.target("institutions.pharmacy_per_million"), n, 2)}
    beds_mean = {"3": data.target("institutions.beds_level3"), "2": data.target("institutions.beds_level2"),
                 "1": data.target("institutions.beds_level1"), "0": data.target("institutions.beds_level0"),
                 "primary": data.target("institutions.beds_primary"), "pharmacy": 0}
    rows = []
    for kind, k in counts.items():
        for i in range(k):
            rows.append((kind, int(rng.choice(len(region.districts), p=region.district_shares)), True))
    # hospitals elsewhere for 异地就医: two 三级 and one 二级 in each listed place
    away = data.elsewhere()
    for j in range(len(away)):
        rows += [("3", j, False), ("3", j, False), ("2", j, False)]
    kinds = np.array([r[0] for r in rows])
    where = np.array([r[1] for r in rows])
    local = np.array([r[2] for r in rows])
    admdvs = np.where(local, np.array(region.districts, dtype=object)[np.where(local, where, 0)],
                      away["admdvs"].to_numpy(dtype=object)[np.where(local, 0, where)])
    city = np.where(local, region.admdvs, away["city"].to_numpy(dtype=object)[np.where(local, 0, where)])
    m = len(rows)
    pharmacy = kinds == "pharmacy"
    cat = np.array([CATS.index(k) if k in CATS else -1 for k in kinds])
    beds = np.array([int(max(5, rng.lognormal(np.log(beds_mean[k]) - 0.08, 0.4))) if k != "pharmacy" else 0
                     for k in kinds], dtype=np.int32)
    doctors = np.where(pharmacy, 1, np.maximum(3, beds // 3)).astype(np.int32)
    level = np.select([kinds == "3", kinds == "2"], [0, 1], 2)
    serial = np.arange(m) + 1
    code = join([pa.array(np.where(pharmacy, "P", "H").tolist()), pa.array(admdvs.tolist()), digits(serial, 5)])
    kind_name = np.select([pharmacy, kinds == "primary"], ["pharmacy", "primary"], "hospital")
    level_code = np.array([CAT_LEVEL.get(k, "0") for k in kinds])
    label = {"3": "人民医院", "2": "区医院", "1": "医院", "0": "诊所医院", "primary": "社区卫生服务中心", "pharmacy": "大药房"}
    place = {c: nm for c, nm in zip(region.districts, region.district_names)}
    place.update(dict(zip(away["admdvs"], away["name"])))
    names = [f"{place[a]}第{s}{label[k]}" for a, s, k in zip(admdvs, serial, kinds)]
    y = cfg.year
    start = np.array([day(dt.date(y - int(v), 1, 1)) for v in rng.integers(1, 12, m)], dtype=np.int32)
    start = start + rng.integers(0, 300, m).astype(np.int32)
    table = pa.table({
        "fixmedins_code": code, "name": pa.array(names), "kind": pa.array(kind_name.tolist()),
        "level": pa.array(np.where(pharmacy, "0", level_code).tolist()), "admdvs": pa.array(admdvs.tolist()),
        "beds": pa.array(beds), "agreement_start": pa.array(start, pa.date32()),
        "agreement_end": pa.nulls(m, pa.date32()),
    })
    return Institutions(table, code, cat, level, local, city, beds, doctors, admdvs, pharmacy)


def regions_table(cfg: SynthConfig) -> pa.Table:
    """The pooling region, its districts and the places elsewhere its people are treated in."""
    region = data.region(cfg.region)
    away = data.elsewhere()
    cities = sorted(set(away["city"]))
    rows = [(region.admdvs, region.name, region.parent, "city")]
    rows += [(c, nm, region.admdvs, "district") for c, nm in zip(region.districts, region.district_names)]
    rows += [(c, f"异地 {c}", c[:2] + "0000", "city") for c in cities]
    rows += [(a, nm, c, "district") for a, c, nm in zip(away["admdvs"], away["city"], away["name"])]
    cols = list(zip(*rows))
    return pa.table({"admdvs": pa.array(cols[0]), "name": pa.array(cols[1]), "parent_admdvs": pa.array(cols[2]),
                     "level": pa.array(cols[3])})


__all__ = ["CATS", "Institutions", "build_institutions", "regions_table"]
