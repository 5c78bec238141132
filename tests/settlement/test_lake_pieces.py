"""A lake part settled in pieces of whole persons gives the part's own rows, in its own order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from yibao.settlement import batch


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    out = tmp_path_factory.mktemp("region")
    generate(SynthConfig(persons=300, seed=11), out)
    return out


def _part(region):
    from yibao.lake.claims import lake_parts, read_people

    return next(iter(lake_parts(region, read_people(region, None, False))))


def test_pieces_hold_whole_persons_and_every_claim_with_its_lines(region):
    claims, lines = _part(region)
    pieces = list(batch.person_pieces(claims, lines, 200))
    assert len(pieces) > 3
    persons = [set(np.asarray(c["person"]).tolist()) for c, _ in pieces]
    assert sum(map(len, persons)) == len(set().union(*persons)) == len(set(claims["person"].tolist()))
    assert max(max(p) for p in persons[:-1]) < min(persons[-1])  # in person order
    ids = np.concatenate([np.asarray(c["claim_id"], dtype=object) for c, _ in pieces])
    assert sorted(ids) == sorted(np.asarray(claims["claim_id"], dtype=object))
    whole_ids = np.asarray(claims["claim_id"], dtype=object)
    for c, ln in pieces:  # a piece's coded columns name only its own values, once each
        for coded in (c["diagnoses"], ln["item_code"]):
            assert sorted(coded.categories) == sorted(set(np.asarray(coded)))
        piece_ids = np.asarray(c["claim_id"], dtype=object)
        whole = np.isin(whole_ids[lines["claim"]], piece_ids)
        assert sorted(map(tuple, zip(piece_ids[ln["claim"]], ln["amount"]))) == sorted(
            map(tuple, zip(whole_ids[lines["claim"]][whole], lines["amount"][whole])))


def test_a_part_smaller_than_a_piece_is_itself(region):
    claims, lines = _part(region)
    [(c, ln)] = batch.person_pieces(claims, lines, len(claims["person"]))
    assert c is claims and ln is lines


def test_the_year_settled_in_pieces_is_the_year_settled_whole(region, tmp_path, monkeypatch):
    whole, whole_summary = batch.settle_lake(region, "demo", closing=True)
    batch.settle_lake(region, "demo", out=tmp_path / "whole.parquet")
    monkeypatch.setattr(batch, "SMALL_PIECE", 150)  # a small lake's pieces
    cut, cut_summary = batch.settle_lake(region, "demo", closing=True)
    batch.settle_lake(region, "demo", out=tmp_path / "cut.parquet")
    pd.testing.assert_frame_equal(cut, whole)
    pd.testing.assert_frame_equal(cut_summary.pop("accumulators"), whole_summary.pop("accumulators"))
    assert cut_summary == whole_summary
    assert pq.read_table(tmp_path / "cut.parquet").equals(pq.read_table(tmp_path / "whole.parquet"))


def test_a_small_lake_hands_freed_memory_back_and_a_large_one_keeps_it(region, monkeypatch):
    """The part's working memory is most of a small lake's peak: its Arrow buffers go to a pool that
    returns freed pages; a lake from ``LARGE_LAKE`` claims keeps freed memory instead."""
    import pyarrow as pa

    from yibao.lake.parts import claim_count
    from yibao.settlement import memory

    before = pa.default_memory_pool()
    try:
        assert claim_count(region) == pq.read_table(region / "claims").num_rows > 0
        assert memory.lake_memory(claim_count(region)) == "return"
        assert pa.default_memory_pool().backend_name in ("jemalloc", "system")
        kept = []
        monkeypatch.setattr(memory, "keep_freed_memory", lambda claims: kept.append(claims))
        pa.set_memory_pool(before)
        assert memory.lake_memory(memory.LARGE_LAKE) == "keep" and kept == [memory.LARGE_LAKE]
        assert pa.default_memory_pool().backend_name == before.backend_name
    finally:
        pa.set_memory_pool(before)


def test_a_small_lake_settles_in_smaller_pieces(region, monkeypatch):
    """Below ``LARGE_LAKE`` claims a part's working memory is most of the peak, so its pieces are smaller."""
    from yibao.lake.claims import read_people
    from yibao.lake.parts import PartFiles

    people = read_people(region, None, False)
    monkeypatch.setattr(batch, "PIECE", 400)
    monkeypatch.setattr(batch, "SMALL_PIECE", 200)

    def sizes(large_from):
        monkeypatch.setattr(batch, "LARGE_LAKE", large_from)
        return [len(c["person"]) for c, _ in batch._lake_pieces(PartFiles(region), people)]

    small, large = sizes(10**9), sizes(0)
    assert sum(small) == sum(large) and len(small) > len(large) > 1
    assert max(small) < 400 <= max(large)
