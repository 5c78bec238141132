"""Reading and writing the lake: each table is ``<folder>/<table>.parquet`` or, when written in
chunks, a Parquet dataset folder ``<folder>/<table>/part-00000.parquet …``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from yibao.errors import ValidationError
from yibao.lake.schema import TABLES

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow.dataset as ds


# What Arrow raises for a file that is no Parquet, is truncated, or holds a column of another type.
SERVICE_STATEMENTS = "statements.parquet"  # a lake exported from the ledger: what the service settled
UNREADABLE = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError)


def table_path(folder: str | Path, table: str) -> Path:
    """The file or dataset folder holding ``table``; raises when neither exists."""
    folder = Path(folder)
    for p in (folder / f"{table}.parquet", folder / table):
        if p.exists():
            return p
    raise ValidationError(table, f"no {table}.parquet or {table}/ in {folder}", record=str(folder))


def has_table(folder: str | Path, table: str) -> bool:
    folder = Path(folder)
    return (folder / f"{table}.parquet").exists() or (folder / table).is_dir()


def dataset(folder: str | Path, table: str) -> ds.Dataset:
    import pyarrow.dataset as ds  # when first read: it brings pandas, which a part's own reader does not need

    return ds.dataset(table_path(folder, table), format="parquet", schema=TABLES.get(table))


def read_table(folder: str | Path, table: str, columns: list[str] | None = None) -> pa.Table:
    """A lake table (or its ``columns``) in the lake schema; a file that is not Parquet, or whose
    values do not fit the schema (a date 2024-02-30, text in an amount), is refused naming it."""
    try:
        return dataset(folder, table).to_table(columns=columns)
    except UNREADABLE as e:
        raise ValidationError(table, f"cannot be read as the lake's {table} table: {e}",
                              str(table_path(folder, table))) from None


def local_claims(folder: str | Path, columns: list[str]) -> "pd.DataFrame":
    """The lake's claims treated in the pooling region, at its own 定点医药机构: 异地就医 claims are
    reviewed where they were treated and cleared nationally, so supervision leaves them out."""
    claims = read_table(folder, "claims", [*columns, "out_of_region"]).to_pandas()
    return claims[~claims.pop("out_of_region").fillna(False).astype(bool)]


def iter_batches(folder: str | Path, table: str, batch_size: int = 200_000, columns=None) -> Iterator[pa.RecordBatch]:
    try:
        yield from dataset(folder, table).to_batches(batch_size=batch_size, columns=columns)
    except UNREADABLE as e:
        raise unreadable(failing_file(folder, table), e) from None


def unreadable(path: str | Path, error: BaseException) -> ValidationError:
    """The error for a lake file that cannot be read as Parquet in its table's schema."""
    problem = " ".join(str(error).split())
    return ValidationError("file", f"cannot be read as Parquet in the lake schema: {problem}", record=str(path))


def failing_file(folder: str | Path, table: str) -> Path:
    """The first file of ``table`` whose Parquet footer cannot be read (else the table's path)."""
    for frag in dataset(folder, table).get_fragments():
        try:
            frag.physical_schema
        except UNREADABLE:
            return Path(frag.path)
    return table_path(folder, table)


class ChunkWriter:
    """Appends chunks of one table as numbered part files of a dataset folder (streaming writes)."""

    def __init__(self, folder: str | Path, table: str):
        self.dir = Path(folder) / table
        self.dir.mkdir(parents=True, exist_ok=True)
        self.schema = TABLES[table]
        self.parts = 0
        self.rows = 0

    def write(self, chunk: pa.Table) -> None:
        chunk = chunk.select(self.schema.names).cast(self.schema)
        pq.write_table(chunk, self.dir / f"part-{self.parts:05d}.parquet", compression="zstd")
        self.parts += 1
        self.rows += chunk.num_rows


def write_table(folder: str | Path, table: str, data: pa.Table) -> Path:
    """Write a whole (small) table as ``<folder>/<table>.parquet`` in the lake schema."""
    schema = TABLES[table]
    path = Path(folder) / f"{table}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data.select(schema.names).cast(schema), path, compression="zstd")
    return path


# ---------------------------------------------------------------- rows a command writes with --out

OUT_SUFFIXES = (".parquet", ".csv")


def check_out(out: str | Path, option: str = "--out") -> Path:
    """Refuse, before any work is done, an output path no writer serves: a suffix other than
    .parquet / .csv (a Parquet file named x.txt misleads whoever opens it) or an existing folder."""
    out = Path(out)
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise ValidationError(option, f"{out.suffix or 'no suffix'}: use a .parquet or .csv file", record=str(out))
    if out.is_dir():
        raise ValidationError(option, "is a folder: give a .parquet or .csv file", record=str(out))
    return out


def write_rows(rows: "pd.DataFrame | pa.Table", out: str | Path, option: str = "--out") -> Path:
    """Write ``rows`` to ``out`` as Parquet or CSV by its suffix, creating its folder; a path that cannot
    be written is a ``ValidationError`` naming it."""
    out = check_out(out, option)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            (rows.to_pandas() if isinstance(rows, pa.Table) else rows).to_csv(out, index=False)
        else:
            table = rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
            pq.write_table(table, out)
    except OSError as e:
        raise ValidationError(option, f"cannot be written: {e.strerror or e}", record=str(out)) from None
    return out
