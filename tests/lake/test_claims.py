"""The lake read part by part for settlement: parts settle as the whole year does, and a lake whose
parts do not pair (a person in two parts, a line beside the wrong claims) is refused."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yibao.errors import ValidationError
from yibao.lake.parts import parts
from yibao.settlement.batch import lake_frame, settle_frame, settle_lake
from yibao.settlement.model import SETLINFO_FIELDS


def test_parts_settle_as_the_whole_year(lake, tmp_path):
    assert len(parts(lake)) >= 3
    by_parts, summary = settle_lake(lake, "demo", accounts=False)
    claims, lines, catalog = lake_frame(lake)
    whole = settle_frame(claims.assign(acct_bal=0, fam_bal=0), lines, "demo", catalog)
    a = by_parts.set_index("claim_id").sort_index()[list(SETLINFO_FIELDS)]
    b = whole.set_index("claim_id").sort_index()[list(SETLINFO_FIELDS)]
    assert len(a) == len(claims) and a.equals(b)
    out = tmp_path / "settled.parquet"
    none, streamed = settle_lake(lake, "demo", accounts=False, out=out)
    assert none is None and streamed["by_insutype"] == summary["by_insutype"]
    written = pq.read_table(out).to_pandas().set_index("claim_id").sort_index()[list(SETLINFO_FIELDS)]
    assert written.equals(a)


def _copy(lake, tmp_path):
    out = tmp_path / "lake"
    shutil.copytree(lake, out)
    return out


def test_a_person_in_two_parts_is_refused(lake, tmp_path):
    bad = _copy(lake, tmp_path)
    first, second = sorted((bad / "claims").glob("*.parquet"))[:2]
    t1, t2 = pq.read_table(first), pq.read_table(second)
    df = t2.to_pandas()
    df.loc[0, "psn_no"] = t1.column("psn_no")[0].as_py()  # one of part 2's claims now belongs to a part-1 person
    pq.write_table(pa.Table.from_pandas(df, schema=t2.schema, preserve_index=False), second)
    with pytest.raises(ValidationError) as e:
        settle_lake(bad, "demo", accounts=False)
    assert e.value.field == "psn_no" and "earlier part" in e.value.problem


def test_lines_beside_the_wrong_claims_are_refused(lake, tmp_path):
    bad = _copy(lake, tmp_path)
    first, second = sorted((bad / "claim_lines").glob("*.parquet"))[:2]
    shutil.copy(first, second)  # part 2's lines replaced by part 1's
    with pytest.raises(ValidationError) as e:
        settle_lake(bad, "demo", accounts=False)
    assert e.value.field == "claim_id" and "not in the claims part beside it" in e.value.problem


def _rewrite(part, change):
    """Part file ``part`` with its claims frame changed by ``change``."""
    t = pq.read_table(part)
    df = change(t.to_pandas())
    pq.write_table(pa.Table.from_pandas(df, schema=t.schema, preserve_index=False), part)


@pytest.mark.parametrize("order", ["in id order", "shuffled"])
def test_a_claim_id_given_twice_in_a_part_is_refused(lake, tmp_path, order):
    bad = _copy(lake, tmp_path)
    part = sorted((bad / "claims").glob("*.parquet"))[1]

    def twice(df):
        df.loc[1, "claim_id"] = df.loc[0, "claim_id"]
        return df if order == "in id order" else df.sample(frac=1, random_state=3)

    _rewrite(part, twice)
    with pytest.raises(ValidationError) as e:
        settle_lake(bad, "demo", accounts=False)
    assert e.value.field == "claim_id" and "given twice" in e.value.problem and e.value.record == str(part)


@pytest.mark.parametrize("column, value, table", [("psn_no", "NOBODY", "persons"),
                                                   ("fixmedins_code", "H00000000000", "institutions")])
def test_a_claim_naming_what_the_lake_does_not_list_is_refused_naming_the_claim(lake, tmp_path, column, value, table):
    bad = _copy(lake, tmp_path)
    part = sorted((bad / "claims").glob("*.parquet"))[2]

    def stranger(df):
        df.loc[5, column] = value
        return df

    _rewrite(part, stranger)
    claim = pq.read_table(part)["claim_id"][5].as_py()
    with pytest.raises(ValidationError) as e:
        settle_lake(bad, "demo", accounts=False)
    assert e.value.field == column and e.value.problem == f"{value!r} is not in {table}"
    assert e.value.record == f"claim {claim}"


def test_text_stored_without_dictionary_pages_settles_the_same(lake, tmp_path):
    """The coded text columns are read as the files' dictionaries; a writer that stores them plain
    (or a dictionary that overflowed to plain pages) gives the same statements."""
    plain = _copy(lake, tmp_path)
    for table in ("claims", "claim_lines"):
        for part in sorted((plain / table).glob("*.parquet")):
            pq.write_table(pq.read_table(part), part, use_dictionary=False)
    meta = pq.ParquetFile(sorted((plain / "claim_lines").glob("*.parquet"))[0]).metadata
    assert not any("DICTIONARY" in e for e in meta.row_group(0).column(2).encodings)  # item_code stored plain
    a, _ = settle_lake(lake, "demo", accounts=False)
    b, _ = settle_lake(plain, "demo", accounts=False)
    assert b.equals(a)
