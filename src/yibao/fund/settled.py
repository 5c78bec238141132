"""The year the fund books: what was settled, one row per claim (fen).

A lake exported from the ledger (``yibao lake export``) carries the service's own statements
(``statements.parquet``): the fund books what the service paid, not a settlement worked out again
(which could differ wherever the service's day differed from the batch's — an account balance, a
pack changed mid-year). Any other lake is settled here by the batch (:func:`yibao.settlement.settle_lake`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from yibao.errors import ValidationError
from yibao.lake.io import SERVICE_STATEMENTS, read_table, unreadable
from yibao.settlement.model import SETLINFO_FIELDS

KEYS = ("claim_id", "psn_no", "insutype", "psn_type", "med_type", "level", "dscg_date")


def settled_year(lake: str | Path, pack) -> tuple[pd.DataFrame, str]:
    """The lake's settled year and a note that says where it came from."""
    path = Path(lake) / SERVICE_STATEMENTS
    if not path.exists():
        from yibao.settlement.batch import settle_lake

        statements, _ = settle_lake(lake, pack)
        return statements, f"statements: the lake's claims settled here with pack {pack.name}"
    statements = _service_statements(path, lake)
    return statements, f"statements: the service's own, {len(statements):,} settlements ({path})"


def _service_statements(path: Path, lake: str | Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a file that is not Parquet
        raise unreadable(path, e) from e
    missing = [c for c in KEYS + SETLINFO_FIELDS if c not in frame.columns]
    if missing:
        raise ValidationError(", ".join(missing), "missing: the statements were written by an older "
                              "`yibao lake export`; export the lake again", str(path))
    frame = frame[list(KEYS + SETLINFO_FIELDS)]
    if frame["claim_id"].duplicated().any():
        raise ValidationError("claim_id", "settled twice", f"{path}: claim {frame['claim_id'][frame['claim_id'].duplicated()].iloc[0]}")
    claims = set(read_table(lake, "claims", ["claim_id"]).column("claim_id").to_pylist())
    for ids, where, what in ((set(frame["claim_id"]) - claims, path, "has no claim in the lake's claims"),
                             (claims - set(frame["claim_id"]), Path(lake) / "claims", f"has no statement in {path.name}")):
        if ids:
            raise ValidationError("claim_id", f"{what} ({len(ids)} in all)", f"{where}: claim {min(ids)}")
    return frame.reset_index(drop=True)


__all__ = ["settled_year"]
