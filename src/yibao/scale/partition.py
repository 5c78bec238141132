"""A lake cut into buckets of whole households on Spark, each bucket a lake of its own.

The settlement of a person needs that person's registry rows (spells, identities, coverage choices,
opening balances) and, for 家庭共济, the balances of the person's household; nothing else about other
persons. So a bucket holds whole households (a person of no household is a household alone): the
persons, their person tables, their claims and the lines of those claims, written by Spark as
``<work>/<table>/bucket=<k>/``. The small shared tables (institutions, employers, catalog, regions)
are read from the lake itself. ``<work>/buckets/<k>/`` is bucket k as a lake folder (links to its
parts), which the local engine reads like any other lake.

A claim of a person missing from ``persons``, or a line of a claim missing from ``claims``, is refused
(the local engine refuses them too): a join must not drop it unseen.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from yibao.errors import ValidationError
from yibao.lake.io import has_table, table_path

PERSON_TABLES = ("enrollments", "identities", "coverage_choices", "account_balances", "contributions")
SHARED_TABLES = ("institutions", "employers", "catalog", "regions")
CLAIMS_PER_BUCKET = 500_000  # a bucket's settlement holds about this many claims in memory at once
BROADCAST_PERSONS = 5_000_000  # up to this many persons, each task gets the whole (psn_no → bucket) map


@dataclass(frozen=True)
class Buckets:
    """A lake cut into ``count`` buckets under ``work``; ``folders`` are the buckets that hold claims."""

    lake: Path
    work: Path
    count: int
    folders: dict[int, Path]


def check_cut(lake: Path, count: int | None) -> None:
    """Refuse, before Spark does any work, a lake that is no folder or fewer than one bucket."""
    if not Path(lake).is_dir():
        raise ValidationError("--lake", f"not a lake folder: {lake}")
    if count is not None and count < 1:
        raise ValidationError("--buckets", f"{count} buckets: give at least 1")


def bucket_count(lake: str | Path) -> int:
    """Buckets for a lake: about :data:`CLAIMS_PER_BUCKET` claims each (from the Parquet footers)."""
    import pyarrow.dataset as ds

    claims = ds.dataset(table_path(lake, "claims"), format="parquet").count_rows()
    return max(1, math.ceil(claims / CLAIMS_PER_BUCKET))


def _read(session, lake: Path, table: str):
    return session.read.parquet(str(table_path(lake, table)))


NO_BUCKET = "bucket=__HIVE_DEFAULT_PARTITION__"  # where Spark writes the rows whose bucket is null


def _refuse_orphans(folder: Path, field: str, problem: str, record: str) -> None:
    """Rows the join found no bucket for (Spark wrote them to :data:`NO_BUCKET`) are refused, the first
    one named (``record`` names its column)."""
    import pyarrow.dataset as ds

    if (folder / NO_BUCKET).is_dir():
        first = ds.dataset(folder / NO_BUCKET, format="parquet").head(1, columns=[field, record]).to_pylist()[0]
        raise ValidationError(field, problem.format(first[field]), f"{record} {first[record]}")


def partition_lake(session, lake: str | Path, work: str | Path, count: int | None = None) -> Buckets:
    """Write ``lake``'s person-keyed tables, claims and lines under ``work`` by bucket (see the module
    docstring) and return the buckets as lake folders. ``work`` is emptied first."""
    from pyspark.sql import functions as F

    lake, work = Path(lake), Path(work)
    check_cut(lake, count)
    count = bucket_count(lake) if count is None else count
    if work.exists():
        shutil.rmtree(work)
    persons = _read(session, lake, "persons")
    household = F.coalesce(F.nullif(F.col("household_id"), F.lit("")), F.col("psn_no"))
    persons = persons.withColumn("bucket", F.pmod(F.xxhash64(household), F.lit(count)).cast("int"))
    by_person = persons.select("psn_no", "bucket")
    if persons.count() <= BROADCAST_PERSONS:  # joined where the rows are, without shuffling them by person
        by_person = F.broadcast(by_person)
    _write(persons, work / "persons")
    for table in PERSON_TABLES:
        if has_table(lake, table):
            _write(_read(session, lake, table).join(by_person, "psn_no"), work / table)
    claims = _read(session, lake, "claims").join(by_person, "psn_no", "left")
    _write(claims, work / "claims")
    _refuse_orphans(work / "claims", "psn_no", "{!r} is not in persons", "claim_id")
    if has_table(lake, "claim_lines"):
        by_claim = session.read.parquet(str(work / "claims")).select("claim_id", "bucket")
        lines = _read(session, lake, "claim_lines").join(by_claim, "claim_id", "left")
        _write(lines, work / "claim_lines")
        _refuse_orphans(work / "claim_lines", "claim_id", "line of claim {!r}, which is not in claims", "line_no")
    return Buckets(lake, work, count, _bucket_folders(lake, work, count))


def _write(frame, folder: Path) -> None:
    """Each task writes its rows into the bucket folders (a file per task and bucket): no shuffle."""
    frame.write.mode("overwrite").partitionBy("bucket").parquet(str(folder))


def _bucket_folders(lake: Path, work: Path, count: int) -> dict[int, Path]:
    """Bucket k as a lake folder of links: its parts of each bucketed table, the lake's shared tables."""
    folders = {}
    for k in range(count):
        if not (work / "claims" / f"bucket={k}").is_dir():
            continue  # no claims: nothing to settle
        folder = work / "buckets" / str(k)
        folder.mkdir(parents=True)
        for table in ("persons", "claims", "claim_lines", *PERSON_TABLES):
            part = work / table / f"bucket={k}"
            if part.is_dir():
                os.symlink(part.resolve(), folder / table)
        for table in SHARED_TABLES:
            if has_table(lake, table):
                source = table_path(lake, table).resolve()
                os.symlink(source, folder / source.name)
        folders[k] = folder
    return folders


__all__ = ["Buckets", "CLAIMS_PER_BUCKET", "PERSON_TABLES", "SHARED_TABLES", "bucket_count", "check_cut", "partition_lake"]
