"""The lake from the ledger (``yibao lake export``): what the service settled, as a lake that payment,
supervision and fund run on.

The registry tables are copied as the store holds them (the store mirrors the lake schema). Each
live settlement (not reversed) becomes a claim — its id the ``setl_id``, its lines the fee lines it
paid, its dates those of the encounter (a 中途结算 ends on its newest line) — and a row of
``statements`` with the setlinfo amounts in fen; ``settle_lists`` keeps each uploaded 结算清单.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from yibao.catalog.items import Catalog
from yibao.lake import io as lake_io
from yibao.lake.schema import TABLES
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.store.models import LAKE_TABLES, metadata

REGISTRY = ("regions", "employers", "persons", "enrollments", "identities", "institutions", "catalog",
            "contributions", "coverage_choices", "account_balances")


def export_lake(engine: sa.Engine, out: str | Path) -> dict[str, int]:
    """Write the lake into ``out``; returns rows per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    with engine.connect() as conn:
        for name in REGISTRY:
            frame = pd.read_sql(sa.select(*(metadata.tables[LAKE_TABLES[name]].c[f.name] for f in TABLES[name])), conn)
            if name in ("catalog", "contributions") and frame.empty:
                # none loaded: the service settled with the shipped 医保目录, and no contribution was
                # recorded — a lake without the table uses the shipped one and the dues from the spells
                continue
            lake_io.write_table(out, name, pa.Table.from_pandas(frame, schema=TABLES[name], preserve_index=False))
            counts[name] = len(frame)
        settled = _live(conn)
        lines = _lines(conn, settled)
        claims = _claims(conn, settled, lines)
        levels = dict(conn.execute(sa.text("SELECT fixmedins_code, level FROM institutions")).all())
    for name, frame in (("claims", claims), ("claim_lines", lines.drop(columns=["setl_id"]))):
        lake_io.write_table(out, name, pa.Table.from_pandas(frame, schema=TABLES[name], preserve_index=False))
        counts[name] = len(frame)
    statements = _statements(settled, claims, levels)
    pq.write_table(pa.Table.from_pandas(statements, preserve_index=False), out / lake_io.SERVICE_STATEMENTS)
    counts["statements"] = len(settled)
    return counts


def _live(conn: sa.Connection) -> pd.DataFrame:
    rows = pd.read_sql(sa.text(
        "SELECT s.*, e.med_type, e.kind AS enc_kind, e.begntime, e.endtime, e.diagnoses, e.chronic_disease, "
        "e.insured, l.body AS settle_list FROM settlements s JOIN encounters e ON e.mdtrt_id = s.mdtrt_id "
        "LEFT JOIN settle_lists l ON l.setl_id = s.setl_id "
        "WHERE s.kind = 'settlement' AND NOT EXISTS (SELECT 1 FROM settlements r WHERE r.reverses = s.setl_id) "
        "ORDER BY s.setl_time, s.setl_id"), conn)
    return rows


def _lines(conn: sa.Connection, settled: pd.DataFrame) -> pd.DataFrame:
    lines = pd.read_sql(sa.text("SELECT setl_id, feedetl_sn, med_list_codg, fee_ocur_time, pric, cnt, amount_fen "
                                "FROM fee_lines WHERE setl_id IS NOT NULL AND status = 'active' "
                                "ORDER BY setl_id, fee_ocur_time, feedetl_sn"), conn)
    lines = lines[lines["setl_id"].isin(set(settled["setl_id"]))]
    codes = lines["med_list_codg"].astype(object).to_numpy()
    kinds = pd.Series(codes).map(_kinds(conn)).fillna("service")
    return pd.DataFrame({
        "setl_id": lines["setl_id"].to_numpy(), "claim_id": lines["setl_id"].to_numpy(),
        "line_no": lines.groupby("setl_id").cumcount().to_numpy() + 1, "item_code": codes,
        "kind": kinds.to_numpy(),
        "service_date": pd.to_datetime(lines["fee_ocur_time"]).dt.date.to_numpy(),
        "qty": lines["cnt"].astype(float).to_numpy(),
        "price_fen": np.array([int((Decimal(p) * 100).to_integral_value(ROUND_HALF_UP)) for p in lines["pric"]], dtype=np.int64),
        "amount_fen": lines["amount_fen"].astype("int64").to_numpy()})


def _kinds(conn: sa.Connection) -> dict[str, str]:
    """Item code → kind (drug / service / consumable): the store's catalog over the shipped one."""
    shipped = Catalog.shipped().frame
    kinds = dict(zip(shipped["item_code"], shipped["kind"]))
    kinds.update(dict(conn.execute(sa.text("SELECT item_code, kind FROM catalog_items")).all()))
    return kinds


def _claims(conn: sa.Connection, settled: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    inst = pd.read_sql(sa.text("SELECT fixmedins_code, admdvs FROM institutions"), conn).set_index("fixmedins_code")["admdvs"]
    last_line = lines.groupby("setl_id")["service_date"].max()
    rows = []
    for s in settled.itertuples(index=False):
        insured = json.loads(s.insured)
        adm = pd.Timestamp(s.begntime).date()
        end = pd.Timestamp(s.endtime).date() if s.endtime is not None and not pd.isna(s.endtime) and not s.mid_setl \
            else last_line.get(s.setl_id, adm)
        home, place = insured["admdvs"], inst.get(s.fixmedins_code)
        rows.append({"claim_id": s.setl_id, "psn_no": s.psn_no, "fixmedins_code": s.fixmedins_code,
                     "insutype": s.insutype, "med_type": s.med_type, "adm_date": adm, "dscg_date": end,
                     "los": (end - adm).days if s.enc_kind == "inpatient" else 0, "diagnoses": s.diagnoses,
                     "procedures": None, "dscg_way": None, "newborn_weight_g": None, "dept": None, "doctor_code": None,
                     "medfee_sumamt_fen": int(s.medfee_sumamt_fen), "mdtrtarea_admdvs": place, "insuplc_admdvs": home,
                     "out_of_region": bool(insured.get("filing")), "filing": insured.get("filing"),
                     "chronic_disease": s.chronic_disease})
    return pd.DataFrame(rows, columns=[f.name for f in TABLES["claims"]])


def _statements(settled: pd.DataFrame, claims: pd.DataFrame, levels: dict[str, str]) -> pd.DataFrame:
    """One row per live settlement: its ids, the claim's scheme, person type, med type, level and
    discharge day (as the batch's statement rows carry them) and the setlinfo amounts in fen."""
    insured = [json.loads(t) for t in settled["insured"]]
    out = pd.DataFrame({"setl_id": settled["setl_id"], "claim_id": settled["setl_id"], "mdtrt_id": settled["mdtrt_id"],
                        "psn_no": settled["psn_no"], "fixmedins_code": settled["fixmedins_code"],
                        "setl_time": settled["setl_time"], "clr_type": settled["clr_type"],
                        "insutype": settled["insutype"], "psn_type": [i["psn_type"] for i in insured],
                        "med_type": settled["med_type"], "level": settled["fixmedins_code"].map(levels),
                        "dscg_date": claims.set_index("claim_id")["dscg_date"].reindex(settled["setl_id"]).to_numpy()})
    setlinfo = [json.loads(t)["setlinfo"] for t in settled["statement"]]
    for f in SETLINFO_FIELDS:
        out[f] = [int(s[f]) for s in setlinfo]
    out["settle_list"] = settled["settle_list"]
    return out


__all__ = ["export_lake"]
