"""Cases (案件): 线索 → 核查 → 立案 (or 不予立案) → 处理 → 结案, with dated states and deadlines.

Pure: a case comes in as a :class:`CaseFile` (its state, the date it took it and the date its next
decision is due) and a move goes out as a :class:`Step` or a ``ValidationError`` naming the case and the
field. The repository writes the step, its 处理 actions and the recovered money in one transaction.

Deadlines (``regulator.yaml``): the 立案 decision within 15 working days of the clue; the 处理决定 within
90 days of 立案; 结案 within 60 days of 处理. A move past its deadline needs a ``reason``, kept with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yibao import vocab
from yibao.errors import ValidationError
from yibao.money import div_round
from yibao.supervision.regulator.calendar import add_working_days
from yibao.supervision.regulator.params import Params

STATES = {"clue": "线索", "checking": "核查", "filed": "立案", "dropped": "不予立案", "handled": "处理",
          "closed": "结案"}
MOVES = {"clue": ("checking",), "checking": ("filed", "dropped"), "filed": ("handled",), "handled": ("closed",),
         "dropped": (), "closed": ()}
SOURCES = {"rule_hit": "规则命中", "report": "举报", "sample": "抽查复审", "anomaly": "异常排名", "draw": "双随机检查"}
SUBJECTS = {"institution": "定点医药机构", "doctor": "医师", "pharmacist": "药师", "nurse": "护士",
            "technician": "技师", "person": "参保人"}
ACTIONS = {"recover": "追回", "fine": "罚款", "suspend": "暂停协议", "terminate": "解除协议", "points": "医保支付资格记分"}
FINE_BASES = {"violation": "违规使用（条例第三十八条）", "fraud": "骗取（条例第四十条）"}
STAFF_ROLES = ("doctor", "pharmacist", "nurse", "technician")
EVIDENCE_KINDS = {"hit": "规则命中", "document": "文书", "report": "举报", "sample": "抽查", "rank": "异常排名"}


@dataclass(frozen=True)
class CaseFile:
    """A case as it stands: its number, state, the date it took that state and its next deadline."""

    case_no: str
    state: str
    since: dt.date
    due: dt.date | None


@dataclass(frozen=True)
class Step:
    """One dated state of a case; ``due`` is the deadline of the move after it (None when final)."""

    state: str
    on: dt.date
    due: dt.date | None
    reason: str | None = None


@dataclass(frozen=True)
class Action:
    """A 处理 measure: 追回 ``amount_fen`` to ``fund``; 罚款 ``amount_fen`` on a ``basis``; 暂停协议 for
    ``months``; 解除协议; or ``points`` of 医保支付资格记分 on ``person_id`` in ``role``."""

    kind: str
    amount_fen: int = 0
    fund: str | None = None
    basis: str | None = None
    months: int | None = None
    person_id: str | None = None
    role: str | None = None
    points: int | None = None


def open_clue(case_no: str, source: str, subject_kind: str, subject_id: str, on: dt.date, params: Params) -> Step:
    """The first state of a case: a clue of ``source`` about a subject, its 立案 decision due."""
    record = f"case {case_no}"
    _one_of(source, SOURCES, "source", record)
    _one_of(subject_kind, SUBJECTS, "subject_kind", record)
    if not str(subject_id or "").strip():
        raise ValidationError("subject_id", "is empty: name the institution, staff member or person", record)
    return Step("clue", on, add_working_days(on, params["case.decide_within_working_days"]))


def move(case: CaseFile, to: str, on: dt.date, params: Params, reason: str | None = None,
         actions: tuple[Action, ...] = ()) -> Step:
    """The next state of ``case``: refused when out of order, dated before the current state, past the
    deadline without a reason, or (to 处理) without valid actions."""
    record = f"case {case.case_no}"
    _one_of(to, STATES, "to", record)
    allowed = MOVES[case.state]
    if to not in allowed:
        nexts = " or ".join(f"{s} ({STATES[s]})" for s in allowed) or "nothing: the case is finished"
        raise ValidationError("to", f"a case at {case.state} ({STATES[case.state]}) moves only to {nexts}, "
                              f"not to {to} ({STATES[to]})", record)
    if on < case.since:
        raise ValidationError("date", f"{on} is before the case took {case.state} on {case.since}", record)
    reason = (reason or "").strip() or None
    if case.due is not None and on > case.due and reason is None:
        raise ValidationError("reason", f"{STATES[to]} was due by {case.due}; moving on {on} needs a reason", record)
    if to == "handled":
        check_actions(actions, record, params)
    elif actions:
        raise ValidationError("actions", f"measures are taken at 处理 (handled), not at {to} ({STATES[to]})", record)
    return Step(to, on, _due(to, case, on, params), reason)


def _due(to: str, case: CaseFile, on: dt.date, params: Params) -> dt.date | None:
    if to == "checking":
        return case.due  # 核查 runs inside the clue's 立案 deadline
    if to == "filed":
        return on + dt.timedelta(days=params["case.handle_within_days"])
    if to == "handled":
        return on + dt.timedelta(days=params["case.close_within_days"])
    return None


def check_actions(actions: tuple[Action, ...], record: str, params: Params) -> None:
    """Every measure well formed; a fine within the 条例's multiples of the money recovered by the same 处理."""
    if not actions:
        raise ValidationError("actions", "处理 needs at least one measure (追回, 罚款, 暂停/解除协议 or 记分)", record)
    for n, a in enumerate(actions, 1):
        _check_action(a, f"{record} action {n}", params)
    recovered = sum(a.amount_fen for a in actions if a.kind == "recover")
    for n, a in enumerate(actions, 1):
        if a.kind == "fine":
            _check_fine(a, recovered, f"{record} action {n}", params)


def _check_action(a: Action, record: str, params: Params) -> None:
    _one_of(a.kind, ACTIONS, "kind", record)
    if a.kind in ("recover", "fine") and (not isinstance(a.amount_fen, int) or a.amount_fen <= 0):
        raise ValidationError("amount", f"{ACTIONS[a.kind]} needs an amount above 0, got {a.amount_fen!r} fen", record)
    if a.kind == "recover":
        _one_of(a.fund, vocab.FUND_PAY_TYPES, "fund", record)
    if a.kind == "fine":
        _one_of(a.basis, FINE_BASES, "basis", record)
    if a.kind == "suspend" and (not isinstance(a.months, int) or a.months < 1):
        raise ValidationError("months", f"暂停协议 needs whole months ≥ 1, got {a.months!r}", record)
    if a.kind == "points":
        _check_points(a, record, params)


def _check_points(a: Action, record: str, params: Params) -> None:
    top = params["points.max_per_event"]
    if not isinstance(a.points, int) or not 1 <= a.points <= top:
        raise ValidationError("points", f"one 记分 is 1 to {top} points, got {a.points!r}", record)
    if a.role not in STAFF_ROLES:
        raise ValidationError("role", f"{a.role!r} is not one of {', '.join(STAFF_ROLES)}", record)
    if not str(a.person_id or "").strip():
        raise ValidationError("person_id", "is empty: name the staff member scored", record)


def _check_fine(a: Action, recovered: int, record: str, params: Params) -> None:
    band = params[f"case.fine_multiple_{a.basis}"]
    if recovered == 0:
        raise ValidationError("amount", f"a fine for {FINE_BASES[a.basis]} is a multiple of the loss: "
                              "record the 追回 of the same 处理", record)
    low, high = (div_round(int(band[k] * 100) * recovered, 100) for k in ("min", "max"))
    if not low <= a.amount_fen <= high:
        raise ValidationError("amount", f"a fine for {FINE_BASES[a.basis]} is {band['min']}–{band['max']}× the "
                              f"{recovered} fen recovered ({low}–{high} fen), got {a.amount_fen}", record)


def _one_of(value, known, field: str, record: str) -> None:
    if value not in known:
        listed = ", ".join(str(k) for k in known)
        raise ValidationError(field, f"{value!r} is not one of {listed}", record)


__all__ = ["ACTIONS", "Action", "CaseFile", "EVIDENCE_KINDS", "FINE_BASES", "MOVES", "SOURCES", "STAFF_ROLES",
           "STATES", "SUBJECTS", "Step", "check_actions", "move", "open_clue"]
