"""Hypothesis invariants over random claims: conservation, nothing negative, caps kept, and a larger
bill never lowers what the person pays."""

from __future__ import annotations

import copy
import random

from hypothesis import given, settings, strategies as st

from yibao.policy import load_pack
from yibao.settlement import settle
from yibao.settlement.model import SETLINFO_AMOUNTS
from yibao.settlement.realtime import claim_inputs
from yibao.settlement.statement import check_conservation
from yibao.settlement.synthetic import random_claims

PACKS = ["demo", "shenyang", "zibo", "linyi", "chengdu"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), pack=st.sampled_from(PACKS))
def test_conservation_and_caps_over_a_year(seed, pack):
    pack = load_pack(pack)
    acc: dict[str, dict] = {}
    for c in random_claims(random.Random(seed), n_persons=3, max_claims=8, year=2025):
        c.person.accumulators = acc.get(c.person.psn_no, {})
        s = settle(c, pack)
        check_conservation(s.setlinfo, c.claim_id)
        assert all(s[k] >= 0 for k in SETLINFO_AMOUNTS)
        assert sum(d.fund_payamt for d in s.setldetail) == s["fund_pay_sumamt"]
        assert s["act_pay_dedc"] + s["hifp_pay"] <= s["inscp_scp_amt"]
        assert s["balc"] == c.person.account_balance - s["acct_pay"]
        v = claim_inputs(c, pack).kinds[0].values
        # no cap exceeded: the running totals after the claim stay within the caps
        cap_key = [k for k in s.accumulators if k.startswith("cap:")]
        for k in cap_key:
            if k == _cap_name(v):
                assert s.accumulators[k] <= v["cap"]
        assert s.accumulators.get("hifmi.paid", 0) <= v["mi_cap"]
        assert s.accumulators.get("maf.paid", 0) <= max(v["maf_limit"], 0) or not v["maf_on"]
        assert s.accumulators.get("hifob.paid", 0) <= v["ob_cap"] or not v["ob_shape"]
        assert s.accumulators.get("hifes.paid", 0) <= v["es_cap"] or not v["es_on"]
        assert s["hosp_part_amt"] == 0 or v["ceil_payer"] == 1  # only a hospital-borne ceiling
        acc[c.person.psn_no] = s.accumulators


def _cap_name(v):
    from yibao.settlement.plan import group_name

    return group_name(v["cap_group"])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), extra=st.integers(1, 5_000_000), pack=st.sampled_from(PACKS))
def test_larger_bill_never_lowers_what_the_person_pays(seed, extra, pack):
    pack = load_pack(pack)
    rng = random.Random(seed)
    claims = random_claims(rng, n_persons=1, max_claims=3, year=2025)
    c = claims[-1]
    c.person.accumulators = {"stays": rng.randint(0, 3), "cap:pooling": rng.choice([0, 14_000_000]),
                             "hifmi.base": rng.choice([0, 2_000_000])}
    base = settle(copy.deepcopy(c), pack)
    bigger = copy.deepcopy(c)
    line = rng.randrange(len(bigger.lines))
    bigger.lines[line].amount += extra
    more = settle(bigger, pack)
    assert more["psn_part_amt"] >= base["psn_part_amt"]
    assert more["medfee_sumamt"] == base["medfee_sumamt"] + extra
