"""Invariants that hold for any seed and size: checked on small random regions with hypothesis."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from yibao.ids import parse_id_number
from yibao.lake.io import read_table
from yibao.synth import SynthConfig, generate


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(persons=st.integers(200, 1500), seed=st.integers(0, 2**31 - 1), year=st.sampled_from([2023, 2024, 2025]),
       chunk=st.sampled_from([1000, 2000]))
@example(persons=534, seed=4131, year=2023, chunk=1000)  # a baby born and dead on 31 December: no stay into the next year
@example(persons=1500, seed=435, year=2023, chunk=1000)  # a death on 1 January: no terminal stay ending the day after
def test_any_region_is_consistent(tmp_path_factory, persons, seed, year, chunk):
    out = tmp_path_factory.mktemp("inv")
    s = generate(SynthConfig(persons=persons, seed=seed, year=year, chunk_persons=chunk), out)
    persons_t = read_table(out, "persons").to_pandas().set_index("psn_no")
    claims = read_table(out, "claims").to_pandas()
    lines = read_table(out, "claim_lines").to_pandas()
    labels = read_table(out, "fraud_labels").to_pandas()
    assert len(persons_t) == persons and persons_t["certno"].is_unique
    for certno, born, sex in zip(persons_t["certno"], persons_t["birth_date"], persons_t["sex"]):
        info = parse_id_number(certno)
        assert (info.birth_date, info.sex) == (born, sex)
    # money: lines are exact integer fen and add up to the claim total
    assert (lines["amount_fen"] == (lines["qty"] * lines["price_fen"]).round().astype("int64")).all()
    assert (lines["price_fen"] > 0).all() and (claims["medfee_sumamt_fen"] > 0).all()
    total = lines.groupby("claim_id")["amount_fen"].sum().reindex(claims["claim_id"]).fillna(0)
    assert (total.to_numpy() == claims["medfee_sumamt_fen"].to_numpy()).all()
    assert s.totals["medfee_sumamt_fen"] == int(claims["medfee_sumamt_fen"].sum())
    # dates: within the year, after birth, and (unless labelled) not after death
    first, last = pd.Timestamp(year, 1, 1).date(), pd.Timestamp(year, 12, 31).date()
    assert claims["adm_date"].between(first, last).all() and (claims["dscg_date"] <= last).all()
    who = persons_t.loc[claims["psn_no"]]
    assert (claims["adm_date"].to_numpy() >= who["birth_date"].to_numpy()).all()
    after = who["death_date"].notna().to_numpy() & (claims["dscg_date"].to_numpy() > who["death_date"].fillna(last).to_numpy())
    assert set(claims["claim_id"][after]) <= set(labels["claim_id"][labels["label"] == "after_death"])
    stays = lines.merge(claims[["claim_id", "adm_date", "dscg_date"]], on="claim_id")
    assert ((stays["service_date"] >= stays["adm_date"]) & (stays["service_date"] <= stays["dscg_date"])).all()
