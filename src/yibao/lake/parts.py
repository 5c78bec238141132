"""A lake's claims and lines, part by part, as Arrow tables: which files pair up, how many claims they
hold, and a reader that reads the next part while the caller works on this one. Light on purpose (no
pandas): a command starts reading before it imports the engine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from yibao.errors import ValidationError
from yibao.lake.io import UNREADABLE, has_table, table_path

CLAIM_COLUMNS = ["claim_id", "psn_no", "fixmedins_code", "insutype", "med_type", "adm_date", "dscg_date", "diagnoses",
                 "out_of_region", "filing", "chronic_disease"]
LINE_COLUMNS = ["claim_id", "item_code", "qty", "amount_fen"]
# text of few distinct values, read as the files' own dictionary pages: codes without hashing the text again
CODED_CLAIM_COLUMNS = ("fixmedins_code", "insutype", "med_type", "diagnoses", "filing", "chronic_disease")
CODED_LINE_COLUMNS = ("item_code",)
Tables = tuple[pa.Table, "pa.Table | None"]


def parts(folder: str | Path) -> list[tuple[Path, Path | None]]:
    """The lake's paired (claims part, lines part) files; one pair when a table is a single file."""
    claims, lines = table_path(folder, "claims"), table_path(folder, "claim_lines") if has_table(folder, "claim_lines") else None
    if claims.is_file() or lines is None or lines.is_file():
        return [(claims, lines)]
    c, ln = sorted(claims.glob("*.parquet")), sorted(lines.glob("*.parquet"))
    if [p.name for p in c] != [p.name for p in ln]:
        return [(claims, lines)]  # not paired: the whole year at once
    return list(zip(c, ln))


def claim_count(folder: str | Path) -> int:
    """How many claims the lake holds, from its files' footers (0 when a footer cannot be read: the
    read itself then names what is wrong)."""
    return _claims_in(parts(folder))


def _claims_in(pairs: list[tuple[Path, Path | None]]) -> int:
    try:
        return sum(pq.ParquetFile(claims).metadata.num_rows for claims, _ in pairs)
    except UNREADABLE:
        return 0


def _read(path: Path, table: str, columns: list[str], coded: tuple[str, ...] = ()) -> pa.Table:
    """One part file of a lake table: its ``columns`` in the lake schema's types (one the file lacks as
    nulls, like :func:`yibao.lake.io.read_table`), the ``coded`` ones dictionary-encoded; a file
    that cannot be read so is refused."""
    from yibao.lake.schema import TABLES

    declared = {f.name: f.type for f in TABLES[table]}
    types = {c: pa.dictionary(pa.int32(), declared[c]) if c in coded else declared[c] for c in columns}
    try:
        if path.is_dir():  # a table's files that pair with no lines part: read as one dataset
            import pyarrow.dataset as ds

            form = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=list(coded)))
            schema = pa.schema([pa.field(c, t) for c, t in types.items()])
            return ds.dataset(path, format=form, schema=schema).to_table(columns=columns)
        present = set(pq.read_schema(path).names)
        f = pq.ParquetFile(path, read_dictionary=[c for c in coded if c in present])
        t = f.read(columns=[c for c in columns if c in present])
        return pa.table([_typed(t[c], types[c]) if c in present else pa.nulls(t.num_rows, types[c]) for c in columns],
                        names=columns)
    except UNREADABLE as e:
        raise ValidationError(table, f"cannot be read as the lake's {table} table: {e}", str(path)) from None


def _typed(column: pa.ChunkedArray, wanted: pa.DataType) -> pa.ChunkedArray:
    return column if column.type == wanted else column.cast(wanted)


def part_tables(claims_path: Path, lines_path: Path | None) -> Tables:
    """One part's claims and lines tables as read (Arrow reads and decodes them without the GIL)."""
    return (_read(claims_path, "claims", CLAIM_COLUMNS, CODED_CLAIM_COLUMNS),
            None if lines_path is None else _read(lines_path, "claim_lines", LINE_COLUMNS, CODED_LINE_COLUMNS))


class PartFiles:
    """A lake's part files, read as Arrow tables on a thread of their own: the first from the moment
    this is made (so that a caller can import the engine and read the person tables beside it), the
    next from when the caller calls :meth:`read_ahead` (at the latest, when it asks for that part).
    ``claims``: how many the files hold (their footers); ``prepare(claims)`` runs before the first
    read (a process-wide memory setting chosen from the lake's size)."""

    def __init__(self, folder: str | Path, prepare: Callable[[int], object] | None = None):
        self.folder, self.pairs = folder, parts(folder)
        self.claims = _claims_in(self.pairs)
        if prepare is not None:
            prepare(self.claims)
        self._reader = ThreadPoolExecutor(1)
        self._taken, self._reading = 0, {}
        self.read_ahead()

    def read_ahead(self) -> None:
        """Start reading the next part not yet taken (none left, or already being read: nothing)."""
        k = self._taken
        if k < len(self.pairs) and k not in self._reading:
            self._reading[k] = self._reader.submit(part_tables, *self.pairs[k])

    def next(self) -> tuple[tuple[Path, Path | None], Tables]:
        """The next part's files and tables, holding no reference to them (the caller lets them go)."""
        self.read_ahead()
        k, self._taken = self._taken, self._taken + 1
        try:
            return self.pairs[k], self._reading.pop(k).result()
        finally:
            if self._taken >= len(self.pairs):
                self.close()

    def __len__(self) -> int:
        return len(self.pairs)

    def close(self) -> None:
        self._reader.shutdown(cancel_futures=True)


__all__ = ["CLAIM_COLUMNS", "LINE_COLUMNS", "PartFiles", "claim_count", "part_tables", "parts"]
