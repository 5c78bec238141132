"""Credit: institution grades from hand-built events, and the 12-point 医保支付资格 with its yearly reset."""

from __future__ import annotations

import datetime as dt

from yibao.supervision.regulator import repository as repo
from yibao.supervision.regulator.cases import Action
from yibao.supervision.regulator.credit import InstitutionYear, grade_institution, qualification
from yibao.supervision.regulator.params import shipped_params
from yibao.supervision.regulator.service import grade_year, move_case, open_case, staff_qualification

P = shipped_params()
D = dt.date


def test_a_clean_year_is_a():
    g = grade_institution(InstitutionYear("H1", 2026, claims=1000), P)
    assert (g.score, g.grade) == (100, "A")


def test_grades_from_events():
    # one case (−10) and 35,000 yuan recovered (−3): 87 → B
    assert grade_institution(InstitutionYear("H1", 2026, 1000, 0, 1, 3_500_000), P).grade == "B"
    # two cases (−20), 4% of claims with a sev 1 hit (−8): 72 → C
    g = grade_institution(InstitutionYear("H1", 2026, 1000, 40, 2), P)
    assert (g.score, g.grade, g.deductions["sev1_hit_share"]) == (72, "C", 8)
    # suspended (−20), one case (−10), recoveries capped at −30: 40 → E
    g = grade_institution(InstitutionYear("H1", 2026, 100, 0, 1, 900_000_000, suspended=True), P)
    assert (g.score, g.grade, g.deductions["recovered"]) == (40, "E", 30)
    assert grade_institution(InstitutionYear("H1", 2026, 100, 0, 0, 0, terminated=True), P).grade == "E"
    assert grade_institution(InstitutionYear("H1", 2026, 100, 0, 3), P).grade == "C"  # 70: C's floor
    assert grade_institution(InstitutionYear("H1", 2026, 100, 0, 4), P).grade == "D"  # 60


def test_points_suspend_at_9_and_reset_each_year():
    events = [(D(2026, 3, 1), 4), (D(2026, 6, 1), 5)]
    assert qualification("D1", events, D(2026, 5, 1), P).status == "active"
    q = qualification("D1", events, D(2026, 6, 1), P)
    assert (q.points, q.status) == (9, "suspended")
    q = qualification("D1", events, D(2027, 1, 1), P)
    assert (q.points, q.status) == (0, "active")  # the yearly reset


def test_twelve_points_terminate_with_a_bar():
    events = [(D(2026, 3, 1), 6), (D(2026, 9, 1), 6)]
    q = qualification("D1", events, D(2027, 2, 1), P)
    assert (q.points, q.status, q.barred_until) == (0, "terminated", D(2027, 9, 1))  # 1 year from 终止
    assert qualification("D1", events, D(2027, 9, 2), P).status == "active"
    once = qualification("D1", [(D(2026, 3, 1), 12)], D(2028, 12, 31), P)
    assert (once.status, once.barred_until) == ("terminated", D(2029, 3, 1))  # 12 at one go: 3 years
    split = [(D(2026, 12, 1), 8), (D(2027, 1, 10), 8)]  # 16 points, but across the reset: never 12 in a year
    assert qualification("D1", split, D(2027, 1, 10), P).status == "active"


def test_grades_and_points_from_cases_in_the_store(url):
    no = open_case(url, "rule_hit", "doctor", "D001", D(2026, 3, 2), fixmedins_code="H2")
    move_case(url, no, "checking", D(2026, 3, 3))
    move_case(url, no, "filed", D(2026, 3, 10))
    move_case(url, no, "handled", D(2026, 4, 1), actions=(Action("recover", 5_000_000, fund="310100"),
                                                         Action("points", person_id="D001", role="doctor", points=10)))
    graded = {g.fixmedins_code: g for g in grade_year(url, 2026, {"H1": (500, 0), "H2": (800, 16)})}
    assert (graded["H1"].grade, graded["H2"].score, graded["H2"].grade) == ("A", 100 - 10 - 5 - 4, "B")
    assert staff_qualification(url, "D001", D(2026, 4, 1)).status == "suspended"
    assert staff_qualification(url, "D001", D(2027, 1, 1)).status == "active"
    grade_year(url, 2026, {"H2": (800, 0)})  # re-graded: the new grading replaces the whole year
    with repo.unit(url) as conn:
        rows = repo.grades(conn, 2026)
        doctor = [e["kind"] for e in repo.events(conn, "doctor", "D001")]
    assert [(r["fixmedins_code"], r["grade"], r["score"]) for r in rows] == [("H2", "B", 85)]
    assert doctor == ["case_filed", "points"]
