"""The regulator's store access: every query of the ``sv_*`` tables lives here (engines never see it).

``with unit(url) as conn:`` is one transaction: a case move writes its step, its measures, the money
recovered and the credit events together, or nothing. Records come out as plain dicts.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import sqlalchemy as sa

from yibao.errors import NotFoundError, ValidationError
from yibao.store.db import connect, show_url
from yibao.supervision.regulator import tables as t
from yibao.supervision.regulator.cases import Action, CaseFile, Step

CASES, STEPS, EVIDENCE, ACTIONS = (m.__table__ for m in (t.Case, t.CaseStep, t.CaseEvidence, t.CaseAction))
REPORTS, EVENTS, GRADES = (m.__table__ for m in (t.Report, t.CreditEvent, t.CreditGrade))
DRAWS, PICKS, SAMPLES, SAMPLE_CLAIMS = (m.__table__ for m in (t.Draw, t.DrawPick, t.Sample, t.SampleClaim))


@contextmanager
def unit(url: str | None) -> Iterator[sa.Connection]:
    """A connection in one transaction to a store migrated to 0006 or later."""
    with connect(url) as conn:
        if not sa.inspect(conn).has_table(CASES.name):
            raise ValidationError("url", "the store has no supervision tables: run `yibao db upgrade` first",
                                  record=show_url(url))
        yield conn


def _rows(conn: sa.Connection, stmt) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(stmt).mappings()]


def next_number(conn: sa.Connection, prefix: str, column: sa.Column, year: int) -> str:
    """``prefix`` + year + a 6-digit sequence, one past the highest of that year."""
    stem = f"{prefix}{year}"
    top = conn.execute(sa.select(sa.func.max(column)).where(column.like(f"{stem}%"))).scalar()
    return f"{stem}{int(top[len(stem):]) + 1 if top else 1:06d}"


# ---- cases ----

def add_case(conn: sa.Connection, case: dict[str, Any], step: Step, evidence: Iterable[tuple[str, str, str | None]]) -> None:
    """A new case at its first step, with its evidence."""
    if conn.execute(sa.select(CASES.c.case_no).where(CASES.c.case_no == case["case_no"])).first():
        raise ValidationError("case_no", "is taken by another case", f"case {case['case_no']}")
    conn.execute(CASES.insert().values(**case, state=step.state, since=step.on, due=step.due))
    _add_step(conn, case["case_no"], 1, step)
    add_evidence(conn, case["case_no"], step.on, evidence)


def add_evidence(conn: sa.Connection, case_no: str, on: dt.date, evidence: Iterable[tuple[str, str, str | None]]) -> None:
    rows = [{"case_no": case_no, "kind": k, "ref": r, "note": n, "added_on": on} for k, r, n in evidence]
    if rows:
        conn.execute(EVIDENCE.insert(), rows)


def case_file(conn: sa.Connection, case_no: str, lock: bool = False) -> CaseFile:
    stmt = sa.select(CASES.c.case_no, CASES.c.state, CASES.c.since, CASES.c.due).where(CASES.c.case_no == case_no)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFoundError(f"case {case_no!r} not found")
    return CaseFile(*row)


def case(conn: sa.Connection, case_no: str) -> dict[str, Any]:
    """The case row with its steps, evidence and measures, in order."""
    rows = _rows(conn, sa.select(CASES).where(CASES.c.case_no == case_no))
    if not rows:
        raise NotFoundError(f"case {case_no!r} not found")
    out = rows[0]
    out["steps"] = _rows(conn, sa.select(STEPS).where(STEPS.c.case_no == case_no).order_by(STEPS.c.seq))
    out["evidence"] = _rows(conn, sa.select(EVIDENCE).where(EVIDENCE.c.case_no == case_no).order_by(EVIDENCE.c.id))
    out["actions"] = _rows(conn, sa.select(ACTIONS).where(ACTIONS.c.case_no == case_no).order_by(ACTIONS.c.id))
    return out


def cases(conn: sa.Connection, state: str | None = None, institution: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(CASES).order_by(CASES.c.case_no)
    if state:
        stmt = stmt.where(CASES.c.state == state)
    if institution:
        stmt = stmt.where(CASES.c.fixmedins_code == institution)
    return _rows(conn, stmt)


def record_step(conn: sa.Connection, case_no: str, step: Step, actions: tuple[Action, ...] = ()) -> None:
    """The case's next step, its measures and the credit events they make."""
    seq = conn.execute(sa.select(sa.func.max(STEPS.c.seq)).where(STEPS.c.case_no == case_no)).scalar() + 1
    _add_step(conn, case_no, seq, step)
    conn.execute(CASES.update().where(CASES.c.case_no == case_no).values(state=step.state, since=step.on, due=step.due))
    if actions:
        conn.execute(ACTIONS.insert(), [{**_action_row(a), "case_no": case_no, "on_date": step.on} for a in actions])
    _credit_events(conn, case_no, step, actions)


def _add_step(conn: sa.Connection, case_no: str, seq: int, step: Step) -> None:
    conn.execute(STEPS.insert().values(case_no=case_no, seq=seq, state=step.state, on_date=step.on, due=step.due,
                                       reason=step.reason))


def _action_row(a: Action) -> dict[str, Any]:
    return {"kind": a.kind, "amount_fen": a.amount_fen, "fund": a.fund, "basis": a.basis, "months": a.months,
            "person_id": a.person_id, "role": a.role, "points": a.points}


def _credit_events(conn: sa.Connection, case_no: str, step: Step, actions: tuple[Action, ...]) -> None:
    """立案 counts against the subject (and its institution); 处理 measures against whom they touch."""
    row = conn.execute(sa.select(CASES.c.subject_kind, CASES.c.subject_id, CASES.c.fixmedins_code)
                       .where(CASES.c.case_no == case_no)).first()
    institution = row.fixmedins_code or (row.subject_id if row.subject_kind == "institution" else None)
    base = {"on_date": step.on, "case_no": case_no, "points": None, "amount_fen": None}
    events = []
    if step.state == "filed":
        events.append({**base, "subject_kind": row.subject_kind, "subject_id": row.subject_id, "kind": "case_filed"})
        if institution and row.subject_kind != "institution":
            events.append({**base, "subject_kind": "institution", "subject_id": institution, "kind": "case_filed"})
    who = (row.subject_kind, row.subject_id) if institution is None else ("institution", institution)
    recovered = sum(a.amount_fen for a in actions if a.kind == "recover")
    if recovered:
        events.append({**base, "subject_kind": who[0], "subject_id": who[1], "kind": "recovery", "amount_fen": recovered})
    for a in actions:
        if a.kind in ("suspend", "terminate", "fine"):
            amount = a.amount_fen if a.kind == "fine" else None
            events.append({**base, "subject_kind": who[0], "subject_id": who[1], "kind": a.kind, "amount_fen": amount})
        elif a.kind == "points":
            events.append({**base, "subject_kind": a.role, "subject_id": a.person_id, "kind": "points",
                           "points": a.points})
    if events:
        conn.execute(EVENTS.insert(), events)


def recovered(conn: sa.Connection, case_no: str | None = None) -> list[dict[str, Any]]:
    """The recovered-money ledger: fen per case and fund."""
    stmt = (sa.select(ACTIONS.c.case_no, ACTIONS.c.fund, sa.func.sum(ACTIONS.c.amount_fen).label("amount_fen"))
            .where(ACTIONS.c.kind == "recover").group_by(ACTIONS.c.case_no, ACTIONS.c.fund)
            .order_by(ACTIONS.c.case_no, ACTIONS.c.fund))
    if case_no:
        stmt = stmt.where(ACTIONS.c.case_no == case_no)
    return [{**r, "amount_fen": int(r["amount_fen"])} for r in _rows(conn, stmt)]


# ---- 举报 ----

def add_report(conn: sa.Connection, row: dict[str, Any]) -> None:
    if conn.execute(sa.select(REPORTS.c.report_no).where(REPORTS.c.report_no == row["report_no"])).first():
        raise ValidationError("report_no", "is taken by another report", f"report {row['report_no']}")
    conn.execute(REPORTS.insert().values(**row))


def report(conn: sa.Connection, report_no: str, lock: bool = False) -> dict[str, Any]:
    stmt = sa.select(REPORTS).where(REPORTS.c.report_no == report_no)
    rows = _rows(conn, stmt.with_for_update() if lock else stmt)
    if not rows:
        raise NotFoundError(f"report {report_no!r} not found")
    return rows[0]


def update_report(conn: sa.Connection, report_no: str, **values: Any) -> None:
    conn.execute(REPORTS.update().where(REPORTS.c.report_no == report_no).values(**values))


# ---- credit ----

def events(conn: sa.Connection, subject_kind: str, subject_id: str) -> list[dict[str, Any]]:
    return _rows(conn, sa.select(EVENTS).where(EVENTS.c.subject_kind == subject_kind, EVENTS.c.subject_id == subject_id)
                 .order_by(EVENTS.c.on_date, EVENTS.c.id))


def points_events(conn: sa.Connection, person_id: str) -> list[tuple[dt.date, int]]:
    stmt = (sa.select(EVENTS.c.on_date, EVENTS.c.points)
            .where(EVENTS.c.subject_id == person_id, EVENTS.c.kind == "points").order_by(EVENTS.c.on_date))
    return [(d, int(p)) for d, p in conn.execute(stmt)]


def institution_events(conn: sa.Connection, year: int) -> dict[str, dict[str, int]]:
    """Per institution, the year's counts and sums: cases_filed, recovered_fen, suspended, terminated."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stmt = (sa.select(EVENTS.c.subject_id, EVENTS.c.kind, sa.func.count(), sa.func.sum(EVENTS.c.amount_fen))
            .where(EVENTS.c.subject_kind == "institution", EVENTS.c.on_date.between(start, end))
            .group_by(EVENTS.c.subject_id, EVENTS.c.kind))
    out: dict[str, dict[str, int]] = {}
    for code, kind, n, fen in conn.execute(stmt):
        facts = out.setdefault(code, {})
        facts[kind] = int(fen) if kind == "recovery" else int(n)
    return out


def put_grades(conn: sa.Connection, year: int, rows: list[dict[str, Any]]) -> None:
    """The year's grades, replacing any earlier grading of that year (a re-grade supersedes it whole)."""
    conn.execute(GRADES.delete().where(GRADES.c.year == year))
    if rows:
        conn.execute(GRADES.insert(), [{**r, "detail": json.dumps(r["detail"], ensure_ascii=False)} for r in rows])


def grades(conn: sa.Connection, year: int | None = None, code: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(GRADES).order_by(GRADES.c.year, GRADES.c.fixmedins_code)
    if year is not None:
        stmt = stmt.where(GRADES.c.year == year)
    if code is not None:
        stmt = stmt.where(GRADES.c.fixmedins_code == code)
    return [{**r, "detail": json.loads(r["detail"])} for r in _rows(conn, stmt)]


# ---- 双随机 draws and 费用审核 samples ----

def add_draw(conn: sa.Connection, row: dict[str, Any], picks: list[dict[str, Any]]) -> None:
    conn.execute(DRAWS.insert().values({**row, "detail": json.dumps(row["detail"], ensure_ascii=False)}))
    conn.execute(PICKS.insert(), [{**p, "draw_no": row["draw_no"]} for p in picks])


def draw_picks(conn: sa.Connection, draw_no: str) -> list[dict[str, Any]]:
    return _rows(conn, sa.select(PICKS).where(PICKS.c.draw_no == draw_no).order_by(PICKS.c.seq))


def add_sample(conn: sa.Connection, row: dict[str, Any], claims: list[dict[str, Any]]) -> None:
    conn.execute(SAMPLES.insert().values({**row, "detail": json.dumps(row["detail"], ensure_ascii=False)}))
    if claims:
        conn.execute(SAMPLE_CLAIMS.insert(), [{**c, "sample_no": row["sample_no"]} for c in claims])


def sample_claims(conn: sa.Connection, sample_no: str) -> list[dict[str, Any]]:
    return _rows(conn, sa.select(SAMPLE_CLAIMS).where(SAMPLE_CLAIMS.c.sample_no == sample_no)
                 .order_by(SAMPLE_CLAIMS.c.fixmedins_code, SAMPLE_CLAIMS.c.claim_id))


__all__ = ["add_case", "add_draw", "add_evidence", "add_report", "add_sample", "case", "case_file", "cases",
           "draw_picks", "events", "grades", "institution_events", "next_number", "points_events", "put_grades",
           "record_step", "recovered", "report", "sample_claims", "unit", "update_report"]
