"""CHS-DRG grouping (疾病诊断相关分组): versions as data, one case or a DataFrame at a time.

``group(case, version="chs-1.1")`` groups one 结算清单 case; ``group_many(df, version)`` a batch;
``Grouper.load(version)`` gives the cached grouper object. Shipped versions: ``chs-1.1`` (the
CHS-DRG 1.1 scheme) and ``chs-2.0`` (ADRG/DRG names only: its rules are not available).
"""

from yibao.payment.drg.batch import group_many
from yibao.payment.drg.grouper import AMBIGUOUS, OK, UNGROUPABLE, GroupInput, Grouper, GroupResult, group
from yibao.payment.drg.versions import available_versions, load_version

__all__ = ["group", "group_many", "Grouper", "GroupInput", "GroupResult", "OK", "UNGROUPABLE", "AMBIGUOUS",
           "available_versions", "load_version"]
