"""Rings: a hand-built group of persons seen together by one doctor on many days is found, with its
members and evidence; patients who only share a doctor by chance are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.supervision.anomaly.rings import RingParams, find_rings, improbable_pairs, ring_graph

DAYS = pd.date_range("2024-01-01", "2024-12-31", freq="D")


def _background(seed: int = 0, persons: int = 400, visits: int = 6) -> pd.DataFrame:
    """Each person sees a doctor of their own (one of ten at two institutions) on random days."""
    rng = np.random.default_rng(seed)
    psn = np.repeat([f"P{k:04d}" for k in range(persons)], visits)
    doctor = np.repeat(rng.integers(0, 10, persons), visits)
    return pd.DataFrame({"psn_no": psn, "doctor_code": [f"D{d}" for d in doctor],
                         "fixmedins_code": [f"H{d % 2}" for d in doctor],
                         "adm_date": rng.choice(DAYS, len(psn))})


def _ring(persons=6, days=8, doctor="D3", inst="H1") -> pd.DataFrame:
    when = pd.date_range("2024-03-04", periods=days, freq="11D")
    return pd.DataFrame([{"psn_no": f"R{k}", "doctor_code": doctor, "fixmedins_code": inst, "adm_date": d}
                         for k in range(persons) for d in when])


def test_a_hand_built_ring_is_found_with_its_members_and_evidence():
    claims = pd.concat([_background(), _ring()], ignore_index=True)
    rings = find_rings(claims)
    assert len(rings) == 1
    ring = rings.iloc[0]
    assert ring["persons"] == "|".join(f"R{k}" for k in range(6))
    assert (ring["doctors"], ring["fixmedins_code"], ring["n_persons"]) == ("D3", "H1", 6)
    assert (ring["sessions"], ring["days"], ring["pairs"], ring["density"]) == (8, 8, 15, 1.0)
    assert "6 人在 8 个同日同医生就诊中同时出现" in ring["evidence"] and "首日 2024-03-04" in ring["evidence"]


def test_patients_sharing_a_doctor_by_chance_make_no_ring():
    assert find_rings(_background(seed=5)).empty


def test_two_rings_at_one_doctor_stay_two():
    other = _ring(persons=4, days=6)
    other = other.assign(psn_no="Q" + other["psn_no"], adm_date=other["adm_date"] + pd.Timedelta(days=2))
    rings = find_rings(pd.concat([_background(), _ring(), other], ignore_index=True))
    assert sorted(rings["persons"]) == ["QR0|QR1|QR2|QR3", "|".join(f"R{k}" for k in range(6))]


def test_pair_weight_is_the_poisson_tail_of_the_shared_days():
    from scipy.stats import poisson

    claims = pd.concat([_background(), _ring(persons=2, days=5)], ignore_index=True)
    pairs, tested = improbable_pairs(claims, RingParams(min_shared=3))
    pair = pairs[(pairs["a"] == "R0") & (pairs["b"] == "R1")].iloc[0]
    doctor_days = claims[claims["doctor_code"] == "D3"]["adm_date"].nunique()
    assert pair["expected"] == pytest.approx(5 * 5 / doctor_days)
    assert pair["weight"] == pytest.approx(-np.log10(poisson.sf(4, 25 / doctor_days)))
    assert tested > 0
    g = ring_graph(pairs)
    assert g.nodes["R0"]["kind"] == "person" and g.nodes["D3"]["kind"] == "doctor" and g.has_edge("D3", "H1")


def test_a_ring_at_a_busy_doctor_is_found_though_no_single_pair_clears_a_bonferroni_bound():
    """2,000 regular patients at one doctor make about two million pairs tested: a bound on the chance
    of any false pair would need p below 5e-9, which five shared days of five visits (p ≈ 3e-8) do not
    reach; fifteen such pairs together are a discovery at a 1% false discovery rate."""
    rng = np.random.default_rng(3)
    background = pd.DataFrame({"psn_no": np.repeat([f"P{k:04d}" for k in range(2000)], 3), "doctor_code": "D1",
                               "fixmedins_code": "H1", "adm_date": rng.choice(DAYS[:300], 6000)})
    ring = _ring(persons=6, days=5, doctor="D1", inst="H1")
    pairs, tested = improbable_pairs(pd.concat([background, ring], ignore_index=True))
    assert tested > 1_500_000 and pairs["weight"].max() < np.log10(tested / 0.01)
    assert sorted(set(pairs["a"]) | set(pairs["b"])) == [f"R{k}" for k in range(6)]
    rings = find_rings(pd.concat([background, ring], ignore_index=True))
    assert list(rings["persons"]) == ["|".join(f"R{k}" for k in range(6))]


def test_claims_without_the_encounter_columns_are_refused():
    with pytest.raises(ValidationError, match="doctor_code: column missing from claims"):
        find_rings(_background().drop(columns="doctor_code"))
