"""Reading and writing the lake: each table is ``<folder>/<table>.parquet`` or, when written in
chunks, a Parquet dataset folder ``<folder>/<table>/part-00000.parquet …``."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from yibao.errors import ValidationError
from yibao.lake.schema import TABLES


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
    return ds.dataset(table_path(folder, table), format="parquet", schema=TABLES.get(table))


def read_table(folder: str | Path, table: str, columns: list[str] | None = None) -> pa.Table:
    """A lake table (or its ``columns``) in the lake schema; a file that is not Parquet, or whose
    values do not fit the schema (a date 2024-02-30, text in an amount), is refused naming it."""
    try:
        return dataset(folder, table).to_table(columns=columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError) as e:
        raise ValidationError(table, f"cannot be read as the lake's {table} table: {e}",
                              str(table_path(folder, table))) from None


def iter_batches(folder: str | Path, table: str, batch_size: int = 200_000, columns=None) -> Iterator[pa.RecordBatch]:
    yield from dataset(folder, table).to_batches(batch_size=batch_size, columns=columns)


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
