"""Fund supervision (基金监管): the rule library (``rules/*.yaml``, dated and cited) and its two
compilations — an Ibis query over a year of a lake (事后) and a per-claim check for the 3101/3102
review (事前/事中) — with one meaning, tested to agree.

The face: ``load_rules()`` (``Rule``), ``RuleBook`` (rules compiled against a catalog: ``check_claim``
and ``run``), ``check_claim()`` (the shipped rules), the real-time shapes ``Claim``, ``Line``, ``Visit``
and ``Hit``, and ``hits_frame()``. Names are imported on use: importing the package loads neither
pandas nor Ibis. See ``README.md`` in this folder.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["Claim", "Hit", "Line", "Rule", "RuleBook", "Visit", "check_claim", "hits_frame", "load_rules"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.supervision.engine": ("RuleBook", "check_claim", "hits_frame"),
    "yibao.supervision.model": ("Claim", "Hit", "Line", "Visit"),
    "yibao.supervision.rules": ("Rule", "load_rules"),
})
