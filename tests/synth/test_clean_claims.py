"""A region synthesized without injected fraud breaks no supervision rule by accident: each limit the
generator keeps to is asserted on the lines and claims, then the whole shipped rule library is run
over the region and may only hit the 轻度可疑 rules the synth README names. The patterns above the
claim that make no claim-level violation (inflated costs and drug shares, one doctor's test on every
claim) are on in it: their claims must stay as clean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from yibao.catalog import rules as nhsa
from yibao.lake.io import read_table
from yibao.synth import DEFAULT_FRAUD_RATES, SynthConfig, generate

CLEAN = {k: 0.0 for k in DEFAULT_FRAUD_RATES}
# 轻度可疑 (see synth/README.md): a dear test or treatment on an outpatient visit; a genuine severe stay as
# cheap and short as the mild stays of its pair (高套诊断 screening)
LEGITIMATE = {"SV-SWP-02", "SV-UPC-01"}
UNLABELLED_PATTERNS = {"cost_inflation": 0.1, "drug_share": 0.1, "item_concentration": 0.1, "readmission": 0.0}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    generate(SynthConfig(persons=6000, seed=11, fraud_rates=CLEAN, institution_patterns=UNLABELLED_PATTERNS,
                         institution_scale=100), out)
    t = {name: read_table(out, name).to_pandas() for name in ("claims", "claim_lines", "catalog", "fraud_labels",
                                                              "fraud_entities")}
    t["lines"] = t["claim_lines"].merge(t["claims"], on="claim_id")
    return out, t


def test_a_clean_region_has_no_labels(clean):
    _, t = clean
    assert t["fraud_labels"].empty
    patterns = t["fraud_entities"].groupby("label").size()
    assert all(patterns.get(p, 0) >= 1 for p in ("cost_inflation", "drug_share", "item_concentration"))


def test_every_item_is_billed_inside_its_catalog_version(clean):
    _, t = clean
    cat = t["catalog"].set_index("item_code")
    ln = t["claim_lines"]
    begin = pd.to_datetime(ln["item_code"].map(cat["begin_date"]))
    end = pd.to_datetime(ln["item_code"].map(cat["end_date"]))
    day = pd.to_datetime(ln["service_date"])
    outside = (day < begin) | (end.notna() & (day > end))
    assert begin.notna().all()
    assert not outside.any(), ln[outside].head()


def test_no_visit_is_dated_inside_the_persons_own_stay(clean):
    _, t = clean
    c = t["claims"]
    stays = c[c["los"].notna()][["psn_no", "adm_date", "dscg_date"]]
    visits = c[c["los"].isna()][["psn_no", "adm_date", "claim_id"]]
    j = visits.merge(stays, on="psn_no", suffixes=("", "_stay"))
    inside = (j["adm_date_stay"] < j["adm_date"]) & (j["adm_date"] < j["dscg_date"])
    assert len(visits) > 10_000 and not inside.any(), j[inside].head()


def test_stays_neither_overlap_nor_readmit_soon_at_the_same_institution(clean):
    _, t = clean
    s = t["claims"][t["claims"]["los"].notna()].sort_values(["psn_no", "adm_date", "claim_id"])
    nxt = s.groupby("psn_no").shift(-1)
    has = nxt["adm_date"].notna()
    gap = (pd.to_datetime(nxt["adm_date"]) - pd.to_datetime(s["dscg_date"])).dt.days[has]
    same = (nxt["fixmedins_code"] == s["fixmedins_code"])[has]
    assert has.sum() > 50
    assert (gap >= 0).all()
    assert (gap[same] > 15).all()


def test_one_item_once_per_visit_and_one_service_once_per_stay(clean):
    _, t = clean
    ln = t["lines"]
    visit = ln["los"].isna()
    key = np.where(ln["kind"] == "drug", ln["item_code"], ln["item_code"].str.slice(0, 9))
    once = visit | (ln["kind"] != "drug")
    counted = pd.DataFrame({"claim_id": ln["claim_id"], "key": key})[once]
    assert not counted.duplicated().any(), counted[counted.duplicated(keep=False)].head()


def test_operations_and_interventions_only_with_a_procedure(clean):
    _, t = clean
    ln = t["lines"]
    op = ln["item_code"].str.startswith(("33", "32"))
    assert op.sum() > 100
    assert ln.loc[op, "procedures"].notna().all()


def test_daily_items_stay_within_the_days_of_the_stay(clean):
    _, t = clean
    ln = t["lines"][t["lines"]["los"].notna()].copy()
    f = nhsa.service_frequency()
    daily = f[f["per"] == "日"].groupby("base_item_code")["max_qty"].min()
    ln["limit"] = ln["item_code"].str.slice(0, 9).map(daily) * ln["los"].clip(lower=1)
    units = ln.dropna(subset=["limit"]).groupby(["claim_id", ln["item_code"].str.slice(0, 9)]).agg(
        qty=("qty", "sum"), limit=("limit", "max"))
    assert len(units) > 1000 and (units["qty"] <= units["limit"]).all()


def test_a_drug_is_not_bought_again_within_a_week_nor_above_the_monthly_supply(clean):
    _, t = clean
    ln = t["lines"]
    d = ln[(ln["kind"] == "drug") & ln["los"].isna()].sort_values(["psn_no", "item_code", "adm_date"])
    prev = d.groupby(["psn_no", "item_code"])["adm_date"].shift()
    days = (pd.to_datetime(d["adm_date"]) - pd.to_datetime(prev)).dt.days
    assert (days.dropna() > 7).all()
    assert (d.groupby("claim_id")["qty"].max() <= 90).all()
    by = d.assign(day=pd.to_datetime(d["adm_date"])).set_index("day").groupby(["psn_no", "item_code"])["qty"]
    assert by.rolling("30D").sum().max() <= 180


def test_no_periodic_test_is_repeated_inside_its_period(clean):
    _, t = clean
    ln = t["lines"]
    per = nhsa.service_period().groupby("base_item_code")["period_days"].max()
    ln = ln.assign(base=ln["item_code"].str.slice(0, 9))
    p = ln[ln["base"].isin(per.index)].sort_values(["psn_no", "base", "service_date"])
    prev = p.groupby(["psn_no", "base"])["service_date"].shift()
    days = (pd.to_datetime(p["service_date"]) - pd.to_datetime(prev)).dt.days
    assert len(p) > 100
    assert (days.dropna() > p.loc[days.notna(), "base"].map(per)).all()


def test_the_rule_library_finds_nothing_in_a_clean_region(clean):
    from yibao.payment.backends import duckdb_backend
    from yibao.supervision.engine import RuleBook
    from yibao.supervision.lake import bind_lake, lake_catalog
    from yibao.supervision.rules import load_rules

    out, _ = clean
    book = RuleBook(load_rules(), lake_catalog(out))
    hits = book.run(bind_lake(duckdb_backend(), out))
    by_rule = pd.Series([h.rule_id for h in hits]).value_counts()
    assert set(by_rule.index) <= LEGITIMATE, by_rule.to_dict()


# ---- labels above the claim, concentration and rings -------------------------------------------

RINGS = {**CLEAN, "ring": 0.01, "duplicate_charge": 0.01, "item_swap": 0.01, "split_stay": 0.05}


@pytest.fixture(scope="module")
def rings(tmp_path_factory):
    out = tmp_path_factory.mktemp("rings")
    generate(SynthConfig(persons=6000, seed=12, fraud_rates=RINGS), out)
    return {name: read_table(out, name).to_pandas() for name in ("claims", "fraud_labels", "fraud_entities", "persons")}


def test_fraud_is_concentrated_in_the_labelled_institutions_and_doctors(rings):
    e, lab, claims = rings["fraud_entities"], rings["fraud_labels"], rings["claims"]
    inst = set(e.loc[(e["level"] == "institution") & (e["label"] == "propensity"), "entity_id"])
    docs = e[(e["level"] == "doctor") & (e["label"] == "propensity")]
    assert inst and len(docs) and set(docs["detail"]) <= inst
    assert len(inst) < 0.2 * (claims["fixmedins_code"].nunique())
    lab = lab[lab["label"] != "ring"].merge(claims[["claim_id", "fixmedins_code", "doctor_code"]], on="claim_id")
    assert len(lab) > 100
    # most injected claims are billed by the few labelled doctors
    assert lab["doctor_code"].isin(set(docs["entity_id"])).mean() > 0.6
    assert lab["fixmedins_code"].isin(inst).mean() > 0.6


def test_every_labelled_institution_has_a_doctor_in_on_it():
    """A pharmacy has one doctor number: drawn at a share of 30%, most labelled pharmacies had none and
    carried no fraud at all. Every labelled institution now has at least one."""
    from yibao.synth.institutions import build_institutions
    from yibao.synth.propensity import build_propensity

    cfg = SynthConfig(persons=10_000, seed=3, institution_scale=200)
    inst = build_institutions(cfg, np.random.default_rng([cfg.seed, 1]))
    p = build_propensity(cfg, inst)
    chosen = np.flatnonzero(p.institution)
    assert inst.pharmacy[chosen].sum() >= 10
    in_on_it = np.bincount(p.entities(inst).to_pandas().pipe(lambda e: _where(inst, e)), minlength=len(inst.local))
    assert (in_on_it[chosen] >= 1).all()
    assert (in_on_it[~p.institution] == 0).all()


def _where(inst, e):
    """The institution index of each labelled doctor (its code is the institution's, less the H/P)."""
    codes = {c[1:]: i for i, c in enumerate(inst.code.to_pylist())}
    docs = e.loc[e["level"] == "doctor", "entity_id"]
    return np.array([codes[d[1:-3]] for d in docs], dtype=np.int64)


def test_rings_are_persons_seeing_the_same_doctors_on_the_same_days(rings):
    e, lab, claims = rings["fraud_entities"], rings["fraud_labels"], rings["claims"]
    members = e[(e["level"] == "person") & (e["label"] == "ring")]
    assert set(members["entity_id"]) <= set(rings["persons"]["psn_no"])
    ring_claims = lab[lab["label"] == "ring"].merge(claims, on="claim_id")
    assert len(ring_claims) > 50
    for ring_id, people in members.groupby("detail"):
        visits = ring_claims[ring_claims["detail"] == ring_id]
        assert 5 <= len(people) <= 15
        assert set(visits["psn_no"]) <= set(people["entity_id"])
        assert visits["fixmedins_code"].nunique() == 1 and visits["doctor_code"].nunique() <= 2
        # many members on each ring day, all with the day's one doctor
        assert visits.groupby("adm_date")["psn_no"].nunique().median() >= 0.5 * len(people)
        assert (visits.groupby("adm_date")["doctor_code"].nunique() == 1).all()


@pytest.mark.parametrize("field, value", [("fraud_institution_share", 0.0), ("fraud_doctor_share", 1.5),
                                          ("fraud_concentration", "most")])
def test_bad_concentration_settings_are_refused(field, value):
    from yibao.errors import ValidationError

    with pytest.raises(ValidationError, match=field):
        SynthConfig(**{field: value})
