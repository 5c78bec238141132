"""Rings: a hand-built group of persons seen together by one doctor on many days is found, with its
members and evidence; patients who only share a doctor by chance are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.supervision.anomaly.rings import RingParams, find_rings, group_log10_p, improbable_pairs, ring_graph

DAYS = pd.date_range("2024-01-01", "2024-12-31", freq="D")


def _background(seed: int = 0, persons: int = 400, visits: int = 6) -> pd.DataFrame:
    """Each person sees a doctor of their own (one of ten at two institutions) on random days."""
    rng = np.random.default_rng(seed)
    psn = np.repeat([f"P{k:04d}" for k in range(persons)], visits)
    doctor = np.repeat(rng.integers(0, 10, persons), visits)
    return pd.DataFrame({"psn_no": psn, "doctor_code": [f"D{d}" for d in doctor],
                         "fixmedins_code": [f"H{d % 2}" for d in doctor],
                         "adm_date": rng.choice(DAYS, len(psn))})


def _ring(persons=6, days=8, doctor="D3", inst="H1", name="R", every="11D") -> pd.DataFrame:
    when = pd.date_range("2024-03-04", periods=days, freq=every)
    return pd.DataFrame([{"psn_no": f"{name}{k}", "doctor_code": doctor, "fixmedins_code": inst, "adm_date": d}
                         for k in range(persons) for d in when])


def _members(name="R", persons=6) -> str:
    return "|".join(f"{name}{k}" for k in range(persons))


def test_a_hand_built_ring_is_found_with_its_members_and_evidence():
    claims = pd.concat([_background(), _ring()], ignore_index=True)
    rings = find_rings(claims)
    assert len(rings) == 1
    ring = rings.iloc[0]
    assert ring["persons"] == _members()
    assert (ring["doctors"], ring["fixmedins_code"], ring["n_persons"]) == ("D3", "H1", 6)
    assert (ring["sessions"], ring["days"], ring["pairs"], ring["density"]) == (8, 8, 15, 1.0)
    assert ring["p"] < 1e-30 and ring["weight"] == pytest.approx(-np.log10(ring["p"]))
    assert "6 人在 8 个同日同医生就诊中同时出现" in ring["evidence"] and "首日 2024-03-04" in ring["evidence"]
    assert "48 次就诊只落在 8 个医生接诊日" in ring["evidence"]


def test_patients_sharing_a_doctor_by_chance_make_no_ring():
    assert find_rings(_background(seed=5)).empty


def test_chronic_patients_of_one_doctor_who_often_share_days_by_chance_make_no_ring():
    """300 patients coming twice a month to a doctor who works 250 days share about two days a pair by
    chance and thousands of pairs share more than that: proposals aplenty, none a ring."""
    rng = np.random.default_rng(11)
    work = DAYS[:250]
    when = np.concatenate([rng.choice(work, 24, replace=False) for _ in range(300)])
    claims = pd.DataFrame({"psn_no": np.repeat([f"C{k:03d}" for k in range(300)], 24), "doctor_code": "D1",
                           "fixmedins_code": "H1", "adm_date": when})
    pairs, _ = improbable_pairs(claims)
    assert len(pairs) > 1000
    assert find_rings(claims).empty


def test_two_rings_at_one_doctor_stay_two():
    other = _ring(persons=4, days=6, name="Q")
    other = other.assign(adm_date=other["adm_date"] + pd.Timedelta(days=2))
    rings = find_rings(pd.concat([_background(), _ring(), other], ignore_index=True))
    assert sorted(rings["persons"]) == [_members("Q", 4), _members()]


def test_pair_weight_is_the_poisson_tail_of_the_sessions_shared_across_the_institutions_doctors():
    from scipy.stats import poisson

    split = pd.concat([_ring(persons=2, days=3, doctor="D3"), _ring(persons=2, days=2, doctor="D5", every="13D")])
    claims = pd.concat([_background(), split], ignore_index=True)
    pairs, regular = improbable_pairs(claims, RingParams(min_shared=3))
    pair = pairs[(pairs["a"] == "R0") & (pairs["b"] == "R1")].iloc[0]
    d3, d5 = (claims[claims["doctor_code"] == d]["adm_date"].nunique() for d in ("D3", "D5"))
    assert (pair["shared"], pair["doctors"]) == (5, "D3|D5")
    assert pair["expected"] == pytest.approx(3 * 3 / d3 + 2 * 2 / d5)
    assert pair["weight"] == pytest.approx(-np.log10(poisson.sf(4, 9 / d3 + 4 / d5)))
    assert regular["H1"] == (claims[claims["fixmedins_code"] == "H1"].groupby("psn_no").size() >= 3).sum()
    g = ring_graph(pairs)
    assert g.nodes["R0"]["kind"] == "person" and g.nodes["D5"]["kind"] == "doctor" and g.has_edge("D3", "H1")


def test_a_ring_that_splits_its_days_between_two_doctors_is_found():
    """Two sessions with each doctor: no pair shares three with either, four at the institution."""
    d5 = _ring(days=2, doctor="D5", every="17D")
    split = pd.concat([_ring(days=2, doctor="D3"), d5.assign(adm_date=d5["adm_date"] + pd.Timedelta(days=1))])
    rings = find_rings(pd.concat([_background(), split], ignore_index=True))
    assert list(rings["persons"]) == [_members()]
    assert (rings.iloc[0]["doctors"], rings.iloc[0]["sessions"]) == ("D3|D5", 4)


def test_a_ring_at_a_doctor_who_bills_few_days_is_found_though_its_pairs_are_ordinary():
    """A doctor who bills on about thirty days a year: eight persons who each come on eight of the
    same ten of them share six to eight days a pair, which chance gives such a doctor's regulars about
    once in a hundred pairs; all eight on ten of thirty days it gives almost never."""
    rng = np.random.default_rng(7)
    work = rng.choice(DAYS, 20, replace=False)
    others = pd.DataFrame({"psn_no": [f"P{k:02d}" for k in range(20)], "doctor_code": "D9", "fixmedins_code": "H9",
                           "adm_date": work})
    ring = _ring(persons=8, days=10, doctor="D9", inst="H9")
    ring = ring[[(k + d) % 5 != 0 for k in range(8) for d in range(10)]]  # each skips two days of ten
    claims = pd.concat([others, ring], ignore_index=True)
    pairs, _ = improbable_pairs(claims)
    assert pairs["weight"].max() < 3.0  # no pair below p = 0.001
    rings = find_rings(claims)
    assert list(rings["persons"]) == [_members(persons=8)]


def test_a_patient_who_shares_some_of_the_rings_days_by_chance_is_left_out():
    """O meets the ring on three of its eight days (enough to be proposed with it) and comes on seven
    days of their own: with O the group's days widen from 8 to 15 and its bound is weaker."""
    ring = _ring()
    days = sorted(ring["adm_date"].unique())
    own = [d for d in DAYS[::29] if d not in days][:7]
    outsider = pd.DataFrame({"psn_no": "O", "doctor_code": "D3", "fixmedins_code": "H1",
                             "adm_date": [*days[:3], *own]})
    claims = pd.concat([_background(), ring, outsider], ignore_index=True)
    pairs, _ = improbable_pairs(claims)
    assert {"O"} <= set(pairs["a"]) | set(pairs["b"])
    assert list(find_rings(claims)["persons"]) == [_members()]


def test_the_group_bound_holds_for_patients_coming_on_random_days():
    """Four patients with 2–4 visits on random days of a doctor's 20: the bound on their crowding is a
    p-value, at most t with chance at most t (it would not be without the choice of the days)."""
    rng = np.random.default_rng(5)
    visits = np.array([4, 3, 3, 2])
    days = pd.Series({("H1", "D1"): 20})
    who = np.repeat([f"M{k}" for k in range(4)], visits)
    bounds = []
    for _ in range(1000):
        when = np.concatenate([rng.choice(20, n, replace=False) for n in visits])
        seen = pd.DataFrame({"psn_no": who, "doctor_code": "D1", "adm_date": DAYS[when]})
        bounds.append(group_log10_p(seen, days, "H1", {"M0", "M1", "M2", "M3"}, regular=4)[0])
    bounds = np.array(bounds)
    for t in (0.01, 0.05, 0.2):
        assert (bounds <= np.log10(t)).mean() <= t
    assert (bounds < 0).mean() > 0.05  # not a bound that never says anything


def test_the_group_bound_counts_the_days_and_the_ways_to_choose_the_group():
    from math import comb

    seen = _ring(persons=3, days=4)
    days = pd.Series({("H1", "D3"): 40})
    log10_p, without = group_log10_p(seen, days, "H1", {"R0", "R1", "R2"}, regular=10)
    assert log10_p == pytest.approx(np.log10(comb(10, 3) * comb(40, 4) / comb(40, 4) ** 3))
    assert without["R0"] == pytest.approx(np.log10(comb(10, 2) * comb(40, 4) / comb(40, 4) ** 2))


def test_a_ring_at_a_busy_doctor_is_found_though_no_single_pair_clears_a_bonferroni_bound():
    """2,000 regular patients at one doctor make about two million pairs: a bound on the chance of any
    false pair would need p below 5e-9, which five shared days of five visits (p ≈ 3e-8) do not reach;
    the six persons on the same five days are a ring."""
    rng = np.random.default_rng(3)
    background = pd.DataFrame({"psn_no": np.repeat([f"P{k:04d}" for k in range(2000)], 3), "doctor_code": "D1",
                               "fixmedins_code": "H1", "adm_date": rng.choice(DAYS[:300], 6000)})
    ring = _ring(persons=6, days=5, doctor="D1", inst="H1")
    claims = pd.concat([background, ring], ignore_index=True)
    pairs, regular = improbable_pairs(claims)
    tested = regular["H1"] * (regular["H1"] - 1) // 2
    assert tested > 1_500_000 and pairs["weight"].max() < np.log10(tested / 0.01)
    assert list(find_rings(claims)["persons"]) == [_members()]


def test_claims_without_the_encounter_columns_are_refused():
    with pytest.raises(ValidationError, match="doctor_code: column missing from claims"):
        find_rings(_background().drop(columns="doctor_code"))


@pytest.mark.parametrize("params, field", [({"fdr": 0.0}, "fdr"), ({"propose": 1.5}, "propose"),
                                           ({"min_persons": 2}, "min_persons"), ({"min_shared": 0}, "min_shared")])
def test_ring_settings_out_of_range_are_refused(params, field):
    with pytest.raises(ValidationError, match=field):
        RingParams(**params)


def test_two_members_who_also_meet_a_third_person_elsewhere_do_not_pull_the_ring_apart():
    """R0 and R1 also come with Z to a doctor at another institution on five days: a group of three
    there, and the ring of six stays whole at its own (a person is one node at each institution)."""
    elsewhere = _ring(persons=2, days=5, doctor="D4", inst="H0")
    third = elsewhere[elsewhere["psn_no"] == "R0"].assign(psn_no="Z")
    rings = find_rings(pd.concat([_background(), _ring(), elsewhere, third], ignore_index=True))
    assert sorted(zip(rings["fixmedins_code"], rings["persons"])) == [("H0", "R0|R1|Z"), ("H1", _members())]


def _dialysis_centre(patients=12, inst="H1", doctor="D7") -> pd.DataFrame:
    """A dialysis centre's two shifts, Mon/Wed/Fri (T…) and Tue/Thu/Sat (U…), with one nephrologist:
    each patient comes on 100 of their shift's 156 or so days (门诊慢特病)."""
    rng = np.random.default_rng(2)
    rows = []
    for name, weekdays in (("T", [0, 2, 4]), ("U", [1, 3, 5])):
        shift = DAYS[DAYS.day_of_week.isin(weekdays)]
        rows += [pd.DataFrame({"psn_no": f"{name}{k:02d}", "adm_date": rng.choice(shift, 100, replace=False)})
                 for k in range(patients)]
    return pd.concat(rows).assign(doctor_code=doctor, fixmedins_code=inst, med_type="14")


def _household(inst="H0", doctor="D2") -> pd.DataFrame:
    """Three members of one household seen together by their family doctor on nine days."""
    family = _ring(persons=3, days=9, doctor=doctor, inst=inst, name="F", every="19D")
    return family.assign(household_id="HH1", med_type="11")


def test_dialysis_shifts_and_a_co_visiting_household_make_no_ring_beside_a_real_one():
    """Without ``med_type`` and ``household_id`` a shift and the family are flagged; with them,
    the scheduled sessions are no encounters and the family is one node: only the ring is left."""
    background = _background().assign(household_id=lambda f: "H-" + f["psn_no"], med_type="11")
    claims = pd.concat([background, _ring().assign(med_type="11"), _dialysis_centre(), _household()],
                       ignore_index=True)
    rings = find_rings(claims)
    assert list(rings["persons"]) == [_members()]
    naive = find_rings(claims.drop(columns=["med_type", "household_id"]))  # without the two facts
    assert {"F0|F1|F2", _members()} <= set(naive["persons"])
    shifts = [p for p in naive["persons"] if p[0] in "TU"]
    assert shifts and all(len(p.split("|")) >= 3 for p in shifts)


def test_a_household_is_one_node_whose_members_are_listed_in_a_ring():
    """Two members of one family come with a ring of four strangers: the ring is found, with them."""
    ring = _ring(persons=6).assign(med_type="11")
    ring["household_id"] = np.where(ring["psn_no"].isin(["R0", "R1"]), "HH9", "H-" + ring["psn_no"])
    rings = find_rings(pd.concat([_background(), ring], ignore_index=True))
    assert list(rings["persons"]) == [_members()]
    assert rings.iloc[0]["n_persons"] == 6 and "选出这 5 户（6 人）" in rings.iloc[0]["evidence"]
