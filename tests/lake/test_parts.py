"""A lake's part files read as Arrow tables ahead of the caller: in the lake schema's types, a column
an older file lacks as nulls, a file of another type refused naming it, each part read once."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from yibao.errors import ValidationError
from yibao.lake.parts import CLAIM_COLUMNS, PartFiles, part_tables, parts


def test_the_first_part_is_read_from_the_start_and_each_once(lake, monkeypatch):
    import yibao.lake.parts as module

    read = []
    monkeypatch.setattr(module, "part_tables", lambda c, ln: read.append(c.name) or part_tables(c, ln))
    pairs = parts(lake)
    prepared = []
    files = PartFiles(lake, prepare=lambda claims: prepared.append((claims, list(read))))
    assert prepared == [(files.claims, [])] and files.claims == sum(pq.read_table(c).num_rows for c, _ in pairs)
    settled = lambda: files._reader.submit(lambda: None).result()  # noqa: E731 - the reader's queue done
    settled()  # the first part is read before anyone asks
    assert read == [pairs[0][0].name] and len(files) == len(pairs) >= 3
    files.next()
    files.read_ahead()
    files.read_ahead()  # asked twice: read once
    settled()
    assert read == [c.name for c, _ in pairs[:2]]
    taken = [None, files.next(), *(files.next() for _ in pairs[2:])]
    assert read == [c.name for c, _ in pairs] and [pair for pair, _ in taken[1:]] == pairs[1:]
    (claims, lines) = taken[1][1]
    assert claims.equals(part_tables(*pairs[1])[0]) and lines.num_rows > 0
    with pytest.raises(IndexError):
        files.next()


def test_columns_come_in_the_lake_types_and_a_missing_one_as_nulls(lake, tmp_path):
    claims_path, lines_path = parts(lake)[0]
    t = pq.read_table(claims_path)
    older = tmp_path / "claims.parquet"
    pq.write_table(t.drop_columns(["filing"]).set_column(t.schema.get_field_index("med_type"), "med_type",
                                                          t["med_type"].cast(pa.large_string())), older)
    claims, _ = part_tables(older, None)
    assert claims.column_names == CLAIM_COLUMNS
    assert claims["filing"].null_count == len(t) and pa.types.is_dictionary(claims["filing"].type)
    assert claims["med_type"].type == pa.dictionary(pa.int32(), pa.string())
    assert pc.all(pc.equal(claims["med_type"].cast(pa.string()), t["med_type"])).as_py()


def test_a_column_of_another_type_is_refused_naming_the_file(lake, tmp_path):
    _, lines_path = parts(lake)[0]
    t = pq.read_table(lines_path)
    bad = tmp_path / "lines.parquet"
    pq.write_table(t.set_column(t.schema.get_field_index("amount_fen"), "amount_fen",
                                pa.array(["ten"] * len(t))), bad)
    with pytest.raises(ValidationError, match="claim_lines") as e:
        part_tables(parts(lake)[0][0], bad)
    assert str(bad) in str(e.value)
