"""The year the fund books: what was settled, one row per claim (fen).

A lake exported from the ledger (``yibao lake export``) carries the service's own statements
(``statements.parquet``): the fund books what the service paid, not a settlement worked out again
(which could differ wherever the service's day differed from the batch's — an account balance, a
pack changed mid-year). A year the batch already settled (``yibao settle --claims LAKE --out F.parquet``)
is booked as given when the user names it, so that the fund's commands on a province's lake do not each
settle it again; the file records its pack and is refused under another. Any other lake is settled here
by the batch (:func:`yibao.settlement.settle_lake`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from yibao.errors import ValidationError
from yibao.lake.io import SERVICE_STATEMENTS, read_table, unreadable
from yibao.settlement.model import SETLINFO_FIELDS

KEYS = ("claim_id", "psn_no", "insutype", "psn_type", "med_type", "level", "dscg_date")


def settled_year(lake: str | Path, pack, given: str | Path | None = None) -> tuple[pd.DataFrame, str]:
    """The lake's settled year and a note that says where it came from: the ``given`` statements file
    (as ``yibao settle`` wrote it), else the service's own, else settled here."""
    if given is not None:
        statements = _batch_statements(Path(given), lake, pack)
        return statements, f"statements: {given}, as yibao settle wrote them with pack {pack.name}"
    path = Path(lake) / SERVICE_STATEMENTS
    if not path.exists():
        from yibao.settlement.batch import settle_lake

        statements, _ = settle_lake(lake, pack)
        return statements, f"statements: the lake's claims settled here with pack {pack.name}"
    statements = _service_statements(path, lake)
    return statements, f"statements: the service's own, {len(statements):,} settlements ({path})"


def _batch_statements(path: Path, lake: str | Path, pack) -> pd.DataFrame:
    """A file ``yibao settle --out F.parquet`` wrote, checked to be of this pack and this lake."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise ValidationError("--statements", "no such file", str(path))
    try:
        said = pq.read_schema(path).metadata or {}
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a file that is not Parquet
        raise unreadable(path, e) from e
    if said.get(b"yibao.statements") != b"batch":
        raise ValidationError("--statements", "not a year settled by `yibao settle --claims LAKE --out F.parquet` "
                              "(the file does not say so)", str(path))
    settled_with = said.get(b"yibao.pack", b"").decode()
    if settled_with != pack.name:
        raise ValidationError("--statements", f"settled with pack {settled_with!r}, not {pack.name!r}: settle the "
                              "lake again with this pack, or give --pack " + settled_with, str(path))
    return _checked(path, lake, "settle the lake again with `yibao settle --claims LAKE --out F.parquet`")


def _service_statements(path: Path, lake: str | Path) -> pd.DataFrame:
    return _checked(path, lake, "the statements were written by an older `yibao lake export`; export the lake again")


def _checked(path: Path, lake: str | Path, remedy: str) -> pd.DataFrame:
    """A statements file checked one to one with the lake's claims (``remedy`` for a file without the
    columns the fund books)."""
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a file that is not Parquet
        raise unreadable(path, e) from e
    missing = [c for c in KEYS + SETLINFO_FIELDS if c not in frame.columns]
    if missing:
        raise ValidationError(", ".join(missing), f"missing: {remedy}", str(path))
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
