"""The lake: a region's Parquet tables, one folder a table (``schema.TABLES`` declares each), and the
readers the engines use.

The face: ``TABLES``, ``FRAUD_LABELS``; ``read_table()``, ``write_table()``, ``has_table()``,
``table_path()``, ``ChunkWriter`` (``io``); for settlement the person-level tables ``read_people()``
and the claims with their lines part by part ``lake_parts()`` (``claims``), their files read ahead
as Arrow tables by ``PartFiles`` (``parts``, which loads no pandas); the payment readers
``lake_claims()``, ``inpatient_claims()``, ``region_claims()``, ``cross_region_stays()``,
``history_folders()`` (``cases``, on an Ibis backend).
The names are imported on use, so importing the package loads neither pyarrow nor Ibis.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = [
    "ChunkWriter", "FRAUD_LABELS", "PartFiles", "TABLES", "cross_region_stays", "has_table", "history_folders",
    "inpatient_claims", "lake_claims", "lake_parts", "read_people", "read_table", "region_claims",
    "table_path", "write_table",
]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.lake.schema": ("FRAUD_LABELS", "TABLES"),
    "yibao.lake.io": ("ChunkWriter", "has_table", "read_table", "table_path", "write_table"),
    "yibao.lake.claims": ("lake_parts", "read_people"),
    "yibao.lake.parts": ("PartFiles",),
    "yibao.lake.cases": ("cross_region_stays", "history_folders", "inpatient_claims", "lake_claims",
                         "region_claims"),
})
