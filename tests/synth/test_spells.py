"""Enrolment spells lie within the person's life and never end before they start: checked on a
region with many double enrolments (the spells drawn without regard to a birth or a death in the year)."""

from __future__ import annotations

import pandas as pd
import pytest

from yibao.lake.io import read_table
from yibao.synth import SynthConfig, generate


@pytest.mark.parametrize("seed", [4, 11])
def test_every_spell_lies_within_the_persons_life(tmp_path, seed):
    generate(SynthConfig(persons=3000, seed=seed, year=2024, double_enrolments=900), tmp_path)
    spells = read_table(tmp_path, "enrollments").to_pandas()
    persons = read_table(tmp_path, "persons").to_pandas().set_index("psn_no")
    who = persons.loc[spells["psn_no"]]
    end = spells["end_date"].fillna(pd.Timestamp.max.date())
    assert (spells["start_date"] <= end).all(), spells[spells["start_date"] > end]
    assert (spells["start_date"].to_numpy() >= who["birth_date"].to_numpy()).all()
    died = who["death_date"].notna().to_numpy()
    assert (spells["start_date"].to_numpy()[died] <= who["death_date"].to_numpy()[died]).all()
