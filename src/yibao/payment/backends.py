"""Batch backends for the payment engines: DuckDB (embedded default) or PySpark in local mode.

The engines are Ibis expressions over tables bound to a backend; a :class:`Backend` registers input
data with its connection and executes results. Engines never pick a backend themselves.

Exact integer arithmetic: Ibis compiles ``a // b`` to ``floor(a / b)`` through a double, which can
be off by one for large operands. :func:`idiv` and :func:`round_div` divide exactly instead: the
remainder (integer ``%``) is subtracted first, so the double division is of an exact multiple and,
rounded to the nearest integer, gives the exact quotient while the quotient stays below 2**51
(≈ 2.3e15) and the operands fit in int64 (amounts here are fen or scaled points, far below that).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from yibao.errors import ValidationError
from yibao.money import Rounding

__all__ = ["Backend", "duckdb_backend", "spark_backend", "get_backend", "idiv", "round_div", "require_columns"]

_counter = itertools.count()


@contextlib.contextmanager
def _quiet(name: str):
    """Silence the known third-party warnings of a backend call, and only those: PySpark 4 warns
    that pandas 3 is not fully supported (Ibis's PySpark backend converts through pandas), and
    DuckDB 2 deprecates ``fetch_arrow_table`` which Ibis 12 still calls, and pandas 3 deprecates an
    option Ibis reads."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r".*is deprecated, use \S+ instead", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated")
        yield


@dataclass
class Backend:
    """An Ibis connection plus helpers to load inputs and fetch results."""

    name: str
    con: Any
    session: Any = None  # the SparkSession, for the PySpark backend

    def table(self, data: pa.Table | pd.DataFrame | ir.Table, name: str | None = None) -> ir.Table:
        """Register ``data`` with this backend and return it as a bound table."""
        if isinstance(data, ir.Table):
            if self.name == "duckdb" and _is_bound_to(data, self.con):
                return data
            data = data.to_pyarrow()
        if isinstance(data, pd.DataFrame):
            data = pa.Table.from_pandas(data, preserve_index=False)
        name = name or f"yibao_payment_{next(_counter)}"
        with _quiet(self.name):
            if self.name == "pyspark":
                self.session.createDataFrame(data).createOrReplaceTempView(name)
                return self.con.table(name)
            return self.con.create_table(name, data, temp=True, overwrite=True)

    def cache(self, expr: ir.Table) -> ir.Table:
        """``expr`` computed once and kept (a DuckDB temporary table, a persisted Spark frame) for the
        queries that follow."""
        with _quiet(self.name):
            return expr.cache()

    def read_parquet(self, path: str, name: str | None = None) -> ir.Table:
        """A Parquet file or dataset folder as a table (read lazily by the engine)."""
        with _quiet(self.name):
            return self.con.read_parquet(path, table_name=name or f"yibao_payment_{next(_counter)}")

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        """Run ``expr``; integer columns come back as int64 (nullable ones as pandas Int64)."""
        return self.to_arrow(expr).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        with _quiet(self.name):
            return self.con.to_pyarrow(expr)


def _is_bound_to(table: ir.Table, con: Any) -> bool:
    try:
        return ibis.get_backend(table) is con
    except Exception:  # noqa: BLE001 - unbound or multiply bound expressions are re-registered
        return False


def duckdb_backend() -> Backend:
    """An in-memory DuckDB; extension auto-install/auto-load off (the machine may be offline)."""
    con = ibis.duckdb.connect(autoinstall_known_extensions=False, autoload_known_extensions=False)
    # Ibis 12 writes list lambdas as `x -> …`, which DuckDB 2 accepts only with this setting
    # (older DuckDB releases accept the arrow anyway and may not know the setting).
    try:
        con.raw_sql("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
    except Exception:  # noqa: BLE001 - an unknown setting on an older DuckDB is harmless
        pass
    return Backend("duckdb", con)


_spark: Backend | None = None


def spark_backend(partitions: int = 2, master: str = "local[2]") -> Backend:
    """PySpark in local mode (2 cores, small shuffles, no UI); one session per process (the first
    call's ``master`` and ``partitions`` hold for the process)."""
    global _spark
    if _spark is None:
        with _quiet("pyspark"):
            _spark = _start_spark(partitions, master)
    return _spark


def _start_spark(partitions: int, master: str) -> Backend:
    import os
    import sys

    from pyspark.sql import SparkSession

    # Python workers (mapInArrow, applyInPandas) run this interpreter, the one yibao is installed in,
    # rather than whichever python3 is first on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master(master)
        .appName("yibao-payment")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return Backend("pyspark", ibis.pyspark.connect(session), session)


def get_backend(name: str = "duckdb") -> Backend:
    if name == "duckdb":
        return duckdb_backend()
    if name in ("spark", "pyspark"):
        return spark_backend()
    raise ValidationError("backend", f"unknown backend {name!r}; use duckdb or spark")


def idiv(numer: ir.IntegerValue, denom: ir.IntegerValue | int) -> ir.IntegerValue:
    """Exact floor division of non-negative integers (see the module note for the range)."""
    rem = numer % denom
    return ((numer - rem) / denom).round().cast("int64")


def round_div(numer: ir.IntegerValue, denom: ir.IntegerValue | int,
              rounding: Rounding = Rounding.HALF_UP) -> ir.IntegerValue:
    """``numer / denom`` rounded half up (or truncated), exactly, for ``numer >= 0`` and ``denom > 0``:
    :func:`yibao.money.div_round` as an expression."""
    if rounding == Rounding.TRUNCATE:
        return idiv(numer, denom)
    return idiv(numer * 2 + denom, denom * 2)


def require_columns(table: ir.Table, columns: dict[str, str], what: str) -> None:
    """Refuse a table lacking a column or carrying it with the wrong kind (``int``/``str``/``bool``)."""
    schema = table.schema()
    for col, kind in columns.items():
        if col not in schema:
            raise ValidationError(col, f"missing column (needs {', '.join(columns)})", record=what)
        dtype = schema[col]
        ok = {"int": dtype.is_integer(), "str": dtype.is_string(), "bool": dtype.is_boolean(), "any": True}[kind]
        if not ok:
            raise ValidationError(col, f"expected a {kind} column, got {dtype}", record=what)
