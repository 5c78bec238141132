"""Cases: every move and refusal, the deadlines in working days, and the store all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from yibao.errors import NotFoundError, ValidationError
from yibao.supervision.regulator import repository as repo
from yibao.supervision.regulator.calendar import add_working_days
from yibao.supervision.regulator.cases import Action, CaseFile, move, open_clue
from yibao.supervision.regulator.params import shipped_params
from yibao.supervision.regulator.service import move_case, open_case

P = shipped_params()
D = dt.date


def test_working_days_skip_weekends():
    assert add_working_days(D(2026, 12, 4), 1) == D(2026, 12, 7)  # Friday + 1 → Monday
    assert add_working_days(D(2026, 12, 5), 1) == D(2026, 12, 7)  # Saturday + 1 → Monday
    assert add_working_days(D(2026, 12, 1), 15) == D(2026, 12, 22)  # Tuesday + 15 → three weeks on
    assert add_working_days(D(2026, 12, 7), 0) == D(2026, 12, 7)
    assert add_working_days(D(2026, 12, 4), 1, holidays={D(2026, 12, 7)}) == D(2026, 12, 8)


def test_the_clue_dates_the_filing_deadline_in_working_days():
    step = open_clue("AJ1", "rule_hit", "institution", "H1", D(2026, 12, 4), P)
    assert (step.state, step.due) == ("clue", D(2026, 12, 25))  # Friday + 15 working days


def case_at(state, since=D(2026, 12, 1), due=D(2026, 12, 22)):
    return CaseFile("AJ1", state, since, due)


def test_the_moves_in_order_and_their_deadlines():
    checking = move(case_at("clue"), "checking", D(2026, 12, 2), P)
    assert checking.due == D(2026, 12, 22)  # 核查 keeps the clue's 立案 deadline
    filed = move(case_at("checking"), "filed", D(2026, 12, 10), P)
    assert filed.due == D(2026, 12, 10) + dt.timedelta(days=90)
    handled = move(case_at("filed", D(2026, 12, 10), D(2027, 3, 10)), "handled", D(2027, 1, 5), P,
                   actions=(Action("recover", 100_000, fund="310100"),))
    assert handled.due == D(2027, 3, 6)
    closed = move(case_at("handled", D(2027, 1, 5), D(2027, 3, 6)), "closed", D(2027, 1, 20), P)
    assert (closed.state, closed.due) == ("closed", None)
    assert move(case_at("checking"), "dropped", D(2026, 12, 3), P, reason="查无实据").state == "dropped"


@pytest.mark.parametrize("state, to", [("clue", "filed"), ("clue", "handled"), ("checking", "closed"),
                                       ("filed", "closed"), ("closed", "checking"), ("dropped", "filed")])
def test_a_move_out_of_order_is_refused_naming_the_case(state, to):
    with pytest.raises(ValidationError, match=r"case AJ1: to: a case at") as e:
        move(case_at(state), to, D(2026, 12, 5), P)
    assert e.value.field == "to"


def test_an_unknown_state_is_refused():
    with pytest.raises(ValidationError, match="'settled' is not one of"):
        move(case_at("clue"), "settled", D(2026, 12, 5), P)


def test_a_move_dated_before_the_current_state_is_refused():
    with pytest.raises(ValidationError, match="date: 2026-11-30 is before the case took clue on 2026-12-01"):
        move(case_at("clue"), "checking", D(2026, 11, 30), P)


def test_past_the_deadline_a_move_needs_a_reason():
    late = D(2026, 12, 23)
    with pytest.raises(ValidationError, match="reason: 立案 was due by 2026-12-22; moving on 2026-12-23 needs a reason"):
        move(case_at("checking"), "filed", late, P)
    with pytest.raises(ValidationError, match="needs a reason"):
        move(case_at("checking"), "filed", late, P, reason="   ")
    step = move(case_at("checking"), "filed", late, P, reason="经负责人批准延长十五个工作日")
    assert step.reason == "经负责人批准延长十五个工作日"
    assert move(case_at("checking"), "filed", D(2026, 12, 22), P).reason is None  # on the last day: in time


def handled(*actions):
    return move(case_at("filed", D(2026, 12, 10), D(2027, 3, 10)), "handled", D(2027, 1, 5), P, actions=actions)


def test_handling_needs_valid_measures():
    with pytest.raises(ValidationError, match="actions: 处理 needs at least one measure"):
        handled()
    with pytest.raises(ValidationError, match="action 1: fund: '999999' is not one of"):
        handled(Action("recover", 100, fund="999999"))
    with pytest.raises(ValidationError, match="action 1: amount: 追回 needs an amount above 0"):
        handled(Action("recover", 0, fund="310100"))
    with pytest.raises(ValidationError, match="action 1: months"):
        handled(Action("suspend", months=0))
    with pytest.raises(ValidationError, match="action 1: points: one 记分 is 1 to 12 points, got 13"):
        handled(Action("points", person_id="D001", role="doctor", points=13))
    with pytest.raises(ValidationError, match="action 1: role"):
        handled(Action("points", person_id="D001", role="cleaner", points=3))
    with pytest.raises(ValidationError, match="actions: measures are taken at 处理"):
        move(case_at("checking"), "filed", D(2026, 12, 10), P, actions=(Action("terminate"),))


def test_a_fine_lies_within_the_regulations_multiples_of_the_loss():
    recover = Action("recover", 100_000, fund="310100")
    assert handled(recover, Action("fine", 100_000, basis="violation"), Action("fine", 200_000, basis="violation"))
    assert handled(recover, Action("fine", 500_000, basis="fraud"))
    with pytest.raises(ValidationError, match=r"action 2: amount: a fine for 违规使用.* is 1–2× the 100000 fen "
                                              r"recovered \(100000–200000 fen\), got 200001"):
        handled(recover, Action("fine", 200_001, basis="violation"))
    with pytest.raises(ValidationError, match="2–5×"):
        handled(recover, Action("fine", 199_999, basis="fraud"))
    with pytest.raises(ValidationError, match="record the 追回 of the same 处理"):
        handled(Action("fine", 100, basis="fraud"))
    with pytest.raises(ValidationError, match="basis"):
        handled(recover, Action("fine", 100_000, basis="whim"))


def test_a_clue_needs_a_known_source_and_subject():
    with pytest.raises(ValidationError, match="case AJ1: source: 'rumour' is not one of"):
        open_clue("AJ1", "rumour", "institution", "H1", D(2026, 12, 1), P)
    with pytest.raises(ValidationError, match="subject_id: is empty"):
        open_clue("AJ1", "report", "institution", " ", D(2026, 12, 1), P)


# ---- in the store ----

def test_a_case_through_every_state_in_the_store(url):
    no = open_case(url, "rule_hit", "institution", "H37030200001", D(2026, 12, 1), source_ref="SV-SPL-01",
                   evidence=[("hit", "C000123/SV-SPL-01", "15日内再入院")])
    assert no == "AJ2026000001"
    assert open_case(url, "sample", "institution", "H2", D(2026, 12, 2)) == "AJ2026000002"
    move_case(url, no, "checking", D(2026, 12, 2))
    move_case(url, no, "filed", D(2026, 12, 18), evidence=[("document", "沈医保立〔2026〕12号", None)])
    move_case(url, no, "handled", D(2027, 1, 5), actions=(
        Action("recover", 1_500_000, fund="310100"), Action("recover", 200_000, fund="390100"),
        Action("recover", 300_000, fund="310100"), Action("fine", 2_000_000, basis="violation"),
        Action("suspend", months=3), Action("points", person_id="D001", role="doctor", points=6)))
    move_case(url, no, "closed", D(2027, 2, 1))
    with repo.unit(url) as conn:
        c = repo.case(conn, no)
        ledger = repo.recovered(conn, no)
        inst_events = [e["kind"] for e in repo.events(conn, "institution", "H37030200001")]
        doctor = repo.points_events(conn, "D001")
        assert [s["state"] for s in c["steps"]] == ["clue", "checking", "filed", "handled", "closed"]
        assert [s["on_date"] for s in c["steps"]][2] == D(2026, 12, 18)
        assert c["steps"][0]["due"] == D(2026, 12, 22) and c["steps"][2]["due"] == D(2027, 3, 18)
        assert (c["state"], c["fixmedins_code"]) == ("closed", "H37030200001")
        assert [(e["kind"], e["ref"]) for e in c["evidence"]] == [("hit", "C000123/SV-SPL-01"),
                                                                 ("document", "沈医保立〔2026〕12号")]
        assert ledger == [{"case_no": no, "fund": "310100", "amount_fen": 1_800_000},
                          {"case_no": no, "fund": "390100", "amount_fen": 200_000}]
        assert inst_events == ["case_filed", "recovery", "fine", "suspend"]
        assert doctor == [(D(2027, 1, 5), 6)]
        assert [x["case_no"] for x in repo.cases(conn, state="clue")] == ["AJ2026000002"]


def test_a_refused_move_writes_nothing(url):
    no = open_case(url, "report", "institution", "H1", D(2026, 12, 1))
    move_case(url, no, "checking", D(2026, 12, 2))
    move_case(url, no, "filed", D(2026, 12, 3))
    with pytest.raises(ValidationError, match="action 2: amount"):
        move_case(url, no, "handled", D(2027, 1, 5), actions=(Action("recover", 100, fund="310100"),
                                                             Action("fine", 1, basis="fraud")))
    with pytest.raises(ValidationError, match="needs a reason"):
        move_case(url, no, "handled", D(2027, 6, 5), actions=(Action("terminate"),))
    with repo.unit(url) as conn:
        c = repo.case(conn, no)
        assert (c["state"], len(c["steps"]), c["actions"]) == ("filed", 3, [])
        assert repo.recovered(conn) == [] and [e["kind"] for e in repo.events(conn, "institution", "H1")] == ["case_filed"]


def test_unknown_case_and_taken_number(url):
    with pytest.raises(NotFoundError, match="case 'AJ9' not found"):
        move_case(url, "AJ9", "checking", D(2026, 12, 2))
    open_case(url, "report", "institution", "H1", D(2026, 12, 1), case_no="X1")
    with pytest.raises(ValidationError, match="case X1: case_no: is taken"):
        open_case(url, "report", "institution", "H1", D(2026, 12, 1), case_no="X1")
    with pytest.raises(ValidationError, match="evidence: kind 'rumour'"):
        open_case(url, "report", "institution", "H1", D(2026, 12, 1), evidence=[("rumour", "x", None)])


def test_a_store_without_the_tables_is_named(tmp_path):
    with pytest.raises(ValidationError, match="run `yibao db upgrade` first"):
        open_case(f"sqlite:///{tmp_path / 'empty.db'}", "report", "institution", "H1", D(2026, 12, 1))
