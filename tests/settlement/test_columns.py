"""Claims given as the front-end's columns settle alike whatever form their ids come in (lists, Arrow
arrays of one width, sliced or chunked, or of many widths), and in (person, discharge, claim id) order;
a lake year's rows come out as an Arrow table equal to the frame."""

from __future__ import annotations

import copy
import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pytest

from yibao.policy import load_pack
from yibao.settlement.batch import STATEMENT_SCHEMA, frame_columns, settle_columns, settled_columns, statement_table
from yibao.settlement.synthetic import claims_frames, random_claims

PACK = load_pack("demo")


@pytest.fixture(scope="module")
def year():
    claims = random_claims(random.Random(11), n_persons=30, max_claims=8, year=2024)
    persons = sorted({c.person.psn_no for c in claims})
    for k, c in enumerate(claims):
        c.claim_id = f"K{k:06d}"
        c.person.psn_no = f"P{persons.index(c.person.psn_no):05d}"
    f, lines = claims_frames(claims)
    return frame_columns(f, lines)


def _arrow(values, form):
    if form == "sliced":  # a view into a longer array: its first id is not at the buffer's start
        return pa.array(["X000000"] * 3 + list(values)).slice(3)
    if form == "chunked":
        half = len(values) // 2
        return pa.chunked_array([pa.array(list(values[:half])), pa.array(list(values[half:]))])
    if form == "large":
        return pa.array(list(values), pa.large_string())
    return pa.array(list(values))


@pytest.mark.parametrize("form", ["plain", "sliced", "chunked", "large"])
def test_arrow_ids_settle_as_lists(year, form):
    claims, lines = year
    expect, _ = settle_columns(claims, lines, PACK)
    arrow = dict(claims, claim_id=_arrow(claims["claim_id"], form), psn_no=_arrow(claims["psn_no"], form))
    got, _ = settle_columns(arrow, lines, PACK)
    assert got.equals(expect) and got["claim_id"].tolist() == expect["claim_id"].tolist()


def test_ids_of_many_widths_and_scripts_settle_as_lists(year):
    claims, lines = year
    rename = {p: f"人{p[1:].lstrip('0') or '0'}" for p in set(claims["psn_no"])}  # non-ASCII, of several widths
    psn = np.array([rename[p] for p in claims["psn_no"]], dtype=object)
    ids = np.array([c.lstrip("K0") or "0" for c in claims["claim_id"]], dtype=object)
    expect, _ = settle_columns(dict(claims, claim_id=ids, psn_no=psn), lines, PACK)
    got, _ = settle_columns(dict(claims, claim_id=pa.array(list(ids)), psn_no=pa.array(list(psn))), lines, PACK)
    assert got.equals(expect)


def test_statement_table_equals_the_frame(year):
    claims, lines = year
    frame, _ = settle_columns(claims, lines, PACK)
    arrow = dict(claims, claim_id=pa.array(list(claims["claim_id"])))
    table = statement_table(settled_columns(arrow, lines, PACK))
    assert table.schema == STATEMENT_SCHEMA and table.num_rows == len(frame)
    assert table.to_pandas().equals(frame)
    empty = statement_table(settled_columns({k: v[:0] for k, v in claims.items()},
                                                {k: v[:0] for k, v in lines.items()}, PACK))
    assert empty.schema == STATEMENT_SCHEMA and empty.num_rows == 0


def test_same_day_claims_of_many_persons_settle_by_claim_id(year):
    claims, lines = year
    days = np.asarray(claims["dscg_date"]).astype("datetime64[D]")
    same = copy.copy(claims)
    month_start = days.astype("datetime64[M]").astype("datetime64[D]")
    same["dscg_date"] = np.where(np.arange(len(days)) % 3 == 0, days, month_start)
    same["adm_date"] = np.minimum(np.asarray(claims["adm_date"]).astype("datetime64[D]"), same["dscg_date"])
    scrambled = np.random.default_rng(5).permutation(len(days))
    where = np.empty(len(days), dtype=np.int64)
    where[scrambled] = np.arange(len(days))
    shuffled = {k: np.asarray(v)[scrambled] for k, v in same.items()}
    moved = dict(lines, claim=where[np.asarray(lines["claim"])])
    out, _ = settle_columns(shuffled, moved, PACK)
    rows = list(zip(out["psn_no"], out["dscg_date"], out["claim_id"]))
    ties = len(rows) - len(set(r[:2] for r in rows))
    assert ties > 10 and rows == sorted(rows)
    given_in_order = settle_columns(same, lines, PACK)[0]
    assert out.set_index("claim_id").sort_index().equals(given_in_order.set_index("claim_id").sort_index())
    assert all(isinstance(d, dt.date) for d in out["dscg_date"])


def test_lines_given_claim_by_claim_move_as_blocks_like_a_stable_sort():
    from yibao.settlement.inputs import _by_claim

    rng = np.random.default_rng(8)
    counts = rng.integers(0, 5, size=200)
    where = np.repeat(np.arange(200), counts)  # claim by claim, some claims without lines
    order = rng.permutation(200)
    rank = np.empty(200, dtype=np.int64)
    rank[order] = np.arange(200)
    ends = np.cumsum(counts[order])
    got = _by_claim(where, rank, ends - counts[order])
    assert (got == np.argsort(rank[where], kind="stable")).all()


def test_a_negative_line_names_its_own_claim():
    import pandas as pd

    from yibao.errors import ValidationError
    from yibao.settlement import settle_frame

    claims = pd.DataFrame([dict(claim_id=c, psn_no="P1", insutype="310", psn_type="11", med_type="11", level="3",
                                age=40, dscg_date=dt.date(2024, 3, d)) for c, d in (("C1", 1), ("C2", 2))])
    lines = pd.DataFrame([dict(claim_id="C1", amount_fen=100, item_class="A"),
                          dict(claim_id="C2", amount_fen=-5, item_class="A")])
    with pytest.raises(ValidationError) as e:
        settle_frame(claims, lines, PACK)
    assert e.value.field == "amount_fen" and e.value.record == "claim_lines row 1 (claim C2)"
