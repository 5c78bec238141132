"""CHS-DRG grouping (疾病诊断相关分组): versions as data, one case or a DataFrame at a time, and DRG
payment.

``group(case, version="chs-1.1")`` groups one 结算清单 case; ``group_many(df, version)`` a batch, whose
cases ``cases_from_claims`` takes from lake claims; ``Grouper.load(version)`` gives the cached grouper
object. Shipped versions: ``chs-1.1`` (the CHS-DRG 1.1 scheme) and ``chs-2.0`` (ADRG/DRG names only:
its rules are not available). Payment (``payment``: ``DrgRules``, ``drg_weights``, ``base_rate``,
``drg_pay``, ``drg_review``, ``drg_institutions``) is Ibis; every name is imported on use, so the grouper
does not load Ibis and ``yibao drg --help`` loads no table library.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = [
    "AMBIGUOUS", "DrgRules", "GroupInput", "GroupResult", "Grouper", "OK", "UNGROUPABLE",
    "available_versions", "base_rate", "cases_from_claims", "drg_institutions", "drg_pay", "drg_review",
    "drg_weights", "group", "group_many", "load_version",
]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.payment.drg.batch": ("cases_from_claims", "group_many"),
    "yibao.payment.drg.grouper": ("AMBIGUOUS", "OK", "UNGROUPABLE", "GroupInput", "Grouper", "GroupResult", "group"),
    "yibao.payment.drg.versions": ("available_versions", "load_version"),
    "yibao.payment.drg.payment": ("DrgRules", "base_rate", "drg_institutions", "drg_pay", "drg_review", "drg_weights"),
})
