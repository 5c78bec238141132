"""The year on Spark (省级规模): the batch settlement, the supervision rules and the fund accounts of a
lake, with the local engine's results to the fen.

The face: ``partition_lake()`` (``Buckets``) cuts a lake into buckets of whole households;
``settle_on_spark()`` settles each bucket with the local engine in a Spark task; ``accounts_on_spark()``
books the fund accounts; ``rules_on_spark()`` runs the supervision rule library through its Ibis
compilation on the Spark backend. Names are imported on use. See ``docs/scale.md`` for the sizing.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["Buckets", "accounts_on_spark", "partition_lake", "rules_on_spark", "settle_on_spark"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.scale.accounts": ("accounts_on_spark",),
    "yibao.scale.partition": ("Buckets", "partition_lake"),
    "yibao.scale.rules": ("rules_on_spark",),
    "yibao.scale.settle": ("settle_on_spark",),
})
