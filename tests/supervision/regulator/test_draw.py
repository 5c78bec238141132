"""双随机: reproducible by seed, worse grades drawn more, no inspector where they have a conflict, quotas."""

from __future__ import annotations

from collections import Counter

import pytest

from yibao.errors import ValidationError
from yibao.supervision.regulator.draw import Inspector, draw_inspections
from yibao.supervision.regulator.params import shipped_params

P = shipped_params()
FRAME = {f"H{n:03d}": g for n, g in enumerate("ABCDE" * 20)}
TEAM = [Inspector(f"I{n}", f"检查员{n}", frozenset({f"H{n:03d}"})) for n in range(6)]


def test_the_same_seed_gives_the_same_list():
    assert draw_inspections(FRAME, 10, TEAM, 7, P) == draw_inspections(FRAME, 10, TEAM, 7, P)
    assert draw_inspections(FRAME, 10, TEAM, 7, P) != draw_inspections(FRAME, 10, TEAM, 8, P)
    assert draw_inspections(dict(reversed(FRAME.items())), 10, TEAM, 7, P) == draw_inspections(FRAME, 10, TEAM, 7, P)


def test_worse_grades_are_drawn_more():
    counts = Counter(p.grade for seed in range(300) for p in draw_inspections(FRAME, 10, TEAM, seed, P))
    assert counts["E"] > counts["D"] > counts["C"] > counts["B"] > counts["A"]


def test_no_inspector_where_they_have_a_conflict_and_teams_of_two():
    for seed in range(50):
        for p in draw_inspections(FRAME, 20, TEAM, seed, P):
            assert len(p.inspectors) == 2 and len(set(p.inspectors)) == 2
            assert all(p.fixmedins_code not in i.conflicts for i in TEAM if i.inspector_id in p.inspectors)


def test_the_work_spreads_over_the_inspectors():
    load = Counter(i for p in draw_inspections(FRAME, 30, TEAM, 3, P) for i in p.inspectors)
    assert max(load.values()) - min(load.values()) <= 1


def test_a_frame_that_cannot_meet_its_quota_is_refused():
    with pytest.raises(ValidationError, match="draw: quota: 101 institutions asked of a frame of 100"):
        draw_inspections(FRAME, 101, TEAM, 1, P)
    with pytest.raises(ValidationError, match="quota: draw at least one"):
        draw_inspections(FRAME, 0, TEAM, 1, P)
    conflicted = [Inspector("I1", "甲", frozenset({"H000"})), Inspector("I2", "乙"), Inspector("I3", "丙", frozenset({"H000"}))]
    with pytest.raises(ValidationError, match="institution H000: inspectors: 1 inspectors without a conflict here, a team needs 2"):
        draw_inspections({"H000": "A"}, 1, conflicted, 1, P)
    with pytest.raises(ValidationError, match="institution H1: grade: 'F' has no draw weight"):
        draw_inspections({"H1": "F"}, 1, TEAM, 1, P)
    with pytest.raises(ValidationError, match="inspector_id: an inspector is listed twice"):
        draw_inspections(FRAME, 1, TEAM + TEAM[:1], 1, P)
