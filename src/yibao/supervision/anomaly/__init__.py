"""Anomaly detection where no rule exists (基金监管大数据分析): institutions, departments and doctors
against their peer group, scored by a multivariate detector with a per-feature explanation, and rings
(团伙) of persons found as dense communities of improbable same-day encounters.

The face: ``entity_features()`` (the features of one level), ``rank_entities()`` with
``DetectorParams``, ``find_rings()`` with ``RingParams``, and the lake readers ``read_claims()`` and
``read_lines()``. Names are imported on use: importing the package loads neither pandas nor
scikit-learn. See ``README.md`` in this folder.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["DetectorParams", "RingParams", "entity_features", "find_rings", "rank_entities", "read_claims",
           "read_lines"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.supervision.anomaly.detector": ("DetectorParams", "rank_entities"),
    "yibao.supervision.anomaly.features": ("entity_features",),
    "yibao.supervision.anomaly.lake": ("read_claims", "read_lines"),
    "yibao.supervision.anomaly.rings": ("RingParams", "find_rings"),
})
