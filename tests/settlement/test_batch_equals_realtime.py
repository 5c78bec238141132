"""One rule, two speeds: a batch year gives the same fen as settling the claims one by one in real time."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from hypothesis import given, settings, strategies as st

from yibao.policy import load_pack
import pandas as pd

from yibao.errors import ValidationError
from yibao.settlement import settle, settle_batch, settle_frame
from yibao.settlement.model import SETLINFO_FIELDS, Claim, Institution, Line, Person
from yibao.settlement.statement import check_conservation
from yibao.settlement.synthetic import claims_frames, random_claims, restricted_catalog


def sequential(claims, pack, closing=None, catalog=None):
    """Settle claims one at a time, carrying each person's accumulators and balances forward; the
    accumulators after each person-year's last claim go to ``closing`` (psn_no, year) → dict."""
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
        s = settle(c, pack, catalog)
        state[p.psn_no] = (year, s.accumulators, s["balc"], p.family_account_balance - s["acct_mulaid_pay"])
        out[c.claim_id] = s.setlinfo
        if closing is not None:
            closing[(p.psn_no, year)] = {k: v for k, v in s.accumulators.items() if v}
    return out


def as_dicts(acc: pd.DataFrame) -> dict:
    out: dict = {}
    for psn, year, key, amount in acc[["psn_no", "year", "key", "amount_fen"]].itertuples(index=False, name=None):
        out.setdefault((psn, int(year)), {})[key] = int(amount)
    return out


def compare(claims, pack, chunk=1_000_000, catalog=None):
    f, lines = claims_frames(claims)
    batch, acc = settle_batch(f, lines, pack, catalog, chunk=chunk)
    closing: dict = {}
    seq = sequential(claims, pack, closing, catalog)
    assert len(batch) == len(seq)
    for row in batch.to_dict("records"):
        check_conservation({k: int(row[k]) for k in SETLINFO_FIELDS}, row["claim_id"])
        expected = seq[row["claim_id"]]
        got = {k: int(row[k]) for k in SETLINFO_FIELDS}
        assert got == expected, row["claim_id"]
    # the batch hands back the accumulators real time would have left after each person-year
    assert as_dicts(acc) == {k: v for k, v in closing.items() if v}
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


CATALOG = restricted_catalog()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), pack=st.sampled_from(["demo", "shenyang", "zibo", "linyi", "chengdu"]))
def test_batch_equals_realtime_on_catalog_items(seed, pack):
    """Lines naming catalog items restricted by sex, age, level, inpatient care and diagnosis, persons
    of unknown sex, every med type and 异地 filing: both speeds give the same fen on every field."""
    claims = random_claims(random.Random(seed), n_persons=6, max_claims=9, year=2025,
                           item_codes=list(CATALOG["item_code"]))
    compare(claims, load_pack(pack), catalog=CATALOG)


def test_batch_equals_realtime_across_a_parameter_change():
    """临沂's rules change on 2024-11-15: a 2024 year runs under two plans in one batch."""
    pack = load_pack("linyi")
    assert dt.date(2024, 11, 15) in pack.change_dates()
    claims = random_claims(random.Random(11), n_persons=12, max_claims=10, year=2024)
    assert any(c.dscg_date >= dt.date(2024, 11, 15) for c in claims)
    compare(claims, pack, chunk=23)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), pack=st.sampled_from(["demo", "zibo", "shenyang"]), cut=st.integers(1, 11))
def test_batch_continues_from_opening_accumulators(seed, pack, cut):
    """A year settled in two batches — the second starting from the first's closing accumulators —
    pays the same fen as one batch over the whole year."""
    pack = load_pack(pack)
    claims = random_claims(random.Random(seed), n_persons=6, max_claims=9, year=2025)
    f, lines = claims_frames(claims)
    whole = settle_frame(f, lines, pack).set_index("claim_id")
    early = pd.to_datetime(f["dscg_date"]) < pd.Timestamp(2025, cut + 1, 1)
    first, second = f[early], f[~early]
    _, acc = settle_batch(first, lines[lines["claim_id"].isin(first["claim_id"])], pack)
    if len(second):
        # balances carry over too: the second batch starts from the first's account balances
        bal = whole.loc[first["claim_id"], ["psn_no", "balc"]].groupby("psn_no")["balc"].last()
        second = second.assign(acct_bal=second["psn_no"].map(bal).fillna(second["acct_bal"]).astype("int64"))
        fam_used = whole.loc[first["claim_id"]].groupby("psn_no")["acct_mulaid_pay"].sum()
        second = second.assign(fam_bal=second["fam_bal"] - second["psn_no"].map(fam_used).fillna(0).astype("int64"))
        later = settle_frame(second, lines[lines["claim_id"].isin(second["claim_id"])], pack, opening=acc)
        for row in later.to_dict("records"):
            assert {k: int(row[k]) for k in SETLINFO_FIELDS} == {k: int(whole.loc[row["claim_id"], k]) for k in SETLINFO_FIELDS}


def test_opening_accumulators_pay_less_past_a_cap():
    """A person whose year already used the 统筹 cap is paid nothing more by the pooling fund; the
    职工大额 tier (demo: above the basic cap) takes over."""
    pack = load_pack("demo")
    claim = Claim("C1", Person("P1", "310", "11", age=50), Institution("H", "3"), "21", dt.date(2025, 3, 1),
                  dt.date(2025, 3, 9), [Line(amount=10_000_000, item_class="A")])
    f, lines = claims_frames([claim])
    fresh = settle_frame(f, lines, pack)
    assert fresh["hifp_pay"].iloc[0] > 0
    used = pd.DataFrame({"psn_no": [f["psn_no"].iloc[0]], "year": [2025], "key": ["cap:pooling"], "amount_fen": [10**9]})
    after = settle_frame(f, lines, pack, opening=used)
    assert after["hifp_pay"].iloc[0] == 0
    assert fresh["hifob_pay"].iloc[0] == 0 and after["hifob_pay"].iloc[0] > 0


@pytest.mark.parametrize("row, field", [
    ({"key": "cap:", "amount_fen": 1}, "key"),
    ({"key": "balance", "amount_fen": 1}, "key"),
    ({"key": "stays", "amount_fen": -1}, "amount_fen"),
    ({"key": "stays", "amount_fen": 1.5}, "amount_fen"),
])
def test_bad_opening_accumulators_name_the_field(row, field):
    claims = random_claims(random.Random(5), n_persons=1, max_claims=2, year=2025)
    f, lines = claims_frames(claims)
    opening = pd.DataFrame([{"psn_no": f["psn_no"].iloc[0], "year": 2025, **row}])
    with pytest.raises(ValidationError) as e:
        settle_frame(f, lines, load_pack("demo"), opening=opening)
    assert e.value.field == field


def test_large_batches_keep_freed_memory():
    """On glibc the batch asks malloc to keep freed memory for the next chunk (once per process)."""
    import platform

    from yibao.settlement.memory import keep_freed_memory

    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert keep_freed_memory() is True
        assert keep_freed_memory() is True  # idempotent
    else:
        assert keep_freed_memory() in (True, False)


def test_same_day_claims_settle_in_claim_id_order_whatever_the_input_order():
    """Two claims on one day, then two on a later day, given in scrambled order: the batch takes them
    by date and then claim id, as real time does (the outpatient deductible shows the order)."""
    rng = random.Random(3)
    (base,) = random_claims(rng, n_persons=1, max_claims=1, year=2024)
    days = [dt.date(2024, 2, 4), dt.date(2024, 2, 4), dt.date(2024, 1, 18), dt.date(2024, 1, 18)]  # ids against dates
    claims = []
    for k, day in enumerate(days):
        c = copy.deepcopy(base)
        c.claim_id, c.med_type, c.adm_date, c.dscg_date = f"C{k}", "11", day, day
        c.institution.admdvs = c.person.admdvs
        c.lines = [Line(amount=50_000 + k, item_class="A")]
        claims.append(c)
    f, lines = claims_frames(claims)
    scrambled = f.iloc[[3, 0, 2, 1]].reset_index(drop=True)
    batch = settle_frame(scrambled, lines, load_pack("demo")).set_index("claim_id")
    seq = sequential(sorted(claims, key=lambda c: (c.dscg_date, c.claim_id)), load_pack("demo"))
    for cid, expected in seq.items():
        assert {k: int(batch.loc[cid, k]) for k in SETLINFO_FIELDS} == expected, cid
