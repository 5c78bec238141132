"""费用审核 re-check sample: the passed inpatient claims, ≥ 5% under 1亿元 a year, ≥ 500万元 above, by seed."""

from __future__ import annotations

import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.supervision.regulator.params import shipped_params
from yibao.supervision.regulator.sampling import quotas, sample

P = shipped_params()
YI = 10_000_000_000  # 1亿元 in fen


def claims():
    rows = []
    for n in range(400):  # small: 400 stays of 2万元 = 800万元 a year, plus outpatient visits
        rows.append((f"S{n:04d}", "H_SMALL", "21", 2_000_000))
    for n in range(200):
        rows.append((f"V{n:04d}", "H_SMALL", "11", 50_000))
    for n in range(600):  # large: 600 stays of 20万元 = 1.2亿元 a year
        rows.append((f"L{n:04d}", "H_LARGE", "2101", 20_000_000))
    return pd.DataFrame(rows, columns=["claim_id", "fixmedins_code", "med_type", "medfee_sumamt_fen"])


def test_the_quota_by_the_institutions_year():
    q = quotas(claims(), {"S0000", "L0000"}, P).set_index("fixmedins_code")
    assert q.loc["H_SMALL", "rule"] == "≥5%" and q.loc["H_LARGE", "rule"] == "≥500万"
    assert q.loc["H_SMALL", "passed_inpatient_fen"] == 399 * 2_000_000
    assert q.loc["H_SMALL", "quota_fen"] == 399 * 2_000_000 * 5 // 100
    assert q.loc["H_LARGE", "quota_fen"] == 500_000_000


def test_the_sample_meets_the_quota_from_passed_inpatient_claims_only():
    hits = {"S0001", "S0002", "L0005"}
    drawn, table = sample(claims(), hits, 11, P)
    t = table.set_index("fixmedins_code")
    for code in ("H_SMALL", "H_LARGE"):
        assert t.loc[code, "sampled_fen"] >= t.loc[code, "quota_fen"]
        one_less = t.loc[code, "sampled_fen"] - drawn[drawn.fixmedins_code == code].amount_fen.iloc[-1]
        assert one_less < t.loc[code, "quota_fen"]  # no more than needed
    assert not set(drawn.claim_id) & hits
    assert not drawn.claim_id.str.startswith("V").any()
    assert t.loc["H_LARGE", "sampled_claims"] == 25  # 500万元 of 20万元 stays


def test_the_sample_is_reproducible_and_moves_with_the_seed():
    a, _ = sample(claims(), set(), 5, P)
    b, _ = sample(claims().sample(frac=1, random_state=1), set(), 5, P)
    c, _ = sample(claims(), set(), 6, P)
    assert a.claim_id.tolist() == b.claim_id.tolist()
    assert set(a.claim_id) != set(c.claim_id)


def test_an_institution_whose_passed_claims_cannot_meet_the_quota_is_refused():
    frame = claims()
    frame.loc[frame.fixmedins_code == "H_LARGE", "med_type"] = "11"  # 1.2亿元 of outpatient visits only
    frame = pd.concat([frame, pd.DataFrame([("L9", "H_LARGE", "21", 1_000_000)], columns=frame.columns)])
    with pytest.raises(ValidationError, match="institution H_LARGE: quota: ≥500万: 500000000 fen to re-check but "
                                              "only 1000000 fen of passed inpatient claims"):
        sample(frame, set(), 1, P)


def test_claims_without_the_columns_are_refused():
    with pytest.raises(ValidationError, match="claims: columns: claims lack med_type"):
        sample(claims().drop(columns="med_type"), set(), 1, P)
