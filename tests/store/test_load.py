from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from yibao.errors import ValidationError
from yibao.lake import io as lake_io
from yibao.lake.schema import TABLES
from yibao.store import Store, make_engine
from yibao.store.load import load_lake


COVERAGE = [{"psn_no": "P00003", "year": 2025, "tier": 2, "supplementary": "huiminbao"},
            {"psn_no": "P00004", "year": 2025, "tier": 1, "supplementary": None}]
BALANCES = [{"psn_no": "P00001", "year": 2025, "balance_fen": 123_456}]


def write_lake(folder: Path, make, *, persons=None, lines_parts=None, enrollments=None, claims=None,
               coverage=None, balances=None, sum_lines=True) -> Path:
    """A small valid lake; each claim's medfee_sumamt_fen is the sum of its lines unless not ``sum_lines``."""
    def put(table, rows):
        lake_io.write_table(folder, table, pa.Table.from_pylist(rows, schema=TABLES[table]))

    put("regions", [{"admdvs": "370300", "name": "淄博市", "parent_admdvs": "370000", "level": "city"},
                    {"admdvs": "370302", "name": "淄川区", "parent_admdvs": "370300", "level": "county"}])
    put("employers", [make.employer(1)])
    put("persons", persons or [make.person(n, household_id=f"H{n // 2}") for n in range(1, 5)])
    put("enrollments", enrollments or [
        make.spell("S1", "P00001", date(2020, 1, 1)),
        make.spell("S2", "P00002", date(2020, 1, 1), date(2024, 12, 31)),
        make.spell("S3", "P00002", date(2025, 1, 1), psn_type="12"),
        make.spell("S4", "P00003", date(2019, 1, 1), insutype="390"),
        # the same person enrolled in another region at the same time: loaded, for the duplicate finder
        make.spell("S5", "P00003", date(2024, 1, 1), insutype="390", admdvs="370303"),
    ])
    put("identities", [{"psn_no": "P00003", "identity": "dibao", "start_date": date(2024, 1, 1), "end_date": None}])
    put("institutions", [make.institution(), make.institution("P37030200002", kind="pharmacy", level="0")])
    put("catalog", [make.catalog_item(), make.catalog_item("001201000010000", kind="service", item_class="A",
                                                           preselfpay_ppm=0)])
    put("contributions", [{"psn_no": "P00001", "year": 2025, "insutype": "310", "employer_fen": 120_000,
                           "individual_fen": 48_000, "subsidy_fen": 0, "sponsored_fen": 0}])
    put("coverage_choices", COVERAGE if coverage is None else coverage)
    put("account_balances", BALANCES if balances is None else balances)
    parts = lines_parts or [[make.line(1), make.line(2), make.line(1, "C2")], [make.line(1, "C3")]]
    claims = claims or [make.claim("C1"), make.claim("C2", psn_no="P00002"),
                        make.claim("C3", code="P37030200002", med_type="41", dscg_date=None, los=None,
                                   diagnoses="E11.900", procedures=None)]
    if sum_lines:
        totals: dict[str, int] = {}
        for ln in (ln for part in parts for ln in part):
            totals[ln["claim_id"]] = totals.get(ln["claim_id"], 0) + ln["amount_fen"]
        claims = [{**c, "medfee_sumamt_fen": totals.get(c["claim_id"], c["medfee_sumamt_fen"])} for c in claims]
    put("claims", claims)
    writer = lake_io.ChunkWriter(folder, "claim_lines")
    for part in parts:
        writer.write(pa.Table.from_pylist(part, schema=TABLES["claim_lines"]))
    lake_io.write_table(folder, "fraud_labels", pa.Table.from_pylist(
        [{"claim_id": "C2", "label": "bed_hanging", "detail": "no treatment lines"}], schema=TABLES["fraud_labels"]))
    return folder


def counts(url) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in ("persons", "enrollments", "claims", "claim_lines")}
    finally:
        engine.dispose()


def test_load_small_lake(db_url, tmp_path, make):
    lake = write_lake(tmp_path / "lake", make)
    seen = []
    loaded = load_lake(lake, db_url, progress=lambda t, done, total: seen.append((t, done, total)))
    assert loaded == {"regions": 2, "employers": 1, "persons": 4, "enrollments": 5, "identities": 1,
                      "institutions": 2, "catalog": 2, "contributions": 1, "coverage_choices": 2,
                      "account_balances": 1, "claims": 3, "claim_lines": 4, "fraud_labels": 1}
    assert ("claim_lines", 4, 4) in seen and ("claim_lines", 3, 4) in seen
    with Store(db_url) as store, store.unit() as uow:
        assert uow.persons.get("P00002") == make.person(2, household_id="H1")
        assert [s["spell_id"] for s in uow.enrollments.active_on("P00002", date(2025, 2, 1))] == ["S3"]
        assert uow.identities.for_person("P00003", on=date(2025, 1, 1))[0]["identity"] == "dibao"
        c1 = uow.claims.for_person("P00001", 2025)[0]
        assert c1["medfee_sumamt_fen"] == 4_000 and c1["out_of_region"] is False
        assert [ln["line_no"] for ln in c1["lines"]] == [1, 2]
        assert uow.claims.get("C3")["dscg_date"] is None and uow.claims.get("C3")["procedures"] is None
        assert uow.catalog.get("001201000010000", on=date(2025, 1, 1))["item_class"] == "A"
        assert len(uow.enrollments.all_spells()) == 5
        s = uow.summary()
    assert s["claims"]["claims"].sum() == 3


def assert_refused(db_url, lake, *fragments, **options):
    with pytest.raises(ValidationError) as e:
        load_lake(lake, db_url, **options)
    for f in fragments:
        assert f in str(e.value), str(e.value)
    assert set(counts(db_url).values()) == {0}, "nothing may be written"
    return e.value


def test_bad_person_refused_with_file_and_row(db_url, tmp_path, make):
    people = [make.person(n) for n in range(1, 5)]
    people[2] = {**people[2], "birth_date": date(1980, 5, 7)}
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, persons=people),
                         "persons.parquet row 3", "psn_no=P00003")
    assert err.field == "birth_date"


def test_bad_line_in_second_part_refused(db_url, tmp_path, make):
    parts = [[make.line(1), make.line(2)], [make.line(1, "C2"), make.line(2, "C2", amount_fen=-1)]]
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, lines_parts=parts),
                         "part-00001.parquet row 2", "claim_id=C2")
    assert err.field == "amount_fen"


def test_unknown_claim_in_lines_refused(db_url, tmp_path, make):
    parts = [[make.line(1), make.line(1, "C9")]]
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, lines_parts=parts),
                         "part-00000.parquet row 2", "'C9' is not a claim_id in claims")
    assert err.field == "claim_id"


def test_discharge_before_admission_refused(db_url, tmp_path, make):
    claims = [make.claim("C1"), make.claim("C2", adm_date=date(2025, 3, 5), dscg_date=date(2025, 3, 4))]
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, claims=claims), "claims.parquet row 2")
    assert err.field == "dscg_date"


def test_overlapping_spells_in_lake_refused(db_url, tmp_path, make):
    spells = [make.spell("S1", "P00001", date(2020, 1, 1), date(2021, 6, 30)),
              make.spell("S2", "P00001", date(2021, 6, 30))]
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, enrollments=spells),
                         "enrollments.parquet row 2", "S1", "S2")
    assert err.field == "start_date"


def test_duplicate_key_across_parts_refused(db_url, tmp_path, make):
    parts = [[make.line(1), make.line(2)], [make.line(2)]]
    assert_refused(db_url, write_lake(tmp_path / "lake", make, lines_parts=parts), "part-00001.parquet rows 1–1")


def test_icd_validator(db_url, tmp_path, make):
    known = {"K35.800", "I10.x00", "E11.900", "47.0900"}

    def check(code):
        if code not in known:
            raise ValidationError("code", f"{code!r} unknown")
        return code

    lake = write_lake(tmp_path / "lake", make, claims=[make.claim("C1"), make.claim("C2", diagnoses="K35.800|Q99.999"),
                                                        make.claim("C3")])
    err = assert_refused(db_url, lake, "claims.parquet row 2", "'Q99.999' is not a known ICD-10 code",
                         icd10=check, icd9=check)
    assert err.field == "diagnoses"
    # without the validator the same lake loads; a validator returning False also rejects
    assert load_lake(lake, db_url)["claims"] == 3
    with pytest.raises(ValidationError, match="'47.0900' is not a known ICD-9-CM-3"):
        load_lake(write_lake(tmp_path / "lake2", make), f"sqlite:///{tmp_path / 'y.db'}", icd9=lambda c: False)


def test_missing_column_refused(tmp_path, make):
    lake = write_lake(tmp_path / "lake", make)
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(lake / "persons.parquet").drop_columns(["household_id"]), lake / "persons.parquet")
    with pytest.raises(ValidationError, match="persons.parquet: household_id: column missing"):
        load_lake(lake, f"sqlite:///{tmp_path / 'x.db'}")


def test_employer_supplementary_loaded_and_optional_in_older_lakes(db_url, tmp_path, make):
    import pyarrow.parquet as pq

    lake = write_lake(tmp_path / "lake", make)
    rows = [make.employer(1, has_supplementary=True), make.employer(2, has_supplementary=False)]
    lake_io.write_table(lake, "employers", pa.Table.from_pylist(rows, schema=TABLES["employers"]))
    load_lake(lake, db_url)
    with Store(db_url).unit() as uow:
        assert uow.employers.get("E0001")["has_supplementary"] is True
        assert uow.employers.get("E0002")["has_supplementary"] is False
    # a lake written before the column existed loads it as null (not reported)
    old = write_lake(tmp_path / "old", make)
    pq.write_table(pq.read_table(old / "employers.parquet").drop_columns(["has_supplementary"]), old / "employers.parquet")
    url = f"sqlite:///{tmp_path / 'old.db'}"
    load_lake(old, url)
    with Store(url).unit() as uow:
        assert uow.employers.get("E0001")["has_supplementary"] is None


def test_not_a_lake(tmp_path):
    with pytest.raises(ValidationError, match="no lake table"):
        load_lake(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")


def test_loading_twice_is_refused_and_keeps_the_first_load(db_url, tmp_path, make):
    lake = write_lake(tmp_path / "lake", make)
    load_lake(lake, db_url)
    before = counts(db_url)
    with pytest.raises(ValidationError, match="regions.parquet rows 1–2: admdvs: the database refused"):
        load_lake(lake, db_url)
    assert counts(db_url) == before


def test_lake_referring_to_rows_already_in_the_store(db_url, tmp_path, make):
    """Claims may refer to persons and institutions loaded earlier (keys are looked up in the database)."""
    first = write_lake(tmp_path / "first", make)
    load_lake(first, db_url)
    later = tmp_path / "later"
    rows = [make.claim("C10"), make.claim("C11", psn_no="P00009")]
    lake_io.write_table(later, "claims", pa.Table.from_pylist(rows[:1], schema=TABLES["claims"]))
    assert load_lake(later, db_url) == {"claims": 1}
    lake_io.write_table(later, "claims", pa.Table.from_pylist(rows, schema=TABLES["claims"]))
    with pytest.raises(ValidationError, match="row 2 .*'P00009' is not a psn_no in persons"):
        load_lake(later, db_url)


def test_schema_and_foreign_keys_intact_after_a_load(db_url, tmp_path, make):
    """The PostgreSQL bulk path re-adds the foreign keys it defers: the schema still equals the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from yibao.store.models import metadata

    load_lake(write_lake(tmp_path / "lake", make), db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO claim_lines (claim_id, line_no, item_code, kind, qty, price_fen, "
                                 "amount_fen) VALUES ('NOPE', 1, 'X', 'drug', 1, 1, 1)"))
    finally:
        engine.dispose()


def test_file_with_wrong_column_type_refused(tmp_path, make):
    import pyarrow.parquet as pq

    lake = write_lake(tmp_path / "lake", make)
    claims = pq.read_table(lake / "claims.parquet")
    i = claims.schema.get_field_index("medfee_sumamt_fen")
    pq.write_table(claims.set_column(i, "medfee_sumamt_fen", pa.array(["lots"] * claims.num_rows)),
                   lake / "claims.parquet")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ValidationError, match="claims.parquet: file: cannot be read as Parquet in the lake schema"):
        load_lake(lake, url)
    assert set(counts(url).values()) == {0}


@pytest.mark.parametrize("broken", ["persons.parquet", "claim_lines/part-00001.parquet"])
def test_corrupt_parquet_file_named(db_url, tmp_path, make, broken):
    lake = write_lake(tmp_path / "lake", make)
    path = lake / broken
    path.write_bytes(path.read_bytes()[:200])  # truncated: the footer is gone
    err = assert_refused(db_url, lake, f"{path}: file: cannot be read as Parquet", "magic bytes not found")
    assert err.field == "file"


def test_file_that_is_no_parquet_named(tmp_path, make):
    lake = write_lake(tmp_path / "lake", make)
    (lake / "claim_lines" / "notes.txt").write_text("not a table\n")
    with pytest.raises(ValidationError, match=r"claim_lines/notes.txt: file: cannot be read as Parquet"):
        load_lake(lake, f"sqlite:///{tmp_path / 'x.db'}")


def test_line_amount_not_price_times_qty_refused(db_url, tmp_path, make):
    parts = [[make.line(1), make.line(2, qty=3.0, price_fen=930, amount_fen=100)], [make.line(1, "C3")]]
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, lines_parts=parts),
                         "claim_lines/part-00000.parquet row 2 (claim_id=C1, line_no=2)",
                         "100 is not price_fen × qty = 930 × 3 = 2790.00")
    assert err.field == "amount_fen"


def test_line_amount_rounded_to_the_fen_accepted(db_url, tmp_path, make):
    parts = [[make.line(1, qty=0.5, price_fen=333, amount_fen=167),  # half-up
              make.line(2, qty=0.5, price_fen=333, amount_fen=166),  # truncated
              make.line(3, qty=1 / 3, price_fen=1000, amount_fen=333)]]
    assert load_lake(write_lake(tmp_path / "lake", make, lines_parts=parts), db_url)["claim_lines"] == 3
    bad = [[make.line(1, qty=0.5, price_fen=333, amount_fen=165)]]
    assert_refused(f"sqlite:///{tmp_path / 'bad.db'}", write_lake(tmp_path / "bad", make, lines_parts=bad),
                   "165 is not price_fen × qty = 333 × 0.5 = 166.50")


def test_amount_beyond_one_hundred_million_yuan_refused(db_url, tmp_path, make):
    """9 × 10^18 fen (the 89,999,999,999,808,196.22 元 cash a settlement once showed) is no line amount."""
    huge = 3_000_000_000_000_000_000
    parts = [[make.line(1), make.line(2, qty=3.0, price_fen=huge, amount_fen=3 * huge)]]
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, lines_parts=parts, sum_lines=False),
                         "part-00000.parquet row 2 (claim_id=C1, line_no=2)",
                         "3,000,000,000,000,000,000 fen is beyond the bound of 10,000,000,000 fen (1亿元)")
    assert err.field == "price_fen"
    claims = [make.claim("C1"), make.claim("C2", medfee_sumamt_fen=10_000_000_001), make.claim("C3")]
    err = assert_refused(db_url, write_lake(tmp_path / "lake2", make, claims=claims, sum_lines=False),
                         "claims.parquet row 2")
    assert err.field == "medfee_sumamt_fen"


def test_total_that_would_overflow_refused(db_url, tmp_path, make, monkeypatch):
    """The running total of a money column counts the rows already in the store and every file."""
    from yibao.store import load

    claims = [make.claim("C1", medfee_sumamt_fen=4000), make.claim("C2", psn_no="P00002", medfee_sumamt_fen=2000),
              make.claim("C3", code="P37030200002", med_type="41", dscg_date=None, los=None, diagnoses="E11.900",
                         procedures=None, medfee_sumamt_fen=2000)]
    load_lake(write_lake(tmp_path / "first", make, claims=claims), db_url)  # 4 lines of 2,000 fen
    monkeypatch.setattr(load, "SUM_LIMIT", 13_000)
    second = tmp_path / "second"
    lake_io.write_table(second, "claims", pa.Table.from_pylist([make.claim("C9", medfee_sumamt_fen=4000)],
                                                               schema=TABLES["claims"]))
    writer = lake_io.ChunkWriter(second, "claim_lines")
    for part in ([make.line(1, "C9"), make.line(2, "C9")], [make.line(3, "C9")]):
        writer.write(pa.Table.from_pylist(part, schema=TABLES["claim_lines"]))
    with pytest.raises(ValidationError) as e:
        load_lake(second, db_url)
    assert ("part-00001.parquet rows 1–1: amount_fen: the total over claim_lines would reach 14,000 fen"
            in str(e.value))
    assert counts(db_url)["claim_lines"] == 4


def test_coverage_choices_and_opening_balances_round_trip(db_url, tmp_path, make):
    load_lake(write_lake(tmp_path / "lake", make), db_url)
    with Store(db_url) as store, store.unit() as uow:
        assert uow.coverage_choices.get("P00003", 2025) == COVERAGE[0]
        assert uow.coverage_choices.get("P00004", 2025)["supplementary"] is None
        assert uow.account_balances.opening("P00001", 2025) == 123_456
        for table, rows in (("coverage_choices", COVERAGE), ("account_balances", BALANCES)):
            stored = getattr(uow, table).all().sort_values("psn_no").reset_index(drop=True)
            assert pa.Table.from_pandas(stored, schema=TABLES[table], preserve_index=False).equals(
                pa.Table.from_pylist(rows, schema=TABLES[table]))


@pytest.mark.parametrize("table, rows, field, fragment", [
    ("coverage", [{"psn_no": "P00009", "year": 2025, "tier": 1, "supplementary": None}],
     "psn_no", "coverage_choices.parquet row 1 (psn_no=P00009, year=2025): psn_no: 'P00009' is not a psn_no"),
    ("coverage", [COVERAGE[0], {**COVERAGE[0], "tier": 3}],
     "psn_no", "coverage_choices.parquet row 2 (psn_no=P00003, year=2025): psn_no: duplicate psn_no+year"),
    ("coverage", [{**COVERAGE[0], "supplementary": "huiminbao||x"}],
     "supplementary", "'huiminbao||x' is not '|'-joined tier names"),
    ("coverage", [{**COVERAGE[0], "tier": -1}], "tier", "tier: -1 is negative"),
    ("coverage", [{**COVERAGE[0], "year": 25}], "year", "year: 25 is not a plausible year"),
    ("balances", [{"psn_no": "P00001", "year": 2025, "balance_fen": -1}],
     "balance_fen", "account_balances.parquet row 1 (psn_no=P00001, year=2025): balance_fen: -1 is negative"),
    ("balances", [{"psn_no": "P00001", "year": 2025, "balance_fen": 10**11}],
     "balance_fen", "beyond the bound of 10,000,000,000 fen"),
])
def test_bad_coverage_choice_or_opening_balance_refused(db_url, tmp_path, make, table, rows, field, fragment):
    err = assert_refused(db_url, write_lake(tmp_path / "lake", make, **{table: rows}), fragment)
    assert err.field == field


def with_invalid_utf8(path: Path, column: str, row: int) -> None:
    """Rewrite a Parquet file so ``column`` holds bytes that are no UTF-8 at ``row`` (as another tool may write)."""
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    col = t.column(column).combine_chunks()
    validity, offsets, data = col.buffers()
    data = bytearray(data.to_pybytes())
    data[int.from_bytes(offsets.to_pybytes()[4 * row: 4 * row + 4], "little")] = 0xFF  # the row's first byte
    bad = pa.Array.from_buffers(pa.string(), len(col), [validity, offsets, pa.py_buffer(bytes(data))])
    pq.write_table(t.set_column(t.schema.get_field_index(column), column, bad), path)


def test_text_that_is_no_utf8_named(db_url, tmp_path, make):
    lake = write_lake(tmp_path / "lake", make)
    with_invalid_utf8(lake / "persons.parquet", "name", 2)
    err = assert_refused(db_url, lake, "persons.parquet row 3: name: b'\\xff", "is not UTF-8 text")
    assert err.field == "name"


def test_claim_total_not_the_sum_of_its_lines_refused(db_url, tmp_path, make):
    lake = write_lake(tmp_path / "lake", make, sum_lines=False)  # C1's lines sum to 4,000, its total is 1,000,000
    err = assert_refused(db_url, lake, "claims.parquet row 1 (claim_id=C1)",
                         "1000000 is not the sum of the claim's lines' amount_fen, 4000")
    assert err.field == "medfee_sumamt_fen"
    # a claim without lines (a claims-only history year) has nothing to add up
    only_c1 = [[make.line(1), make.line(2)]]
    claims = [make.claim("C1", medfee_sumamt_fen=4000), make.claim("C2", psn_no="P00002")]
    assert load_lake(write_lake(tmp_path / "ok", make, claims=claims, lines_parts=only_c1, sum_lines=False),
                     db_url)["claims"] == 2
