"""The regulator's steps as transactions: each function checks with the pure engines and writes through
the repository in one unit of work, so a refused step leaves the store as it was."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Iterable

from yibao.errors import ValidationError
from yibao.supervision.regulator import repository as repo
from yibao.supervision.regulator.cases import EVIDENCE_KINDS, Action, move, open_clue
from yibao.supervision.regulator.credit import InstitutionYear, Qualification, grade_institution, qualification
from yibao.supervision.regulator.params import Params, shipped_params
from yibao.supervision.regulator.reports import Report, intake, reward

Evidence = tuple[str, str, str | None]


def open_case(url: str | None, source: str, subject_kind: str, subject_id: str, on: dt.date,
              source_ref: str | None = None, fixmedins_code: str | None = None, evidence: Iterable[Evidence] = (),
              case_no: str | None = None, params: Params | None = None) -> str:
    """A new case at 线索; its number (``AJ`` + year + sequence unless given)."""
    params = params or shipped_params()
    with repo.unit(url) as conn:
        case_no = case_no or repo.next_number(conn, "AJ", repo.CASES.c.case_no, on.year)
        step = open_clue(case_no, source, subject_kind, subject_id, on, params)
        if subject_kind == "institution":
            fixmedins_code = fixmedins_code or subject_id
        row = {"case_no": case_no, "source": source, "source_ref": source_ref, "subject_kind": subject_kind,
               "subject_id": subject_id, "fixmedins_code": fixmedins_code}
        repo.add_case(conn, row, step, _evidence(evidence, case_no))
    return case_no


def move_case(url: str | None, case_no: str, to: str, on: dt.date, reason: str | None = None,
              actions: tuple[Action, ...] = (), evidence: Iterable[Evidence] = (), params: Params | None = None) -> None:
    """The case's next state with its measures and evidence, all written or none."""
    params = params or shipped_params()
    with repo.unit(url) as conn:
        step = move(repo.case_file(conn, case_no, lock=True), to, on, params, reason, tuple(actions))
        repo.record_step(conn, case_no, step, tuple(actions))
        repo.add_evidence(conn, case_no, on, _evidence(evidence, case_no))


def _evidence(evidence: Iterable[Evidence], case_no: str) -> list[Evidence]:
    out = []
    for kind, ref, note in evidence:
        if kind not in EVIDENCE_KINDS:
            raise ValidationError("evidence", f"kind {kind!r} is not one of {', '.join(EVIDENCE_KINDS)}", f"case {case_no}")
        if not (ref or "").strip():
            raise ValidationError("evidence", f"a {kind} needs its reference (hit id, document number …)", f"case {case_no}")
        out.append((kind, ref.strip(), note))
    return out


def add_report(url: str | None, report: Report, params: Params | None = None) -> Report:
    """A 举报 received: checked, dated for acceptance, numbered (``JB`` + year + sequence unless given)."""
    params = params or shipped_params()
    with repo.unit(url) as conn:
        if not report.report_no:
            report = Report(**{**asdict(report), "report_no": repo.next_number(conn, "JB", repo.REPORTS.c.report_no,
                                                                                report.received_on.year)})
        accept_by = intake(report, params)
        repo.add_report(conn, {**asdict(report), "accept_by": accept_by, "state": "received"})
    return report


def decide_report(url: str | None, report_no: str, accept: bool, on: dt.date, reason: str | None = None,
                  params: Params | None = None) -> str | None:
    """受理 (the 举报 becomes a case at 线索, dated ``on``) or 不予受理 (with a reason); the case number."""
    params = params or shipped_params()
    reason = (reason or "").strip() or None
    with repo.unit(url) as conn:
        r = repo.report(conn, report_no, lock=True)
        record = f"report {report_no}"
        if r["state"] != "received":
            raise ValidationError("state", f"the report was already decided ({r['state']}) on {r['decided_on']}", record)
        if on < r["received_on"]:
            raise ValidationError("date", f"{on} is before the report was received on {r['received_on']}", record)
        if on > r["accept_by"] and reason is None:
            raise ValidationError("reason", f"the decision was due by {r['accept_by']}; deciding on {on} needs a reason",
                                  record)
        if not accept and reason is None:
            raise ValidationError("reason", "不予受理 needs its reason", record)
        case_no = None
        if accept:
            case_no = repo.next_number(conn, "AJ", repo.CASES.c.case_no, on.year)
            step = open_clue(case_no, "report", r["subject_kind"], r["subject_id"], on, params)
            fixmedins = r["subject_id"] if r["subject_kind"] == "institution" else None
            repo.add_case(conn, {"case_no": case_no, "source": "report", "source_ref": report_no,
                                 "subject_kind": r["subject_kind"], "subject_id": r["subject_id"],
                                 "fixmedins_code": fixmedins}, step, [("report", report_no, None)])
        repo.update_report(conn, report_no, state="accepted" if accept else "rejected", decided_on=on,
                           reason=reason, case_no=case_no)
    return case_no


def reward_report(url: str | None, report_no: str, params: Params | None = None) -> int:
    """The reward (fen) of a 举报 whose case is closed, on the money that case recovered; recorded once."""
    params = params or shipped_params()
    with repo.unit(url) as conn:
        r = repo.report(conn, report_no, lock=True)
        record = f"report {report_no}"
        if r["state"] != "accepted":
            raise ValidationError("state", f"only an accepted report whose case is closed is rewarded, this one "
                                  f"is {r['state']}", record)
        state = repo.case_file(conn, r["case_no"]).state
        if state != "closed":
            raise ValidationError("case", f"case {r['case_no']} is at {state}: the reward follows 结案", record)
        fen = reward(_as_report(r), sum(x["amount_fen"] for x in repo.recovered(conn, r["case_no"])), params)
        repo.update_report(conn, report_no, state="rewarded", reward_fen=fen)
    return fen


def _as_report(r: dict) -> Report:
    return Report(r["report_no"], r["received_on"], r["subject_kind"], r["subject_id"], r["facts"], r["informant"],
                  r["contact"], r["anonymous"])


def grade_year(url: str | None, year: int, claims: dict[str, tuple[int, int]], params: Params | None = None) -> list:
    """Grade every institution with claims (``code → (claims, claims with a sev_deg 1 hit)``) or events
    in ``year``, and store the grades."""
    params = params or shipped_params()
    with repo.unit(url) as conn:
        facts = repo.institution_events(conn, year)
        graded = []
        for code in sorted(set(claims) | set(facts)):
            f, (n, sev1) = facts.get(code, {}), claims.get(code, (0, 0))
            graded.append(grade_institution(InstitutionYear(
                code, year, n, sev1, f.get("case_filed", 0), f.get("recovery", 0), bool(f.get("suspend")),
                bool(f.get("terminate"))), params))
        repo.put_grades(conn, year, [{"fixmedins_code": g.fixmedins_code, "year": g.year, "score": g.score,
                                "grade": g.grade, "detail": g.deductions} for g in graded])
    return graded


def staff_qualification(url: str | None, person_id: str, on: dt.date, params: Params | None = None) -> Qualification:
    params = params or shipped_params()
    with repo.unit(url) as conn:
        return qualification(person_id, repo.points_events(conn, person_id), on, params)


__all__ = ["add_report", "decide_report", "grade_year", "move_case", "open_case", "reward_report",
           "staff_qualification"]
