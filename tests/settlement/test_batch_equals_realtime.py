"""One rule, two speeds: a batch year gives the same fen as settling the claims one by one in real time."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from hypothesis import given, settings, strategies as st

from yibao.policy import load_pack
from yibao.settlement import settle, settle_frame
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.settlement.statement import check_conservation
from yibao.settlement.synthetic import claims_frames, random_claims


def sequential(claims, pack):
    """Settle claims one at a time, carrying each person's accumulators and balances forward."""
    state: dict[str, tuple[int, dict, int, int]] = {}
    out = {}
    for c in claims:
        c = copy.deepcopy(c)
        p = c.person
        year = c.dscg_date.year
        if p.psn_no in state:
            y, acc, bal, fam = state[p.psn_no]
            p.accumulators = acc if y == year else {}
            p.account_balance, p.family_account_balance = bal, fam
        s = settle(c, pack)
        state[p.psn_no] = (year, s.accumulators, s["balc"], p.family_account_balance - s["acct_mulaid_pay"])
        out[c.claim_id] = s.setlinfo
    return out


def compare(claims, pack, chunk=1_000_000):
    f, lines = claims_frames(claims)
    batch = settle_frame(f, lines, pack, chunk=chunk)
    seq = sequential(claims, pack)
    assert len(batch) == len(seq)
    for row in batch.to_dict("records"):
        check_conservation({k: int(row[k]) for k in SETLINFO_FIELDS}, row["claim_id"])
        expected = seq[row["claim_id"]]
        got = {k: int(row[k]) for k in SETLINFO_FIELDS}
        assert got == expected, row["claim_id"]
    return batch


@pytest.mark.parametrize("pack", ["demo", "shenyang", "zibo", "linyi", "chengdu"])
def test_batch_equals_realtime_fixed_seed(pack):
    claims = random_claims(random.Random(7), n_persons=15, max_claims=10, year=2025)
    batch = compare(claims, load_pack(pack), chunk=17)  # small chunks, cut at person boundaries
    assert batch["fund_pay_sumamt"].sum() > 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), pack=st.sampled_from(["demo", "zibo", "linyi", "chengdu"]))
def test_batch_equals_realtime_property(seed, pack):
    compare(random_claims(random.Random(seed), n_persons=6, max_claims=9, year=2025), load_pack(pack))


def test_batch_equals_realtime_across_a_parameter_change():
    """临沂's rules change on 2024-11-15: a 2024 year runs under two plans in one batch."""
    pack = load_pack("linyi")
    assert dt.date(2024, 11, 15) in pack.change_dates()
    claims = random_claims(random.Random(11), n_persons=12, max_claims=10, year=2024)
    assert any(c.dscg_date >= dt.date(2024, 11, 15) for c in claims)
    compare(claims, pack, chunk=23)
