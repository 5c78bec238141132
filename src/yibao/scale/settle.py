"""The year's settlement on Spark: each bucket of whole households (:mod:`yibao.scale.partition`)
settled by the local engine, :func:`yibao.settlement.batch.settle_lake`, inside a Spark task
(``mapInArrow``), its statement rows handed back as Arrow batches. The same engine on the same
persons gives the same fen: persons are independent, and a household's members share a bucket.

Spark's tasks are the parallelism, so each task settles with one thread (``YIBAO_WORKERS=1``).
The workers read the bucket folders by path: in local mode the driver's disk, on a cluster a
filesystem every executor mounts at the same path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from yibao.scale.partition import Buckets

BATCH_ROWS = 65_536  # statement rows per Arrow batch handed to Spark


def statement_schema() -> pa.Schema:
    """The settlement's statement schema with plain strings (what Spark's Arrow exchange takes)."""
    from yibao.settlement.batch import STATEMENT_SCHEMA

    return pa.schema([pa.field(f.name, pa.string() if f.type == pa.large_string() else f.type)
                      for f in STATEMENT_SCHEMA])


def spark_schema(schema: pa.Schema):
    """The Spark struct type of an Arrow schema of strings, dates and int64 columns."""
    from pyspark.sql import types as T

    kinds = {pa.string(): T.StringType(), pa.date32(): T.DateType(), pa.int64(): T.LongType(),
             pa.int32(): T.IntegerType()}
    return T.StructType([T.StructField(f.name, kinds[f.type], True) for f in schema])


def bucket_frame(session, buckets: Buckets):
    """One row per bucket that holds claims, one Spark partition each (sliced, not hashed: two
    buckets hashed into one partition would settle one after the other)."""
    rows = [(k, str(folder)) for k, folder in sorted(buckets.folders.items())]
    return session.createDataFrame(session.sparkContext.parallelize(rows, max(1, len(rows))), "bucket int, folder string")


def settle_buckets(batches, pack: str):
    """mapInArrow body: settle each bucket folder named in ``batches`` and yield its statements."""
    os.environ["YIBAO_WORKERS"] = "1"
    from yibao.settlement.batch import settle_lake

    schema = statement_schema()
    for batch in batches:
        for folder in batch.column("folder").to_pylist():
            rows, _ = settle_lake(folder, pack)
            yield from pa.Table.from_pandas(rows, schema=schema, preserve_index=False).to_batches(BATCH_ROWS)


def settle_on_spark(session, buckets: Buckets, pack: str = "demo"):
    """The year's statements as a Spark DataFrame (one row per claim, setlinfo fields in fen), lazily:
    nothing runs until it is written or collected. ``pack`` is a shipped pack name or a folder that
    every worker can read."""
    from yibao.payment.backends import _quiet  # PySpark's warning that pandas 3 is new to it, and only that

    with _quiet("pyspark"):
        return bucket_frame(session, buckets).mapInArrow(lambda it: settle_buckets(it, pack),
                                                          spark_schema(statement_schema()))


def write_statements(statements, out: str | Path) -> None:
    """The statements as a Parquet dataset folder (one file per bucket)."""
    statements.write.mode("overwrite").parquet(str(out))


__all__ = ["bucket_frame", "settle_buckets", "settle_on_spark", "spark_schema", "statement_schema", "write_statements"]
