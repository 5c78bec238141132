"""Loader throughput: build a plain lake (N persons, ~10 claims and ~100 lines per person) and load it.

    python benchmarks/store_load.py [--persons 20000] [--url sqlite:///…] [--keep DIR]
    python benchmarks/store_load.py --lake DIR [--check-codes]    # load an existing lake (e.g. `yibao synth`)

Prints rows/s per table and the total time. Without ``--lake`` the lake is built here with numpy
(not the synthetic region generator) so the figure measures the loader alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from yibao.ids import make_credit_code, make_id_number
from yibao.lake import io as lake_io
from yibao.lake.schema import TABLES
from yibao.store.load import load_lake

ADMDVS = "370302"


def build_lake(folder: Path, persons: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    psn = np.array([f"P{i:08d}" for i in range(persons)])
    born = [date(1940, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 30000, persons)]
    sex = rng.choice(["1", "2"], persons)
    certno = [make_id_number(ADMDVS, b, i % 500, s) for i, (b, s) in enumerate(zip(born, sex))]
    # make_id_number repeats after 500 same-day births; keep the first of each number
    _, first = np.unique(certno, return_index=True)
    keep = np.sort(first)
    psn, born, sex, certno = psn[keep], [born[i] for i in keep], sex[keep], [certno[i] for i in keep]
    n = len(psn)

    def put(table, cols):
        lake_io.write_table(folder, table, pa.table(cols, schema=TABLES[table]))

    put("employers", {"emp_no": ["E1"], "uscc": [make_credit_code(ADMDVS, 1)], "name": ["单位"], "admdvs": [ADMDVS],
                      "industry": ["C"], "avg_wage_fen": [700_000], "headcount": [n],
                      "has_supplementary": [False]})
    put("persons", {"psn_no": psn, "certno": certno, "name": ["参保人"] * n, "sex": sex, "birth_date": born,
                    "admdvs": [ADMDVS] * n, "household_id": [f"H{i // 3}" for i in range(n)], "death_date": [None] * n})
    emp = rng.random(n) < 0.4
    put("enrollments", {
        "spell_id": [f"S{i:08d}" for i in range(n)], "psn_no": psn, "insutype": np.where(emp, "310", "390"),
        "psn_type": np.where(emp, "11", "15"), "emp_kind": np.where(emp, "employer", None),
        "emp_no": np.where(emp, "E1", None), "admdvs": [ADMDVS] * n, "start_date": [date(2020, 1, 1)] * n,
        "end_date": [None] * n, "contribution_base_fen": np.where(emp, 600_000, None), "civil_servant": [False] * n})
    put("coverage_choices", {"psn_no": psn, "year": np.full(n, 2025, np.int16),
                             "tier": np.where(emp, 0, rng.integers(1, 4, n)).astype(np.int8),
                             "supplementary": np.where(rng.random(n) < 0.2, "huiminbao", None)})
    put("account_balances", {"psn_no": psn[emp], "year": np.full(int(emp.sum()), 2025, np.int16),
                             "balance_fen": rng.integers(0, 2_000_000, int(emp.sum()))})
    inst = [f"H{ADMDVS}{i:05d}" for i in range(50)]
    put("institutions", {"fixmedins_code": inst, "name": inst, "kind": ["hospital"] * 50,
                         "level": rng.choice(["1", "2", "3"], 50), "admdvs": [ADMDVS] * 50, "beds": [100] * 50,
                         "agreement_start": [date(2020, 1, 1)] * 50, "agreement_end": [None] * 50})
    m = n * 10
    adm = np.datetime64("2025-01-01") + rng.integers(0, 360, m)
    los = rng.integers(0, 5, m)
    claim_id = np.array([f"C{i:09d}" for i in range(m)])
    per = 10  # lines per claim; a claim's total is the sum of its lines
    price = rng.integers(100, 10_000, m * per)
    qty = rng.integers(1, 5, m * per)
    put("claims", {
        "claim_id": claim_id, "psn_no": psn[rng.integers(0, n, m)],
        "fixmedins_code": np.array(inst)[rng.integers(0, 50, m)],
        "insutype": ["310"] * m, "med_type": np.where(los > 0, "21", "11"), "adm_date": adm, "dscg_date": adm + los,
        "los": los.astype(np.int16), "diagnoses": ["I10.x00|E11.900"] * m, "procedures": [None] * m,
        "dscg_way": ["1"] * m, "newborn_weight_g": [None] * m, "dept": ["内科"] * m, "doctor_code": ["D1"] * m,
        "medfee_sumamt_fen": (price * qty).reshape(m, per).sum(axis=1), "mdtrtarea_admdvs": [ADMDVS] * m,
        "insuplc_admdvs": [ADMDVS] * m, "out_of_region": np.zeros(m, bool), "filing": [None] * m,
        "chronic_disease": [None] * m})
    writer = lake_io.ChunkWriter(folder, "claim_lines")
    for lo in range(0, m, 100_000):
        ids = claim_id[lo: lo + 100_000]
        k = len(ids) * per
        p, q = price[lo * per: lo * per + k], qty[lo * per: lo * per + k]
        writer.write(pa.table({
            "claim_id": np.repeat(ids, per), "line_no": np.tile(np.arange(1, per + 1, dtype=np.int32), len(ids)),
            "item_code": ["XA01ABD075A002010100594"] * k, "kind": ["drug"] * k,
            "service_date": np.repeat(adm[lo: lo + 100_000], per), "qty": q.astype(float), "price_fen": p,
            "amount_fen": p * q}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--url", default=None, help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--keep", default=None, help="folder for the lake and database (default: a temp dir)")
    ap.add_argument("--lake", default=None, help="load this existing lake instead of building one")
    ap.add_argument("--check-codes", action="store_true", help="check ICD codes with the shipped code sets")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="yibao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    lake = Path(args.lake) if args.lake else work / "lake"
    if not args.lake:
        t0 = time.perf_counter()
        build_lake(lake, args.persons)
        print(f"lake built in {time.perf_counter() - t0:.1f}s at {lake}")
    codes = {}
    if args.check_codes:
        from yibao.catalog.codes import icd9, icd10

        codes = {"icd10": icd10().validate, "icd9": icd9().validate}
    url = args.url or f"sqlite:///{work / 'bench.db'}"
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(table, done, total):
        marks[table] = time.perf_counter()

    loaded = load_lake(lake, url, progress=progress, **codes)
    total = time.perf_counter() - start
    prev = start
    for table, rows in loaded.items():
        took = marks.get(table, prev) - prev
        prev = marks.get(table, prev)
        print(f"{table:16s} {rows:>10,d} rows {took:7.2f}s {rows / took if took else 0:>12,.0f} rows/s")
    print(f"total            {sum(loaded.values()):>10,d} rows {total:7.2f}s  ({url.split(':')[0]})")


if __name__ == "__main__":
    main()
