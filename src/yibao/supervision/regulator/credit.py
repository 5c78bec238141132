"""Credit (信用): institutions graded A–E from their year's events, and staff's 12-point 医保支付资格 scores.

Pure. :func:`grade_institution` scores an institution's year from 100 by the table in ``regulator.yaml``
(cases filed, money recovered, agreement suspended, the share of claims with a 明确违规 hit); a terminated
agreement is E. :func:`qualification` is a doctor's or pharmacist's 医保支付资格 on a date
(医保发〔2024〕23号): the points of that calendar year (reset every 1 January), suspended at 9, terminated
at 12, and barred from registering again for 1 year after a termination (3 years when one event scored 12).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from yibao.supervision.regulator.params import Params

GRADE_ORDER = ("A", "B", "C", "D")  # floors from regulator.yaml; below D's is E
_TEN_THOUSAND_YUAN = 1_000_000  # fen


@dataclass(frozen=True)
class InstitutionYear:
    """What happened to an institution in a year: its claims, those with a sev_deg 1 hit, cases filed,
    fen recovered, and whether its agreement was suspended or terminated."""

    fixmedins_code: str
    year: int
    claims: int = 0
    sev1_claims: int = 0
    cases_filed: int = 0
    recovered_fen: int = 0
    suspended: bool = False
    terminated: bool = False


@dataclass(frozen=True)
class Grade:
    fixmedins_code: str
    year: int
    score: int
    grade: str
    deductions: dict = field(hash=False)


def grade_institution(y: InstitutionYear, params: Params) -> Grade:
    """The year's score (start − deductions, not below 0) and its grade."""
    recovered = min(y.recovered_fen // _TEN_THOUSAND_YUAN * params["credit.recovered_points_per_10k_yuan"],
                    params["credit.recovered_points_cap"])
    share_pct = (100 * y.sev1_claims // y.claims) if y.claims else 0
    deductions = {
        "cases_filed": y.cases_filed * params["credit.case_filed_points"],
        "recovered": recovered,
        "suspended": params["credit.suspended_points"] if y.suspended else 0,
        "sev1_hit_share": share_pct * params["credit.sev1_hit_share_points_per_percent"],
    }
    score = max(0, params["credit.start_score"] - sum(deductions.values()))
    return Grade(y.fixmedins_code, y.year, score, "E" if y.terminated else grade_of(score, params), deductions)


def grade_of(score: int, params: Params) -> str:
    floors = params["credit.grade_floors"]
    return next((g for g in GRADE_ORDER if score >= floors[g]), "E")


@dataclass(frozen=True)
class Qualification:
    """医保支付资格 of one staff member on a date: the year's points, the status and until when a bar runs."""

    person_id: str
    on: dt.date
    points: int
    status: str  # active / suspended / terminated
    barred_until: dt.date | None = None


def qualification(person_id: str, events: list[tuple[dt.date, int]], on: dt.date, params: Params) -> Qualification:
    """The status on ``on`` from the dated 记分 events (those after ``on`` are ignored)."""
    barred_until = _bar(events, on, params)
    year_points = sum(p for d, p in events if d.year == on.year and d <= on)
    if barred_until is not None and barred_until >= on:
        return Qualification(person_id, on, year_points, "terminated", barred_until)
    status = "suspended" if year_points >= params["points.suspend_at"] else "active"
    return Qualification(person_id, on, year_points, status)


def _bar(events: list[tuple[dt.date, int]], on: dt.date, params: Params) -> dt.date | None:
    """The end of the latest re-registration bar: each year's running total reaching 12 terminates."""
    bar = None
    for year in sorted({d.year for d, _ in events if d <= on}):
        total = 0
        for d, p in sorted((d, p) for d, p in events if d.year == year and d <= on):
            total += p
            if total >= params["points.terminate_at"]:
                single = p >= params["points.terminate_at"]
                years = params["points.bar_years_single_event" if single else "points.bar_years"]
                end = _add_years(d, years)
                bar = end if bar is None or end > bar else bar
                break
    return bar


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


__all__ = ["GRADE_ORDER", "Grade", "InstitutionYear", "Qualification", "grade_institution", "grade_of",
           "qualification"]
