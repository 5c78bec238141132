"""The person-level tables a lake's claims settle on: each employee's 个人账户 balance is the opening
balance plus the registry's accruals of the year, to the fen, and a spell the accrual cannot take
leaves the balances at the opening ones, said in the note."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from yibao.lake import io as lake_io
from yibao.lake.claims import read_people
from yibao.policy import load_pack
from yibao.registry.accounts import account_accrual_totals, account_accruals_for_year
from yibao.synth import SynthConfig, generate

PACK = load_pack("demo")


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("people")
    generate(SynthConfig(persons=3000, seed=11), out)
    return out


def _opening(region, psn: pa.Array, year: int) -> np.ndarray:
    b = lake_io.read_table(region, "account_balances")
    b = b.filter(pc.equal(b["year"], year))
    own = np.zeros(len(psn), np.int64)
    at = pc.index_in(b["psn_no"], value_set=psn).to_numpy(zero_copy_only=False)
    np.add.at(own, at.astype(np.int64), b["balance_fen"].to_numpy())
    return own


def test_balances_are_the_opening_plus_the_registry_accruals(region):
    people = read_people(region, PACK)
    year = int(people.note.split("1 January ")[1][:4])
    persons = lake_io.read_table(region, "persons", columns=["psn_no", "birth_date"])
    frame = account_accruals_for_year(lake_io.read_table(region, "enrollments"), persons, PACK, year)
    per_person = frame.groupby("psn_no")["amount_fen"].sum()
    psn = people.psn_no.to_pylist()
    expect = per_person.reindex(psn).fillna(0).to_numpy(dtype=np.int64) + _opening(region, people.psn_no, year)
    assert per_person.sum() > 0 and (people.acct == expect).all()
    assert "accruals" in people.note and "no accruals" not in people.note


def test_totals_leave_out_spells_of_persons_not_listed(region):
    e = lake_io.read_table(region, "enrollments")
    persons = lake_io.read_table(region, "persons", columns=["psn_no", "birth_date"])
    psn = persons["psn_no"].combine_chunks()
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    whole = account_accrual_totals(e, psn, birth, PACK, 2024)
    half = len(psn) // 2
    part = account_accrual_totals(e.filter(pc.is_in(e["psn_no"], value_set=psn.slice(0, half))), psn.slice(0, half),
                                  birth[:half], PACK, 2024)
    assert whole[:half].sum() > 0 and (part == whole[:half]).all()


def test_a_retiree_without_a_birth_date_leaves_the_opening_balances(region, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(region, lake)
    persons = lake_io.read_table(lake, "persons")
    e = lake_io.read_table(lake, "enrollments")
    retired = e.filter(pc.and_(pc.equal(e["insutype"], "310"), pc.equal(e["psn_type"], "12")))["psn_no"][0].as_py()
    born = pc.if_else(pc.equal(persons["psn_no"], retired), pa.scalar(None, pa.date32()), persons["birth_date"])
    lake_io.write_table(lake, "persons", persons.set_column(persons.schema.get_field_index("birth_date"), "birth_date",
                                                            born))
    people = read_people(lake, PACK)
    assert "no accruals" in people.note and "a retiree's accrual needs the birth date" in people.note
    year = int(people.note.split("1 January ")[1][:4])
    assert (people.acct == _opening(lake, people.psn_no, year)).all()


def test_the_identities_in_force_at_discharge_are_joined_in_the_table_order(region, tmp_path):
    from yibao.settlement.batch import lake_frame

    lake = tmp_path / "lake"
    shutil.copytree(region, lake)
    claims = lake_io.read_table(lake, "claims", columns=["psn_no", "dscg_date"]).to_pandas()
    who = claims["psn_no"].value_counts().index[:2].tolist()
    mid = sorted(claims.loc[claims["psn_no"] == who[0], "dscg_date"])[len(claims[claims["psn_no"] == who[0]]) // 2]
    rows = [  # who[0]: tekun throughout, dibao from mid on, disabled expired before the year; who[1]: two at once
        (who[0], "tekun", dt.date(2000, 1, 1), None), (who[0], "dibao", mid, None),
        (who[0], "disabled", dt.date(2000, 1, 1), dt.date(2001, 1, 1)),
        (who[1], "disabled", dt.date(2000, 1, 1), None), (who[1], "dibao", dt.date(2000, 1, 1), None),
    ]
    table = pa.table({"psn_no": [r[0] for r in rows], "identity": [r[1] for r in rows],
                      "start_date": pa.array([r[2] for r in rows], pa.date32()),
                      "end_date": pa.array([r[3] for r in rows], pa.date32())})
    lake_io.write_table(lake, "identities", table)
    frame = lake_frame(lake)[0]
    first = frame[frame["psn_no"] == who[0]]
    expect = ["tekun|dibao" if d >= mid else "tekun" for d in pd.to_datetime(first["dscg_date"]).dt.date]
    assert first["identities"].tolist() == expect and "tekun" in expect and "tekun|dibao" in expect
    assert set(frame.loc[frame["psn_no"] == who[1], "identities"]) == {"disabled|dibao"}
    assert set(frame.loc[~frame["psn_no"].isin(who), "identities"]) == {""}


@pytest.mark.parametrize("statistics", [True, False])
def test_the_lake_year_is_the_year_of_most_discharges(tmp_path, statistics):
    import pyarrow.parquet as pq

    from yibao.lake.claims import main_year

    (tmp_path / "claims").mkdir()
    days = {"part-00000": [dt.date(2023, 12, 30)] * 5,  # one year throughout: counted from the statistics
            "part-00001": [dt.date(2023, 12, 31)] * 2 + [dt.date(2024, 1, 2)] * 6}  # two years: read
    for name, dates in days.items():
        pq.write_table(pa.table({"dscg_date": pa.array(dates, pa.date32())}), tmp_path / "claims" / f"{name}.parquet",
                       write_statistics=statistics)
    assert main_year(tmp_path) == 2023  # 7 claims against 6
    pq.write_table(pa.table({"dscg_date": pa.array([dt.date(2024, 3, 1)] * 2, pa.date32())}),
                   tmp_path / "claims" / "part-00002.parquet", write_statistics=statistics)
    assert main_year(tmp_path) == 2024
