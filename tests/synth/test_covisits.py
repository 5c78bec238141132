"""Innocent meetings the generator draws: dialysis patients at one centre on one shift, and household
members seen together by one doctor; neither is labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao import vocab
from yibao.lake.io import read_table
from yibao.synth import SynthConfig, generate
from yibao.synth import data as sdata
from yibao.synth.claims import DIALYSIS, DIALYSIS_DEPT, DIALYSIS_SHIFTS, build_model, chronic_visits, weekday
from yibao.synth.institutions import build_institutions
from yibao.synth.population import build_population

PATIENTS = 40


@pytest.fixture(scope="module")
def dialysis():
    """A region of 2,000 persons, 40 adults of them on dialysis, and their year of 门诊慢特病 visits."""
    cfg = SynthConfig(persons=2000, seed=5, institution_scale=20)
    pop, _ = build_population(cfg, np.random.default_rng([cfg.seed, 0]))
    patients = np.flatnonzero((pop.age >= 30) & (pop.end == pop.end.max()))[:PATIENTS]
    pop.chronic[patients] = list(sdata.chronic_diseases()["key"]).index(DIALYSIS)
    pop.two_diseases[patients] = False  # 门诊两病 is hypertension and diabetes only
    m = build_model(cfg, pop, build_institutions(cfg, np.random.default_rng([cfg.seed, 1])))
    b = chronic_visits(np.random.default_rng(1), m, np.arange(pop.n))
    visits = pd.DataFrame({k: b.cols[k] for k in ("person", "adm", "inst", "doctor", "dept", "med_type")})
    return m, patients, visits[visits["person"].isin(patients)]


def test_a_dialysis_patient_has_one_centre_a_hospital_of_level_two_or_three(dialysis):
    m, patients, d = dialysis
    assert set(d["person"]) == set(patients)
    assert (d.groupby("person")["inst"].nunique() == 1).all()
    assert set(d["inst"]) <= set(m.dialysis_centres)
    assert set(m.inst.cat[d["inst"]]) <= {0, 1} and m.inst.local[d["inst"]].all()
    assert (d["dept"] == DIALYSIS_DEPT).all() and (d["med_type"] == vocab.MED_CHRONIC).all()


def test_a_dialysis_patients_sessions_fall_on_one_shift_with_the_centres_nephrologists(dialysis):
    m, _, d = dialysis
    shifts = [set(s) for s in DIALYSIS_SHIFTS]
    days = d.groupby("person")["adm"].agg(lambda a: set(weekday(a.to_numpy())))
    on = [next(k for k, s in enumerate(shifts) if w <= s) for w in days]  # StopIteration if off every shift
    assert set(on) == {0, 1}
    sessions = d.groupby("person").size()
    assert sessions.between(80, 140).all()  # about 110 of a shift's 156 days
    assert (d.groupby(["person", "adm"]).size() == 1).all()
    centre = np.searchsorted(m.dialysis_centres, d["inst"].to_numpy())
    assert (d["doctor"].to_numpy()[:, None] == m.nephrologists[centre]).any(axis=1).all()
    cohort = pd.Series(on, index=days.index).groupby(d.groupby("person")["inst"].first()).value_counts()
    assert cohort.max() >= 10  # a shift's patients share a hundred days or so


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("covisits")
    generate(SynthConfig(persons=3000, seed=13), out)
    claims = read_table(out, "claims", ["claim_id", "psn_no", "fixmedins_code", "doctor_code", "adm_date",
                                        "med_type"]).to_pandas()
    persons = read_table(out, "persons", ["psn_no", "household_id"]).to_pandas()
    labels = read_table(out, "fraud_labels").to_pandas()
    return claims.merge(persons, on="psn_no"), persons, labels


def _together(visits: pd.DataFrame) -> pd.DataFrame:
    """Visits of two or more members of one household to one doctor on one day."""
    key = ["household_id", "fixmedins_code", "doctor_code", "adm_date"]
    return visits[visits.groupby(key)["psn_no"].transform("nunique") >= 2]


def test_household_members_are_seen_together_by_one_doctor_and_strangers_are_not(lake):
    claims, persons, _ = lake
    visits = claims[claims["med_type"].isin([vocab.MED_OUTPATIENT, vocab.MED_EMERGENCY])]
    together = _together(visits)
    assert 0.02 < len(together) / len(visits) < 0.3
    assert together["household_id"].nunique() >= 50
    shuffled = dict(zip(persons["psn_no"], np.random.default_rng(0).permutation(persons["household_id"])))
    strangers = _together(visits.assign(household_id=visits["psn_no"].map(shuffled)))
    assert len(strangers) < len(together) / 20


def test_co_visits_are_not_labelled_as_rings(lake):
    claims, _, labels = lake
    visits = claims[claims["med_type"].isin([vocab.MED_OUTPATIENT, vocab.MED_EMERGENCY])]
    together = set(_together(visits)["claim_id"])
    assert not together & set(labels.loc[labels["label"] == "ring", "claim_id"])
    assert len(together & set(labels["claim_id"])) < 0.05 * len(together)  # only line patterns, by chance
