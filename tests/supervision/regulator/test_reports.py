"""举报: required fields, the acceptance deadline, the case it becomes and the reward's floor and cap."""

from __future__ import annotations

import datetime as dt

import pytest

from yibao.errors import ValidationError
from yibao.supervision.regulator import repository as repo
from yibao.supervision.regulator.cases import Action
from yibao.supervision.regulator.params import shipped_params
from yibao.supervision.regulator.reports import Report, intake, reward
from yibao.supervision.regulator.service import add_report, decide_report, move_case, reward_report

P = shipped_params()
D = dt.date
FACTS = "2026年11月该院为未住院的参保人办理住院并收取床位费"


def named(**kw) -> Report:
    base = dict(report_no="JB1", received_on=D(2026, 12, 4), subject_kind="institution", subject_id="H1",
                facts=FACTS, informant="李明", contact="13800000000")
    return Report(**{**base, **kw})


def test_the_acceptance_deadline_is_15_working_days():
    assert intake(named(), P) == D(2026, 12, 25)
    assert intake(named(informant=None, contact=None, anonymous=True), P) == D(2026, 12, 25)


@pytest.mark.parametrize("kw, field", [
    ({"subject_id": ""}, "subject_id"), ({"subject_kind": "hospitalx"}, "subject_kind"), ({"facts": "骗保"}, "facts"),
    ({"contact": ""}, "contact"), ({"informant": None}, "contact"), ({"anonymous": True}, "informant"),
])
def test_a_report_without_a_required_field_is_refused_naming_it(kw, field):
    with pytest.raises(ValidationError) as e:
        intake(named(**kw), P)
    assert (e.value.field, e.value.record) == (field, "report JB1")


def test_the_reward_is_a_share_of_the_recovery_between_floor_and_cap():
    assert reward(named(), 5_000_000, P) == 100_000  # 2% of 5万元 = 1000元
    assert reward(named(), 100_000, P) == 20_000  # 2% of 1000元 is 20元: the floor, 200元
    assert reward(named(), 2_000_000_000, P) == 20_000_000  # 2% of 2000万元 is 40万元: the cap, 20万元
    with pytest.raises(ValidationError, match="anonymous: an anonymous 举报 is not rewarded"):
        reward(named(informant=None, contact=None, anonymous=True), 5_000_000, P)
    with pytest.raises(ValidationError, match="recovered: the case recovered no money"):
        reward(named(), 0, P)


def test_a_report_becomes_a_case_and_is_rewarded_after_closing(url):
    r = add_report(url, named(report_no=""))
    assert r.report_no == "JB2026000001"
    no = decide_report(url, r.report_no, True, D(2026, 12, 8))
    with pytest.raises(ValidationError, match="state: the report was already decided"):
        decide_report(url, r.report_no, True, D(2026, 12, 9))
    with pytest.raises(ValidationError, match=f"case: case {no} is at clue: the reward follows 结案"):
        reward_report(url, r.report_no)
    move_case(url, no, "checking", D(2026, 12, 9))
    move_case(url, no, "filed", D(2026, 12, 10))
    move_case(url, no, "handled", D(2027, 1, 5), actions=(Action("recover", 4_000_000, fund="310100"),
                                                         Action("recover", 1_000_000, fund="390100")))
    move_case(url, no, "closed", D(2027, 1, 20))
    assert reward_report(url, r.report_no) == 100_000
    with pytest.raises(ValidationError, match="this one is rewarded"):
        reward_report(url, r.report_no)
    with repo.unit(url) as conn:
        row, case = repo.report(conn, r.report_no), repo.case(conn, no)
        assert (row["state"], row["case_no"], row["reward_fen"], row["accept_by"]) == ("rewarded", no, 100_000,
                                                                                      D(2026, 12, 25))
        assert (case["source"], case["source_ref"], case["steps"][0]["on_date"]) == ("report", r.report_no,
                                                                                    D(2026, 12, 8))


def test_report_decisions_refused(url):
    add_report(url, named())
    with pytest.raises(ValidationError, match="reason: 不予受理 needs its reason"):
        decide_report(url, "JB1", False, D(2026, 12, 8))
    with pytest.raises(ValidationError, match="reason: the decision was due by 2026-12-25"):
        decide_report(url, "JB1", True, D(2026, 12, 28))
    with pytest.raises(ValidationError, match="date: 2026-12-01 is before the report was received"):
        decide_report(url, "JB1", True, D(2026, 12, 1))
    with pytest.raises(ValidationError, match="report JB1: report_no: is taken"):
        add_report(url, named())
    assert decide_report(url, "JB1", False, D(2026, 12, 28), reason="不属于医保基金使用范围，逾期因材料补正") is None
    with repo.unit(url) as conn:
        assert repo.report(conn, "JB1")["state"] == "rejected" and repo.cases(conn) == []
