"""Patterns above the claim: each injected at its institutions (or doctor), labelled in
``fraud_entities``, and visible in the claims against the same region synthesized without it."""

from __future__ import annotations

import numpy as np
import pytest

from yibao.errors import ValidationError
from yibao.lake.io import read_table
from yibao.synth import SynthConfig, generate
from yibao.synth.config import DEFAULT_INSTITUTION_PATTERNS
from yibao.synth.institutions import build_institutions
from yibao.synth.patterns import build_patterns

# the stay patterns' share is of the hospitals that admit stays (fewer than the hospitals and primary ones)
ON = {"cost_inflation": 0.15, "readmission": 0.15, "drug_share": 0.1, "item_concentration": 0.1}
OFF = {k: 0.0 for k in DEFAULT_INSTITUTION_PATTERNS}


def _region(tmp_path_factory, name, patterns):
    out = tmp_path_factory.mktemp(name)
    generate(SynthConfig(persons=4000, seed=21, institution_patterns=patterns, institution_scale=200), out)
    t = {n: read_table(out, n).to_pandas() for n in ("claims", "claim_lines", "fraud_labels", "fraud_entities")}
    t["lines"] = t["claim_lines"].merge(t["claims"][["claim_id", "fixmedins_code", "doctor_code", "los"]], on="claim_id")
    return t


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    return _region(tmp_path_factory, "on", ON), _region(tmp_path_factory, "off", OFF)


def _carrying(t, pattern) -> set[str]:
    e = t["fraud_entities"]
    return set(e.loc[e["label"] == pattern, "entity_id"])


def test_each_pattern_is_labelled_at_its_level_with_what_was_done(regions):
    on, off = regions
    e = on["fraud_entities"].set_index("label")
    for pattern in ("cost_inflation", "readmission", "drug_share"):
        rows = e.loc[[pattern]]
        assert len(rows) >= 2 and (rows["level"] == "institution").all() and rows["detail"].str.len().gt(10).all()
    docs = e.loc[["item_concentration"]]
    assert (docs["level"] == "doctor").all() and docs["detail"].str.contains(" on every claim at H").all()
    # one pattern an institution, all of them local hospitals or primary institutions of the region
    carriers = [_carrying(on, p) for p in ("cost_inflation", "readmission", "drug_share")]
    assert sum(map(len, carriers)) == len(set().union(*carriers))
    assert set(off["fraud_entities"]["label"]) <= {"propensity", "ring", "after_death"}


def _stay_cost(t, where):
    s = t["claims"][t["claims"]["los"].notna() & t["claims"]["fixmedins_code"].isin(where)]
    return s["medfee_sumamt_fen"].mean()


def test_inflated_institutions_bill_more_per_stay(regions):
    on, off = regions
    where = _carrying(on, "cost_inflation")
    assert 1.3 < _stay_cost(on, where) / _stay_cost(off, where) < 1.7
    others = set(on["claims"]["fixmedins_code"]) - where - _carrying(on, "drug_share")
    assert 0.9 < _stay_cost(on, others) / _stay_cost(off, others) < 1.1


def _drug_share(t, where):
    ln = t["lines"][t["lines"]["fixmedins_code"].isin(where)]
    return ln.loc[ln["kind"] != "service", "amount_fen"].sum() / ln["amount_fen"].sum()


def test_drug_and_consumable_shares_are_inflated(regions):
    on, off = regions
    where = _carrying(on, "drug_share")
    assert _drug_share(on, where) > _drug_share(off, where) + 0.1


def test_split_stays_concentrate_where_readmission_is_the_pattern(regions):
    on, _ = regions
    where = _carrying(on, "readmission")
    c = on["claims"][on["claims"]["los"].notna()]
    split = set(on["fraud_labels"].loc[on["fraud_labels"]["label"] == "split_stay", "claim_id"])
    rate = c["claim_id"].isin(split).groupby(c["fixmedins_code"].isin(where)).mean()
    assert rate[True] > 0.1 and rate[False] < 0.04


def test_one_doctor_bills_one_test_on_every_claim(regions):
    on, _ = regions
    e = on["fraud_entities"]
    labelled = set(on["fraud_labels"]["claim_id"])
    seen = 0
    for row in e[e["label"] == "item_concentration"].itertuples():
        item = row.detail.split(": ")[1].split()[0]
        mine = on["lines"][(on["lines"]["doctor_code"] == row.entity_id) & ~on["lines"]["claim_id"].isin(labelled)]
        # the test by its 9-character base code: a claim that bills it (another variant) already is not billed twice
        with_item = (mine["item_code"].str[:9] == item[:9]).groupby(mine["claim_id"]).any()
        seen += len(with_item)
        assert with_item.empty or with_item.mean() > 0.95
        others = on["lines"][on["lines"]["doctor_code"] != row.entity_id]
        assert (others["item_code"] == item).groupby(others["claim_id"]).any().mean() < 0.2
    assert seen >= 10


def test_stay_patterns_are_carried_by_hospitals_that_admit_stays():
    """未定级 clinics (level 0) admit no stays: a stay pattern drawn there changed nothing yet was
    labelled. The stay patterns' carriers are hospitals of the levels the inpatient mix admits."""
    from yibao.synth.institutions import CATS

    cfg = SynthConfig(persons=10_000, seed=3, institution_scale=200, institution_patterns=ON)
    inst = build_institutions(cfg, np.random.default_rng([cfg.seed, 1]))
    assert (inst.cat == CATS.index("0")).sum() >= 10
    patterns = build_patterns(cfg, inst)
    for pattern in ("cost_inflation", "readmission"):
        carriers = np.flatnonzero(patterns.institution[pattern])
        assert len(carriers) >= 3
        assert set(np.array(CATS)[inst.cat[carriers]]) <= {"3", "2", "1"}, pattern


def test_the_default_region_has_too_few_institutions_for_any_pattern():
    cfg = SynthConfig()
    patterns = build_patterns(cfg, build_institutions(cfg, np.random.default_rng([cfg.seed, 1])))
    assert not any(on.any() for on in patterns.institution.values()) and (patterns.doctor < 0).all()


@pytest.mark.parametrize("options, field", [
    ({"institution_patterns": {"cost_inflaton": 0.1}}, "institution_patterns"),
    ({"institution_patterns": {"drug_share": 0.4}}, "institution_patterns.drug_share"),
    ({"institution_patterns": {"drug_share": "some"}}, "institution_patterns.drug_share"),
    ({"institution_patterns": {k: 0.2 for k in DEFAULT_INSTITUTION_PATTERNS}}, "institution_patterns"),
    ({"institution_scale": 0}, "institution_scale"),
    ({"institution_scale": 500}, "institution_scale"),
])
def test_bad_pattern_settings_are_refused(options, field):
    with pytest.raises(ValidationError) as e:
        SynthConfig(**options)
    assert e.value.field == field
