"""A lake year as the detector's frames: the claims treated in the region with their institution's peer
group and their stays grouped by the shipped CHS-DRG grouper, the lines, and the labels to measure
against.

Cross-region care (``out_of_region``) is left out: it is settled through national clearing and its
institutions are not this region's to supervise.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from yibao.errors import ValidationError
from yibao.lake.io import has_table, local_claims, read_table
from yibao.supervision.anomaly.features import LINE_COLUMNS
from yibao.vocab import INPATIENT_MED_TYPES

READ_COLUMNS = ["claim_id", "psn_no", "fixmedins_code", "dept", "doctor_code", "med_type", "adm_date", "dscg_date",
                "los", "diagnoses", "procedures", "dscg_way", "newborn_weight_g", "medfee_sumamt_fen"]


def _folder(folder: str | Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError("--lake", f"not a lake folder: {folder}")
    return folder


def read_claims(folder: str | Path, drg_version: str = "chs-1.1") -> pd.DataFrame:
    """The region's claims with ``peer`` (institution kind/level), ``is_stay``, the patient's
    ``household_id`` (the ring finder takes a household as one node) and, for stays, the ``drg`` and
    ``cc_level`` the grouper gives."""
    from yibao.payment.drg.batch import cases_from_claims, group_many

    folder = _folder(folder)
    claims = local_claims(folder, READ_COLUMNS)
    inst = read_table(folder, "institutions", ["fixmedins_code", "kind", "level"]).to_pandas()
    inst["peer"] = inst["kind"].astype(str) + "/" + inst["level"].astype(str)
    claims = claims.merge(inst[["fixmedins_code", "peer"]], on="fixmedins_code", how="left")
    unknown = claims["peer"].isna()
    if unknown.any():
        row = claims[unknown].iloc[0]
        raise ValidationError("fixmedins_code", f"{row['fixmedins_code']} is not in the lake's institutions",
                              f"{folder / 'claims'} claim {row['claim_id']}")
    for col in ("adm_date", "dscg_date"):
        claims[col] = pd.to_datetime(claims[col])
    claims["is_stay"] = claims["med_type"].isin(sorted(INPATIENT_MED_TYPES))
    persons = read_table(folder, "persons", ["psn_no", "sex", "birth_date", "household_id"]).to_pandas()
    claims = claims.merge(persons[["psn_no", "household_id"]], on="psn_no", how="left")
    stays = claims[claims["is_stay"]]
    groups = group_many(cases_from_claims(stays, persons), drg_version)
    groups = groups[groups["status"] == "ok"].set_index("case_id")
    claims["drg"] = claims["claim_id"].map(groups["drg"])
    claims["cc_level"] = claims["claim_id"].map(groups["cc_level"]).fillna("")
    return claims.reset_index(drop=True)


def read_lines(folder: str | Path) -> pd.DataFrame:
    """The lines with ``item_name`` from the lake's catalog, when it has one (a code of several
    catalog versions takes its first name)."""
    folder = _folder(folder)
    lines = read_table(folder, "claim_lines", list(LINE_COLUMNS)).to_pandas()
    if not has_table(folder, "catalog"):
        return lines
    names = read_table(folder, "catalog", ["item_code", "name"]).to_pandas().drop_duplicates("item_code")
    return lines.merge(names.rename(columns={"name": "item_name"}), on="item_code", how="left")


def read_hits(path: str | Path) -> pd.DataFrame:
    """The claim ids of a ``yibao supervise run --out`` file (.parquet or .csv, one row a hit)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".parquet", ".csv"):
        raise ValidationError("--hits", "not a .parquet or .csv file of rule hits", str(path))
    try:
        table = pq.read_table(path) if path.suffix.lower() == ".parquet" else pacsv.read_csv(
            path, convert_options=pacsv.ConvertOptions(column_types={"claim_id": pa.string()}))
    except (pa.ArrowInvalid, OSError) as e:
        raise ValidationError("--hits", f"cannot be read: {e}", str(path)) from None
    if "claim_id" not in table.column_names:
        raise ValidationError("claim_id", "column missing from the hits (written by yibao supervise run --out)",
                              str(path))
    return table.select(["claim_id"]).to_pandas().astype({"claim_id": str})


def entity_truth(folder: str | Path, claims: pd.DataFrame, level: str) -> tuple[pd.Series, str]:
    """Which entities at ``level`` are fraudulent, and where that came from: the lake's
    ``fraud_entities`` (any row at the level) when it has one, else entities whose share of labelled
    claims is more than twice the region's."""
    from yibao.supervision.anomaly.features import entity_of

    folder = _folder(folder)
    ids = entity_of(claims, level)
    if has_table(folder, "fraud_entities"):
        ent = read_table(folder, "fraud_entities").to_pandas()
        bad = set(ent.loc[ent["level"] == level, "entity_id"].astype(str))
        known = pd.Index(sorted(set(ids)))
        return pd.Series(known.isin(bad), index=known), "fraud_entities"
    labelled = claims["claim_id"].isin(read_table(folder, "fraud_labels", ["claim_id"]).column(0).to_pylist())
    share = labelled.groupby(ids).mean()
    return share > 2 * labelled.mean(), "share of labelled claims > 2× the region's"


def ring_truth(folder: str | Path) -> pd.Series | None:
    """Persons in a labelled ring with their ring id (``fraud_entities`` person rows labelled
    ``ring``), or None when the lake has no such labels."""
    folder = _folder(folder)
    if not has_table(folder, "fraud_entities"):
        return None
    ent = read_table(folder, "fraud_entities").to_pandas()
    ring = ent[(ent["level"] == "person") & (ent["label"] == "ring")]
    return ring.set_index("entity_id")["detail"].astype(str) if len(ring) else None


__all__ = ["entity_truth", "read_claims", "read_hits", "read_lines", "ring_truth"]
