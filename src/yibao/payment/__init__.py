"""Paying institutions (医保支付): DRG grouping (``drg``) and payment (``drg.payment``), DIP
(``dip``), per-diem and fee-for-service (``per_diem``), capitation (``capitation``), global budgets
(``budget``) and annual clearing (``clearing``). The batch engines are Ibis expressions run on an
injected backend (``backends``: DuckDB by default, PySpark in local mode); ``year.pay_year`` pays a
whole lake year. Submodules are imported on use so the grouper does not load Ibis.
"""
