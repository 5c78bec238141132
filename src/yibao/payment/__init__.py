"""Paying institutions (医保支付): DRG grouping (``drg``) and payment (``drg.payment``), DIP
(``dip``), per-diem and fee-for-service (``per_diem``), capitation (``capitation``), global budgets
(``budget``) and annual clearing (``clearing``). The batch engines are Ibis expressions run on an
injected backend (``get_backend()``, ``duckdb_backend()``, ``spark_backend()``: DuckDB by default,
PySpark in local mode); :func:`pay_year` (``year``) pays a whole lake year. Submodules, and the names
below, are imported on use so the grouper does not load Ibis.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["Backend", "YearRules", "duckdb_backend", "get_backend", "pay_year", "print_results", "spark_backend"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.payment.year": ("YearRules", "pay_year", "print_results"),
    "yibao.payment.backends": ("Backend", "duckdb_backend", "get_backend", "spark_backend"),
})
