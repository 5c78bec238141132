"""The pure position arithmetic: apply then undo gives back the position; no overdraft."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from yibao.ledger.position import Change, OverdraftError, Position, apply, change_of, undo
from yibao.settlement.model import Statement

keys = st.sampled_from(["stays", "cap:pooling", "hifmi.paid", "ded:outpatient"])


@given(st.dictionaries(keys, st.integers(0, 10**9)), st.dictionaries(keys, st.integers(0, 10**6)),
       st.integers(0, 10**7), st.integers(0, 10**7))
def test_apply_then_undo_restores(acc, delta, account, family):
    pos = Position(acc, account + 5, family + 5)
    change = Change(delta, min(account, 5), min(family, 5))
    moved = apply(pos, change)
    back = undo(moved, change)
    assert back.account == pos.account and back.family == pos.family
    assert {k: v for k, v in back.accumulators.items() if v} == {k: v for k, v in acc.items() if v}


def test_overdraft_refused():
    with pytest.raises(OverdraftError):
        apply(Position({}, 100, 0), Change({}, 101, 0))
    with pytest.raises(OverdraftError):
        undo(Position({"stays": 0}, 0, 0), Change({"stays": 1}, 0, 0))


def test_change_of_a_statement():
    setl = {"acct_pay": 300, "acct_mulaid_pay": 20}
    s = Statement("C1", "P1", "310", "11", "11", setl, [], {"stays": 1, "cap:pooling": 5000}, [])
    change = change_of(Position({"cap:pooling": 1000}, 1000, 100), s)
    assert change == Change({"cap:pooling": 4000, "stays": 1}, 300, 20)
    assert apply(Position({"cap:pooling": 1000}, 1000, 100), change) == Position({"cap:pooling": 5000, "stays": 1}, 700, 80)
