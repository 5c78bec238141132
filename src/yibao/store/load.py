"""Loading a lake (Parquet, `yibao.lake.schema`) into the operational store, all or nothing.

Each table is read file by file in record batches, validated column-wise (`yibao.store.validate`),
checked against the keys already loaded (foreign keys) and the money already in the store (no
column's total beyond int64; a claim's total is the sum of its lines), and written in bulk:
``executemany`` of one prepared INSERT on SQLite, ``COPY … FROM STDIN`` on PostgreSQL, Core
``insert()`` elsewhere. The
whole load is one transaction, so a bad record anywhere leaves the database as it was; the error
names the file, the row (1-based, within that file) and the field.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import sqlalchemy as sa

from yibao.errors import ValidationError
from yibao.lake import io as lake_io
from yibao.lake.schema import TABLES
from yibao.store import validate
from yibao.store.db import connect, upgrade
from yibao.store.models import LAKE_TABLES, metadata

Progress = Callable[[str, int, int], None]

# Parents first, so foreign keys can be checked against what is already loaded.
ORDER = ["regions", "employers", "persons", "enrollments", "identities", "institutions", "catalog",
         "contributions", "coverage_choices", "account_balances", "claims", "claim_lines", "fraud_labels"]
# child column → (parent lake table, parent key column)
REFERENCES = {
    "enrollments": {"psn_no": ("persons", "psn_no"), "emp_no": ("employers", "emp_no")},
    "identities": {"psn_no": ("persons", "psn_no")},
    "contributions": {"psn_no": ("persons", "psn_no")},
    "coverage_choices": {"psn_no": ("persons", "psn_no")},
    "account_balances": {"psn_no": ("persons", "psn_no")},
    "claims": {"psn_no": ("persons", "psn_no"), "fixmedins_code": ("institutions", "fixmedins_code")},
    "claim_lines": {"claim_id": ("claims", "claim_id")},
    "fraud_labels": {"claim_id": ("claims", "claim_id")},
}
KEYED = {"employers": "emp_no", "persons": "psn_no", "institutions": "fixmedins_code", "claims": "claim_id"}
# Columns added to a table after lakes were first written: a file without them loads them as null.
ADDED_COLUMNS = {"employers": ("has_supplementary",)}
# The lake may hold a person enrolled in two regions at once (a finding for the registry's duplicate
# finder, not a load error); overlaps within one region and scheme are refused.
OVERLAP_BY = ("psn_no", "insutype", "admdvs")
# The largest total a money column may reach in the store: every SUM over it (totals, summaries) must
# fit the int64 fen the engines and SQLite's integers use.
SUM_LIMIT = int(np.iinfo(np.int64).max)


def load_lake(folder: str | Path, url: str | None = None, progress: Progress | None = None, *,
              icd10: validate.CodeValidator | None = None, icd9: validate.CodeValidator | None = None,
              batch_size: int = 100_000, migrate: bool = True) -> dict[str, int]:
    """Load every lake table found in ``folder`` into the store at ``url``; return rows loaded per table.

    ``progress(table, rows_done, rows_total)`` is called after each batch. ``icd10`` / ``icd9`` are
    optional code validators for claim diagnoses and procedures. The database is migrated to the
    latest schema first unless ``migrate`` is False.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError("folder", "is not a directory", record=str(folder))
    tables = [t for t in ORDER if lake_io.has_table(folder, t)]
    if not tables:
        raise ValidationError("folder", "holds no lake table (persons.parquet, claims/ …)", record=str(folder))
    if migrate:
        upgrade(url)
    with connect(url) as conn:
        loader = _Loader(conn, folder, progress, icd10, icd9, batch_size)
        return {t: loader.load(t) for t in tables}


class _Loader:
    def __init__(self, conn: sa.Connection, folder: Path, progress, icd10, icd9, batch_size: int):
        self.conn, self.folder, self.progress = conn, folder, progress
        self.icd10, self.icd9, self.batch_size = icd10, icd9, batch_size
        self.keys: dict[str, list[pa.Array]] = {p: [self._db_keys(p)] for p in KEYED}
        self.indexes: dict[str, tuple[int, pd.Index]] = {}
        self.writer = _writer(conn)
        self.totals: dict[tuple[str, str], int] = {}  # (table, *_fen column) → exact sum, store and lake
        self.claim_sums = _ClaimSums()

    # ------------------------------------------------------------ one table
    def load(self, table: str) -> int:
        dataset = lake_io.dataset(self.folder, table)
        fragments = list(dataset.get_fragments())
        for frag in fragments:  # opens each file's footer: a corrupt file is named before any row is read
            self._check_columns(table, frag, Path(frag.path))
        total = sum(frag.count_rows() for frag in fragments)
        if table == "enrollments":
            self._check_overlaps(dataset, fragments)
        done = 0
        with self._foreign_keys_checked_at_end(table):
            for frag in fragments:
                done = self._load_file(table, dataset, frag, done, total)
        if table == "claim_lines":
            self.claim_sums.check()
        return done

    def _load_file(self, table: str, dataset: ds.Dataset, frag: ds.Fragment, done: int, total: int) -> int:
        path = Path(frag.path)
        row = 0
        for batch in self._batches(frag, dataset.schema):
            t = validate.check_table(table, batch, where=str(path), first_row=row + 1,
                                     icd10=self.icd10, icd9=self.icd9)
            self._check_references(table, t, path, row)
            self._check_totals(table, t, path, row)
            self._write(table, t, path, row)
            self.claim_sums.add(table, t, path, row)
            if table in KEYED:
                self.keys[table].append(t.column(KEYED[table]).combine_chunks())
            row += t.num_rows
            done += t.num_rows
            if self.progress:
                self.progress(table, done, total)
        return done

    @contextmanager
    def _foreign_keys_checked_at_end(self, table: str):
        """On PostgreSQL, check a table's foreign keys once after its bulk load instead of per row.

        Row-by-row foreign-key triggers halve COPY throughput; dropping the constraints and adding
        them back inside the load's transaction validates every row in one join, and a failure
        rolls the whole load back like any other. (The loader has already checked the keys.)
        """
        fks = sorted(metadata.tables[LAKE_TABLES[table]].foreign_key_constraints, key=lambda c: c.name)
        if self.conn.dialect.name != "postgresql" or not fks:
            yield
            return
        for fk in fks:
            self.conn.execute(sa.schema.DropConstraint(fk))
        yield
        for fk in fks:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(sa.schema.AddConstraint(fk))
            except sa.exc.DBAPIError as e:
                raise ValidationError(fk.column_keys[0], f"the database refused the foreign key: {e.orig}",
                                      record=table) from None

    def _batches(self, frag: ds.Fragment, schema: pa.Schema, columns: list[str] | None = None):
        try:
            yield from frag.to_batches(schema=schema, columns=columns, batch_size=self.batch_size)
        except lake_io.UNREADABLE as e:
            raise lake_io.unreadable(frag.path, e) from None

    @staticmethod
    def _check_columns(table: str, frag: ds.Fragment, path: Path) -> None:
        try:
            have = set(frag.physical_schema.names)
        except lake_io.UNREADABLE as e:
            raise lake_io.unreadable(path, e) from None
        missing = [c for c in TABLES[table].names if c not in have and c not in ADDED_COLUMNS.get(table, ())]
        if missing:
            raise ValidationError(missing[0], f"column missing from the {table} file", record=str(path))

    # ------------------------------------------------------------ cross-record checks
    def _parent_index(self, parent: str) -> pd.Index:
        """A hash index of the parent's keys, rebuilt only when keys were added since the last use."""
        chunks = self.keys[parent]
        if len(chunks) != 1:
            chunks[:] = [pa.concat_arrays(chunks)]
        n, index = self.indexes.get(parent, (-1, None))
        if n != len(chunks[0]):
            index = pd.Index(chunks[0].to_numpy(zero_copy_only=False), dtype=object)
            self.indexes[parent] = (len(chunks[0]), index)
        return index

    def _db_keys(self, parent: str) -> pa.Array:
        """Keys already in the database before this load (none in a fresh store)."""
        table = metadata.tables[LAKE_TABLES[parent]]
        return pa.array(self.conn.execute(sa.select(table.c[KEYED[parent]])).scalars().all(), pa.string())

    def _check_references(self, table: str, t: pa.Table, path: Path, row0: int) -> None:
        for column, (parent, key) in REFERENCES.get(table, {}).items():
            col = t.column(column)
            values = col.to_numpy(zero_copy_only=False)
            bad_np = (self._parent_index(parent).get_indexer(values) < 0) & pd.notna(values)
            if bad_np.any():
                r = int(np.argmax(bad_np))
                raise ValidationError(column, f"{col[r].as_py()!r} is not a {key} in {parent}",
                                      record=validate.row_label(t, table, str(path), row0 + r + 1, r))

    def _check_totals(self, table: str, t: pa.Table, path: Path, row0: int) -> None:
        """Refuse the batch that would take a money column's total in the store beyond ``SUM_LIMIT``.

        Each value is within ``validate.MAX_AMOUNT_FEN``, so a batch's own sum cannot wrap int64; the
        running total is a Python int, exact at any size.
        """
        for column in (c for c in t.column_names if c.endswith("_fen")):
            key = (table, column)
            if key not in self.totals:
                stored = metadata.tables[LAKE_TABLES[table]].c[column]
                self.totals[key] = int(self.conn.execute(sa.select(sa.func.sum(stored))).scalar() or 0)
            self.totals[key] += int(pc.sum(t.column(column)).as_py() or 0)
            if abs(self.totals[key]) > SUM_LIMIT:
                raise ValidationError(column, f"the total over {table} would reach {self.totals[key]:,} fen, beyond "
                                      f"the {SUM_LIMIT:,} fen an int64 sum can hold",
                                      record=f"{path} rows {row0 + 1}–{row0 + t.num_rows}")

    def _check_overlaps(self, dataset: ds.Dataset, fragments: list[ds.Fragment]) -> None:
        cols = ["spell_id", *OVERLAP_BY, "start_date", "end_date"]
        parts, origin = [], []
        for frag in fragments:
            t = pa.Table.from_batches(list(self._batches(frag, dataset.schema, cols)),
                                      schema=pa.schema([dataset.schema.field(c) for c in cols]))
            parts.append(t)
            origin += [(frag.path, t.num_rows)]
        spells = pa.concat_tables(parts) if parts else None
        if spells is None or spells.num_rows < 2:
            return
        starts = np.cumsum([0] + [n for _, n in origin])

        def label(i: int) -> str:
            f = int(np.searchsorted(starts, i, side="right") - 1)
            return f"{origin[f][0]} row {i - starts[f] + 1} (spell_id={spells.column('spell_id')[i].as_py()})"

        validate.check_overlaps(spells, by=OVERLAP_BY, label=label)

    # ------------------------------------------------------------ writing
    def _write(self, table: str, t: pa.Table, path: Path, row0: int) -> None:
        if t.num_rows == 0:
            return
        db_table = metadata.tables[LAKE_TABLES[table]]
        try:
            self.writer(db_table, t)
        except (sa.exc.DBAPIError, *_dbapi_errors(self.conn)) as e:
            orig = getattr(e, "orig", e)
            raise ValidationError(
                ",".join(validate.KEYS[table]), f"the database refused these rows: {str(orig).strip().splitlines()[0]}",
                record=f"{path} rows {row0 + 1}–{row0 + t.num_rows}") from None


class _ClaimSums:
    """Each claim's medfee_sumamt_fen (医疗费总额) against the sum of its lines' amount_fen, for the
    claims of this load that have lines (a claims-only lake, e.g. history years, has none to check)."""

    def __init__(self) -> None:
        self.claims: list[pd.DataFrame] = []
        self.lines: list[pd.Series] = []

    def add(self, table: str, t: pa.Table, path: Path, row0: int) -> None:
        if table == "claims":
            self.claims.append(pd.DataFrame({
                "claim_id": t.column("claim_id").to_numpy(zero_copy_only=False),
                "medfee": t.column("medfee_sumamt_fen").to_numpy(), "file": str(path),
                "row": np.arange(row0 + 1, row0 + 1 + t.num_rows)}))
        elif table == "claim_lines" and self.claims:
            lines = pd.DataFrame({"claim_id": t.column("claim_id").to_numpy(zero_copy_only=False),
                                  "amount": t.column("amount_fen").to_numpy()})
            self.lines.append(lines.groupby("claim_id", sort=False)["amount"].sum())

    def check(self) -> None:
        if not self.claims or not self.lines:
            return
        claims = pd.concat(self.claims, ignore_index=True)
        sums = pd.concat(self.lines).groupby(level=0, sort=False).sum()
        claims["lines"] = claims["claim_id"].map(sums)
        off = claims[claims["lines"].notna() & (claims["lines"] != claims["medfee"])]
        if len(off):
            c = off.iloc[0]
            raise ValidationError("medfee_sumamt_fen", f"{c.medfee} is not the sum of the claim's lines' amount_fen, "
                                  f"{int(c.lines)}", record=f"{c.file} row {c.row} (claim_id={c.claim_id})")


def _dbapi_errors(conn: sa.Connection) -> tuple[type[BaseException], ...]:
    dbapi = getattr(conn.dialect, "dbapi", None) or getattr(conn.dialect, "loaded_dbapi", None)
    error = getattr(dbapi, "Error", None)
    return (error,) if isinstance(error, type) else ()


def _writer(conn: sa.Connection) -> Callable[[sa.Table, pa.Table], None]:
    name = conn.dialect.name
    if name == "sqlite":
        return lambda table, t: _insert_sqlite(conn, table, t)
    if name == "postgresql" and conn.dialect.driver == "psycopg":
        return lambda table, t: _copy_postgresql(conn, table, t)
    return lambda table, t: conn.execute(sa.insert(table), t.to_pylist())


def _insert_sqlite(conn: sa.Connection, table: sa.Table, t: pa.Table) -> None:
    """One prepared INSERT run over all rows; dates go in as the ISO text SQLAlchemy stores on SQLite."""
    columns = []
    for name in t.column_names:
        col = t.column(name)
        if pa.types.is_date(col.type):
            col = pc.strftime(pc.cast(col, pa.timestamp("s")), format="%Y-%m-%d")
        if col.null_count == 0 and (pa.types.is_integer(col.type) or pa.types.is_boolean(col.type)):
            columns.append(col.to_numpy().tolist())  # faster than to_pylist for plain numbers
        else:
            columns.append(col.to_pylist())
    names = ", ".join(f'"{n}"' for n in t.column_names)
    marks = ", ".join("?" for _ in t.column_names)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', list(zip(*columns)))


def _copy_postgresql(conn: sa.Connection, table: sa.Table, t: pa.Table) -> None:
    """COPY FROM STDIN in CSV: strings are always quoted, so an unquoted empty field is NULL."""
    buf = io.BytesIO()
    pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    names = ", ".join(f'"{n}"' for n in t.column_names)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT csv)') as copy:
        copy.write(buf.getvalue())
