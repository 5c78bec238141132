"""Paying institutions (医保支付): DRG grouping (``drg``) and payment (``drg.payment``), DIP
(``dip``), per-diem and fee-for-service (``per_diem``), capitation (``capitation``), global budgets
(``budget``) and annual clearing (``clearing``). The batch engines are Ibis expressions run on an
injected backend (``backends``: DuckDB by default, PySpark in local mode); :func:`pay_year`
(``year``) pays a whole lake year. Submodules, and the names below, are imported on use so the
grouper does not load Ibis.
"""

from __future__ import annotations

__all__ = ["pay_year", "print_results", "YearRules"]


def __getattr__(name: str):
    if name in __all__:
        from yibao.payment import year

        return getattr(year, name)
    raise AttributeError(f"module 'yibao.payment' has no attribute {name!r}")
