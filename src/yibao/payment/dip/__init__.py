"""DIP 按病种分值付费 (Diagnosis-Intervention Packet) with 区域点数法总额预算: catalog building from
three years of history and per-case / per-institution settlement."""

from yibao.payment.dip.catalog import DipRules, build_catalog, case_keys, check_catalog, procedure_type
from yibao.payment.dip.settle import (
    dip_institutions,
    dip_points,
    dip_review,
    dip_settle,
    format_point_value,
    point_value,
    total_points,
)

__all__ = [
    "DipRules", "build_catalog", "case_keys", "check_catalog", "dip_institutions", "dip_points", "dip_review",
    "dip_settle", "format_point_value", "point_value", "procedure_type", "total_points",
]
