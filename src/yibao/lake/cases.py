"""Reading a lake year for payment: its claims (each once), the claims treated inside the pooling
region, and its inpatient stays as payment cases grouped by CHS-DRG.

Cross-region care (异地就医, ``out_of_region``) is paid through the national cross-region clearing,
not out of this region's institution budgets or its DIP fund: every payment reader here leaves it
out, and :func:`cross_region_stays` counts what was left out.
"""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from yibao.errors import ValidationError
from yibao.lake.io import has_table, table_path
from yibao.payment.backends import Backend
from yibao.payment.common import fetch
from yibao.vocab import INPATIENT_MED_TYPES

__all__ = ["lake_table", "lake_claims", "region_claims", "inpatient_claims", "cross_region_stays",
           "inpatient_cases", "main_year", "history_folders", "has_lake", "CASE_SCHEMA"]

CASE_SCHEMA = pa.schema([
    ("case_id", pa.string()), ("psn_no", pa.string()), ("fixmedins_code", pa.string()), ("diagnoses", pa.string()),
    ("procedures", pa.string()), ("cost_fen", pa.int64()), ("los", pa.int64()), ("dscg_way", pa.string()),
    ("dept", pa.string()), ("age", pa.int64()), ("drg", pa.string()), ("status", pa.string()),
    ("cc_level", pa.string()),
])


def lake_table(backend: Backend, folder: str | Path, table: str) -> ir.Table:
    """A lake table (single file or part-file folder) read lazily by ``backend``."""
    path = table_path(folder, table)
    if path.is_dir() and backend.name == "duckdb":
        return backend.read_parquet(str(path / "*.parquet"))
    return backend.read_parquet(str(path))


def lake_claims(backend: Backend, folder: str | Path) -> ir.Table:
    """The lake's claims; a claim id found twice is refused (it would be paid twice)."""
    claims = lake_table(backend, folder, "claims")
    doubled = claims.group_by("claim_id").aggregate(n=claims.count())
    rows = fetch(doubled.filter(doubled.n > 1).order_by("claim_id").limit(1)).to_pylist()
    if rows:
        raise ValidationError("claim_id", f"duplicate claim id ({rows[0]['n']} rows); each claim is paid once",
                              record=f"{table_path(folder, 'claims')} claim {rows[0]['claim_id']}")
    return claims


def region_claims(claims: ir.Table) -> ir.Table:
    """Claims treated inside the pooling region (异地就医 goes to national clearing)."""
    return claims.filter(~claims.out_of_region.fill_null(False))


def inpatient_claims(claims: ir.Table) -> ir.Table:
    return claims.filter(claims.med_type.isin(sorted(INPATIENT_MED_TYPES)))


def cross_region_stays(claims: ir.Table, year: int | None = None) -> int:
    """Inpatient stays (of one discharge year, if given) left to the national cross-region clearing."""
    stays = inpatient_claims(claims)
    stays = stays.filter(stays.out_of_region.fill_null(False))
    if year is not None:
        stays = stays.filter(stays.dscg_date.year() == year)
    return int(fetch(stays.aggregate(n=stays.count())).to_pylist()[0]["n"])


def main_year(stays: ir.Table) -> int:
    """The discharge year with most stays (a few stays of a lake year end next January)."""
    by_year = stays.group_by(y=stays.dscg_date.year()).aggregate(n=stays.count())
    rows = fetch(by_year).to_pylist()
    if not rows:
        raise ValidationError("claims", "no inpatient stays treated in the region")
    return int(max(rows, key=lambda r: (r["n"], r["y"]))["y"])


def inpatient_cases(backend: Backend, folder: str | Path, year: int | None = None) -> tuple[ir.Table, int]:
    """The region's inpatient stays of one discharge year (default :func:`main_year`) as payment
    cases grouped by CHS-DRG 1.1, with the year. Columns: :data:`CASE_SCHEMA`."""
    stays = inpatient_claims(region_claims(lake_claims(backend, folder)))
    year = main_year(stays) if year is None else year
    frame = fetch(stays.filter(stays.dscg_date.year() == year)).to_pandas()
    persons = fetch(lake_table(backend, folder, "persons").select("psn_no", "sex", "birth_date")).to_pandas()
    return backend.table(_grouped_cases(frame, persons)), year


def _grouped_cases(frame: pd.DataFrame, persons: pd.DataFrame) -> pa.Table:
    from yibao.payment.drg import group_many
    from yibao.payment.drg.batch import cases_from_claims

    grouper_in = cases_from_claims(frame, persons)
    out = pd.DataFrame({
        "case_id": frame["claim_id"].astype(str),
        "psn_no": frame["psn_no"].astype(str),
        "fixmedins_code": frame["fixmedins_code"].astype(str),
        "diagnoses": frame["diagnoses"].fillna("").astype(str),
        "procedures": frame["procedures"].fillna("").astype(str),
        "cost_fen": frame["medfee_sumamt_fen"].astype("int64"),
        "los": frame["los"].fillna(0).astype("int64"),
        "dscg_way": frame["dscg_way"].fillna("").astype(str),
        "dept": frame["dept"].fillna("").astype(str),
        "age": grouper_in["age"].fillna(-1).astype("int64"),
    })
    groups = group_many(grouper_in).set_index("case_id").reindex(out["case_id"])
    for col in ("drg", "cc_level"):
        out[col] = groups[col].astype(object).where(groups[col].notna(), None).to_numpy()
    out["status"] = groups["status"].astype(str).to_numpy()
    return pa.Table.from_pandas(out[CASE_SCHEMA.names], preserve_index=False).cast(CASE_SCHEMA)


def history_folders(lake_folder: str | Path, year: int | None = None) -> list[Path]:
    """The lake's history years (``<lake>/history/<year>`` lake folders) before ``year`` (all of
    them without one), oldest first."""
    root = Path(lake_folder) / "history"
    if not root.is_dir():
        return []
    years = sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and has_lake(p)
                   and (year is None or int(p.name) < year))
    return [root / str(y) for y in years]


def has_lake(folder: str | Path) -> bool:
    return all(has_table(folder, t) for t in ("claims", "persons", "institutions"))
