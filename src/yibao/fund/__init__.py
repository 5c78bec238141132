"""Fund management (基金管理): budget, forecast, risk warning, policy simulation and KPI indicators.

No module is here yet, so the package exports nothing.
"""

__all__: list[str] = []
