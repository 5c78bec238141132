"""The SM3 audit chain: its documented hash, and each kind of tampering found at the row where it was done."""

from __future__ import annotations

import json
import math
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.api.sm3 import sm3_hex
from yibao.errors import ValidationError
from yibao.ledger import GENESIS_HASH, ChainRow, chain_row, chain_rows, record_hash, verify_chain


def _message(i: int) -> dict:
    return {"infno": "2207", "msgid": f"H43028100255202109270920{i:06d}", "fixmedins_name": "醴陵远恒医院",
            "input": {"data": {"psn_no": f"43000000000000{i:04d}", "medfee_sumamt": 123.45 + i}}}


def _chain(n: int = 10) -> list[ChainRow]:
    return list(chain_rows(_message(i) for i in range(1, n + 1)))


def _broken(rows) -> tuple[int | None, str | None]:
    report = verify_chain(rows)
    assert not report.ok and report.reason
    return report.broken_seq, report.kind


def _renumbered(rows: list[ChainRow]) -> list[ChainRow]:
    return [row._replace(seq=seq) for seq, row in enumerate(rows, 1)]


def test_the_hash_is_sm3_of_prev_hash_and_canonical_json():
    record = {"b": "张三", "a": [1, 2.5, None]}
    assert record_hash(GENESIS_HASH, record) == sm3_hex(("0" * 64 + '{"a":[1,2.5,null],"b":"张三"}').encode("utf-8"))
    assert GENESIS_HASH == "0" * 64


def test_an_intact_chain_verifies_to_its_head():
    rows = _chain()
    report = verify_chain(rows)
    assert report.ok and report.rows_checked == 10 and (report.head_seq, report.head_hash) == (10, rows[-1].hash)
    assert rows[0].prev_hash == GENESIS_HASH and all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    assert verify_chain(rows, head=(10, rows[-1].hash)).ok and verify_chain(rows, head=(4, rows[3].hash)).ok


def test_an_empty_chain_is_intact():
    assert verify_chain([]) == verify_chain([], head=(0, GENESIS_HASH))
    assert verify_chain([]).ok and verify_chain([]).head_hash == GENESIS_HASH


def test_a_segment_verifies_from_a_checkpoint():
    rows = _chain()
    assert verify_chain(rows[5:], start_seq=6, start_hash=rows[4].hash).ok
    assert _broken(rows[5:]) == (1, "deleted")


def test_a_store_that_reformats_json_still_verifies():
    rows = [row._replace(record_json=json.dumps(json.loads(row.record_json), indent=2)) for row in _chain()]
    assert verify_chain(rows).ok


def test_an_edited_record_is_found_at_its_row():
    rows = _chain()
    edited = json.loads(rows[4].record_json) | {"fixmedins_name": "另一家医院"}
    rows[4] = rows[4]._replace(record_json=json.dumps(edited, ensure_ascii=False))
    assert _broken(rows) == (5, "edited")


def test_an_edited_stored_hash_is_found_at_its_row():
    rows = _chain()
    rows[4] = rows[4]._replace(hash="f" * 64)
    assert _broken(rows) == (5, "edited")


def test_an_unreadable_record_is_found_at_its_row():
    rows = _chain()
    rows[2] = rows[2]._replace(record_json="{not json")
    assert _broken(rows) == (3, "edited")
    rows = _chain()
    rows[2] = (3, rows[2].prev_hash, rows[2].hash)
    assert _broken(rows) == (3, "edited")


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link():
    rows = _chain()
    rows[4] = chain_row(5, rows[4].prev_hash, {"forged": True})
    assert _broken(rows) == (6, "rehashed")


def test_a_deleted_row_is_found_by_its_missing_seq():
    rows = _chain()
    assert _broken(rows[:4] + rows[5:]) == (5, "deleted")
    assert _broken(rows[:4] + rows[7:]) == (5, "deleted")
    assert _broken(rows[1:]) == (1, "deleted")


def test_a_deleted_row_with_the_rest_renumbered_breaks_the_link_there():
    rows = _chain()
    assert _broken(_renumbered(rows[:4] + rows[5:])) == (5, "rehashed")


def test_an_inserted_row_with_its_hash_computed_is_found():
    rows = _chain()
    forged = chain_row(5, rows[3].hash, {"forged": True})
    assert _broken(_renumbered(rows[:4] + [forged] + rows[4:])) == (5, "inserted")


def test_an_inserted_row_with_any_prev_hash_is_found():
    rows = _chain()
    forged = chain_row(5, "a" * 64, {"forged": True})
    assert _broken(_renumbered(rows[:4] + [forged] + rows[4:])) == (5, "inserted")


def test_an_inserted_row_under_a_used_seq_is_found():
    rows = _chain()
    forged = chain_row(5, rows[4].hash, {"forged": True})
    assert _broken(rows[:5] + [forged] + rows[5:]) == (5, "inserted")


def test_swapped_records_are_found_as_reordered():
    rows = _chain()
    swapped = rows[:3] + [rows[4]._replace(seq=4), rows[3]._replace(seq=5)] + rows[5:]
    assert _broken(swapped) == (4, "reordered")


def test_rows_read_out_of_seq_order_are_found_as_reordered():
    rows = _chain()
    assert _broken(rows[:3] + [rows[4], rows[3]] + rows[5:]) == (4, "reordered")
    assert _broken(rows[:6] + [rows[2]] + rows[6:]) == (3, "reordered")


def test_a_cut_tail_shows_only_against_an_anchor():
    rows = _chain()
    assert verify_chain(rows[:8]).ok
    report = verify_chain(rows[:8], head=(10, rows[-1].hash))
    assert (report.ok, report.broken_seq, report.kind) == (False, 9, "truncated")


def test_a_rewritten_tail_shows_against_an_anchor():
    rows = _chain()
    rewritten = rows[:6] + list(chain_rows([{"forged": i} for i in range(4)], start_seq=7, start_hash=rows[5].hash))
    assert verify_chain(rewritten).ok
    report = verify_chain(rewritten, head=(10, rows[-1].hash))
    assert (report.ok, report.broken_seq, report.kind) == (False, 10, "rehashed")


@given(st.integers(min_value=1, max_value=12), st.data())
def test_any_single_edit_is_found_at_its_row(length, data):
    rows = _chain(length)
    at = data.draw(st.integers(min_value=0, max_value=length - 1))
    rows[at] = rows[at]._replace(record_json=json.dumps({"edited": at}))
    report = verify_chain(rows)
    assert (report.ok, report.broken_seq, report.kind, report.rows_checked) == (False, at + 1, "edited", at)


def test_verifying_streams_in_constant_memory():
    def rows(n):
        return chain_rows({"n": i, "pad": "x" * 200} for i in range(n))

    peaks = []
    for n in (2_000, 20_000):
        tracemalloc.start()
        assert verify_chain(rows(n)).rows_checked == n
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 2 * peaks[0] + 50_000  # ten times the rows, no more memory than noise


def test_a_record_that_is_not_json_is_refused_with_its_field():
    with pytest.raises(ValidationError, match="record: not canonical JSON"):
        record_hash(GENESIS_HASH, {"amount": math.nan})
    with pytest.raises(ValidationError, match="prev_hash: 'ABC' is not 64 lowercase hex digits"):
        record_hash("ABC", {})
