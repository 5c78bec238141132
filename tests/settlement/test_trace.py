"""The statement's trace says each figure in its own unit and cites what produced it."""

from __future__ import annotations

import copy

from yibao.settlement import claim_from, settle
from yibao.settlement.cli import print_statement
from yibao.settlement.synthetic import restricted_catalog
from yibao.console import new_console

STAY = {"claim_id": "C1", "person": {"psn_no": "P1", "insutype": "310", "psn_type": "11", "age": 45},
        "institution": {"level": "3"}, "med_type": "21", "adm_date": "2024-11-20", "dscg_date": "2024-11-28",
        "lines": [{"class": "A", "amount": "20000"}]}


def second_stay(pack: str):
    first = settle(claim_from(STAY), pack)
    doc = copy.deepcopy(STAY)
    doc["claim_id"], doc["adm_date"], doc["dscg_date"] = "C2", "2024-12-01", "2024-12-05"
    doc["person"]["accumulators"] = first.accumulators
    return settle(claim_from(doc), pack)


def by_field(s, field):
    return [e for e in s.trace if e.field == field]


def test_the_stay_number_is_a_count_not_yuan():
    s = second_stay("demo")
    (stay,) = by_field(s, "stays")
    assert stay.unit == "count" and stay.amount == 2 and stay.shown() == "2"
    con = new_console()
    with con.capture() as cap:
        print_statement(s, con)
    row = next(line for line in cap.get().splitlines() if line.strip("│ ").startswith("stays"))
    assert " 2 " in row and "count" in row and "0.02" not in row


def test_the_nth_stay_deductible_is_cited_under_the_deductible():
    s = second_stay("linyi")  # 临沂: the second stay's deductible is halved
    assert any(e.parameter == "benefits.pooling.nth_stay" for e in by_field(s, "act_pay_dedc"))
    assert not any(e.parameter == "benefits.pooling.nth_stay" for e in by_field(s, "hifp_pay"))


def test_preselfpay_cites_the_default_ratio_only_where_it_was_used():
    cat = restricted_catalog()
    doc = copy.deepcopy(STAY)
    doc["lines"] = [{"item_code": "B-30", "amount": "40"}]  # the item's own 30%
    (own,) = by_field(settle(claim_from(doc), "demo", cat), "preselfpay_amt")
    assert own.parameter == "catalog" and "own catalog ratios" in own.en
    doc["lines"] = [{"item_code": "B-NONE", "amount": "100"}]  # no ratio of its own: the pack's 10%
    (default,) = by_field(settle(claim_from(doc), "demo", cat), "preselfpay_amt")
    assert default.parameter == "benefits.scope.default_preselfpay" and default.ref


def test_no_cap_is_said_as_such():
    doc = copy.deepcopy(STAY)
    doc["person"] = {"psn_no": "P1", "insutype": "390", "psn_type": "15", "age": 50, "identities": ["tekun"]}
    doc["lines"] = [{"class": "A", "amount": "300000"}]
    s = settle(claim_from(doc), "shenyang")  # 沈阳: 大病 for 特困 without a cap
    mi = next(d for d in s.setldetail if d.fund_pay_type == "390200")
    assert mi.crt_payb_lmt_amt is None
    con = new_console()
    with con.capture() as cap:
        print_statement(s, con)
    assert "不封顶 no cap" in cap.get() and "10000000000000" not in cap.get()


def test_lines_at_their_own_fund_rate_are_said_in_the_trace():
    doc = copy.deepcopy(STAY)
    doc["lines"] = [{"class": "A", "amount": "10000"}, {"class": "A", "amount": "20000", "fund_rate": "70%"}]
    s = settle(claim_from(doc), "demo")
    assert any("own fund rates" in e.en and "20000.00" in e.en for e in by_field(s, "hifp_pay"))
