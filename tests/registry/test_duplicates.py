"""Double enrollment on hand-made spells."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.registry.duplicates import RESULT_COLUMNS, find_double_enrollment

D = dt.date


def sp(spell_id, psn_no, insutype, admdvs, start, end):
    return dict(spell_id=spell_id, psn_no=psn_no, insutype=insutype, admdvs=admdvs, start_date=start, end_date=end)


def test_two_schemes_overlapping():
    out = find_double_enrollment(pd.DataFrame([
        sp("e1", "p1", "310", "419900", D(2024, 1, 1), D(2024, 6, 30)),
        sp("r1", "p1", "390", "419900", D(2024, 6, 1), D(2024, 12, 31)),
    ]))
    assert list(out.columns) == RESULT_COLUMNS
    row = out.iloc[0]
    assert (row.spell_id_a, row.spell_id_b, row.kind, row.overlap_days) == ("e1", "r1", "scheme", 30)
    assert row.overlap_start == pd.Timestamp("2024-06-01") and row.overlap_end == pd.Timestamp("2024-06-30")


def test_two_regions_matched_by_certno_across_psn_nos():
    spells = pd.DataFrame([
        sp("a1", "p1", "390", "419900", D(2024, 1, 1), None),
        sp("b1", "q7", "390", "370300", D(2024, 3, 1), D(2024, 3, 10)),
        sp("c1", "p2", "390", "370300", D(2024, 3, 1), D(2024, 3, 10)),  # someone else
    ])
    persons = pd.DataFrame([dict(psn_no="p1", certno="x1"), dict(psn_no="q7", certno="X1"),
                            dict(psn_no="p2", certno="x2")])
    out = find_double_enrollment(spells, persons)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.person_key, row.psn_no_a, row.psn_no_b, row.kind, row.overlap_days) == ("X1", "p1", "q7", "region", 10)
    assert find_double_enrollment(spells).empty  # without certno the psn_nos differ


def test_touching_spells_and_same_scheme_same_region_are_not_reported():
    out = find_double_enrollment(pd.DataFrame([
        sp("e1", "p1", "310", "419900", D(2024, 1, 1), D(2024, 5, 31)),
        sp("r1", "p1", "390", "419900", D(2024, 6, 1), None),
        sp("e2", "p2", "310", "419900", D(2024, 1, 1), D(2024, 5, 31)),
        sp("e3", "p2", "310", "419900", D(2024, 5, 1), None),  # refused at enrollment, not a 重复参保 case
    ]))
    assert out.empty


def test_open_spells_run_to_as_of_and_kinds_combine():
    spells = pd.DataFrame([
        sp("e1", "p1", "310", "419900", D(2024, 1, 1), None),
        sp("r1", "p1", "390", "370300", D(2024, 12, 1), None),
        sp("r2", "p1", "390", "419900", D(2023, 1, 1), D(2024, 1, 1)),
    ])
    out = find_double_enrollment(spells, as_of=D(2024, 12, 31)).set_index("spell_id_b")
    assert out.loc["r1", "kind"] == "scheme+region" and out.loc["r1", "overlap_days"] == 31
    assert out.loc["r2", "kind"] == "scheme" and out.loc["r2", "overlap_days"] == 1
    assert len(out) == 2  # r1 and r2 do not overlap
    default = find_double_enrollment(spells)  # horizon = latest date in the data (2024-12-01)
    assert default.set_index("spell_id_b").loc["r1", "overlap_days"] == 1


def test_bad_dates_named():
    with pytest.raises(ValidationError) as e:
        find_double_enrollment(pd.DataFrame([sp("zz", "p1", "310", "419900", D(2024, 2, 1), D(2024, 1, 1))]))
    assert e.value.field == "end_date" and "zz" in str(e.value)


def test_many_persons_vectorised_counts():
    n = 20_000
    rows = []
    for i in range(n):
        rows.append(sp(f"e{i}", f"p{i}", "310", "419900", D(2024, 1, 1), D(2024, 6, 30)))
        # every third person also enrolls as a resident, overlapping by i % 5 + 1 days; others just touch
        start = D(2024, 6, 30) - dt.timedelta(days=i % 5) if i % 3 == 0 else D(2024, 7, 1)
        rows.append(sp(f"r{i}", f"p{i}", "390", "419900", start, None))
    out = find_double_enrollment(pd.DataFrame(rows))
    assert len(out) == len(range(0, n, 3))
    assert out.overlap_days.sum() == sum(i % 5 + 1 for i in range(0, n, 3))


def test_no_spells():
    out = find_double_enrollment(pd.DataFrame(columns=["spell_id", "psn_no", "insutype", "admdvs", "start_date",
                                                       "end_date"]))
    assert out.empty and list(out.columns) == RESULT_COLUMNS
