"""Fund management (基金管理): the fund accounts of a year, the risk warning and the plans' indicators.

The face: ``fund_accounts()`` / ``lake_accounts()`` (``FundAccounts``), ``fund_warnings()`` (``Warning``,
``scheme_figures()``), ``indicators()`` (``Indicator``), ``write_workbook()``, ``simulate_reform()`` (``Simulation``)
``calibrate()`` (``Calibration``) and ``settled_year()``. Names are imported on use.
See ``README.md`` in this folder.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["Calibration", "FundAccounts", "Indicator", "Simulation", "Warning", "calibrate", "fund_accounts",
           "fund_warnings", "indicators", "lake_accounts", "scheme_figures", "settled_year", "simulate_reform",
           "write_workbook"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.fund.accounts": ("FundAccounts", "fund_accounts", "lake_accounts"),
    "yibao.fund.calibration": ("Calibration", "calibrate"),
    "yibao.fund.kpi": ("Indicator", "indicators"),
    "yibao.fund.report": ("write_workbook",),
    "yibao.fund.settled": ("settled_year",),
    "yibao.fund.simulate": ("Simulation", "simulate_reform"),
    "yibao.fund.warning": ("Warning", "fund_warnings", "scheme_figures"),
})
