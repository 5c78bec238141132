"""The regulator's work (基金监管业务): cases (线索 → 核查 → 立案 → 处理 → 结案), 举报 intake and reward,
the 双随机一公开 draw, the 费用审核 re-check sample, and credit (institution grades A–E, staff 12-point
医保支付资格). Engines are pure (``open_clue``, ``move``, ``intake``, ``reward``, ``draw_inspections``, ``sample``,
``grade_institution``, ``qualification``); the ``service`` module writes each step through the
repository in one transaction. Numbers come from ``regulator.yaml`` (``load_params``), each cited.
See ``README.md`` in this folder.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = ["Action", "CaseFile", "Inspector", "InstitutionYear", "Params", "Report", "Step", "add_working_days",
           "draw_inspections", "grade_institution", "intake", "load_params", "move", "open_clue", "qualification", "reward",
           "sample", "shipped_params"]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.supervision.regulator.calendar": ("add_working_days",),
    "yibao.supervision.regulator.cases": ("Action", "CaseFile", "Step", "move", "open_clue"),
    "yibao.supervision.regulator.credit": ("InstitutionYear", "grade_institution", "qualification"),
    "yibao.supervision.regulator.draw": ("Inspector", "draw_inspections"),
    "yibao.supervision.regulator.params": ("Params", "load_params", "shipped_params"),
    "yibao.supervision.regulator.reports": ("Report", "intake", "reward"),
    "yibao.supervision.regulator.sampling": ("sample",),
})
