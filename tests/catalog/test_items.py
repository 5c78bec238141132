"""The shipped catalog and the Catalog API: contents, look-ups by date and version, restrictions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from yibao.catalog.codes import icd10
from yibao.catalog.items import Catalog, catalog_table, claim_context, load_catalog, service_prices
from yibao.errors import ValidationError
from yibao.lake.schema import TABLES


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return load_catalog()


def test_size_kinds_and_classes(shipped):
    assert len(shipped) >= 2000
    assert shipped["item_code"].is_unique
    assert set(shipped["kind"]) == {"drug", "service", "consumable"}
    by = shipped.groupby(["kind", "item_class"]).size()
    for kind, cls in [("drug", "A"), ("drug", "B"), ("drug", "C"), ("service", "A"), ("service", "B"),
                      ("service", "C"), ("consumable", "B")]:
        assert by.get((kind, cls), 0) > 0, (kind, cls)
    assert list(shipped.columns) == [f.name for f in TABLES["catalog"]]


def test_code_shapes(shipped):
    code, kind = shipped["item_code"], shipped["kind"]
    drug = code[kind == "drug"]
    assert (drug.str.match(r"^X") == (drug.str.len() == 23)).all()
    assert drug.str.match(r"^[XZ]").all()
    assert (drug[drug.str.startswith("Z")].str.len() == 20).all()
    cons = code[kind == "consumable"]
    assert cons.str.fullmatch(r"C\d{19}").all()
    assert code[kind == "service"].str.fullmatch(r"\d{9}[a-z]?").all()


def test_prices_rates_and_dates(shipped):
    assert (shipped["price_cap_fen"] > 0).all()
    b = shipped["item_class"] == "B"
    assert (shipped.loc[b, "preselfpay_ppm"] > 0).all()
    assert (shipped.loc[~b, "preselfpay_ppm"] == 0).all()
    assert shipped["begin_date"].notna().all()
    ended = shipped["end_date"].notna()
    assert (shipped.loc[ended, "end_date"] >= shipped.loc[ended, "begin_date"]).all()
    assert shipped["version"].notna().all() and shipped["source"].notna().all()


def test_real_content(shipped):
    by_name = shipped.set_index("name")
    # negotiated drug with a printed 支付标准: price as printed, dates from the 协议有效期
    neg = shipped[shipped["source"].str.contains("支付标准 as printed")]
    assert len(neg) > 100
    assert (neg["end_date"].notna()).all()
    assert (neg["begin_date"] >= pd.Timestamp("2024-01-01")).all()
    # a Shaanxi service: 三级 price as cap, all levels in service_prices
    sp = service_prices()
    row = shipped[shipped["item_code"] == "110200001"].iloc[0]
    levels = sp[sp["item_code"] == "110200001"].set_index("level")["price_fen"]
    assert row["price_cap_fen"] == levels["3"] and levels["3"] >= levels["2"] >= levels["1"] > 0
    assert set(sp["level"]) == {"1", "2", "3"} and (sp["price_fen"] > 0).all()
    assert sp["item_code"].isin(shipped["item_code"]).all()
    assert by_name.loc["体检费", "item_class"] == "C"
    assert by_name.loc["磁共振平扫(3T及以上)", "item_class"] == "B"


def test_restricted_items_of_every_type(shipped):
    assert (shipped["restrict_sex"] == "1").sum() > 0 and (shipped["restrict_sex"] == "2").sum() > 0
    assert shipped["restrict_max_age"].notna().sum() > 0
    assert shipped["restrict_min_age"].notna().sum() > 0
    assert shipped["inpatient_only"].sum() > 0
    assert shipped["restrict_min_level"].notna().sum() > 0
    assert shipped["required_dx"].notna().sum() > 100
    # every required prefix names real 医保 ICD-10 codes
    prefixes = set("|".join(shipped["required_dx"].dropna()).split("|"))
    assert all(len(icd10().codes_with_prefix(p)) > 0 for p in prefixes)
    # the same text gives the same structure in the shipped data
    cancer = shipped[shipped["restriction_text"] == "限二级及以上医疗机构癌症患者。"]
    assert len(cancer) and (cancer["restrict_min_level"] == "2").all() and (cancer["required_dx"] == "C").all()
    # service sex limits from the NHSA rules (子宫造影 is female-only)
    assert shipped.set_index("item_code").loc["210103030", "restrict_sex"] == "2"


def test_catalog_table_is_lake_schema():
    t = catalog_table()
    assert t.schema.equals(TABLES["catalog"]) and t.num_rows == len(load_catalog())


def test_shipped_get_and_lookup(shipped):
    cat = Catalog.shipped()
    assert cat is Catalog.shipped()
    item = cat.get("110200001", on=dt.date(2024, 5, 1))
    assert item.kind == "service" and item.item_class == "A" and isinstance(item.begin_date, dt.date)
    with pytest.raises(ValidationError, match="unknown catalog item 'NOPE'"):
        cat.get("NOPE")
    neg = shipped[shipped["end_date"].notna()].iloc[0]
    after = (neg["end_date"] + pd.Timedelta(days=1)).date()
    with pytest.raises(ValidationError, match="not in force"):
        cat.get(neg["item_code"], on=after)
    codes = ["110200001", "NOPE", neg["item_code"]]
    out = cat.lookup_many(codes, on=[dt.date(2024, 5, 1), dt.date(2024, 5, 1), after])
    assert out["found"].tolist() == [True, False, False]
    assert out["item_code"].tolist() == codes
    assert out.loc[0, "price_cap_fen"] == item.price_cap_fen


# -- a small hand-made catalog ----------------------------------------------------------------------

def _row(code, **kw):
    base = dict(item_code=code, kind="drug", name=code, item_class="A", preselfpay_ppm=0, price_cap_fen=100,
                unit="片", restrict_sex=None, restrict_min_age=None, restrict_max_age=None, inpatient_only=False,
                restrict_min_level=None, required_dx=None, restriction_text=None,
                begin_date=dt.date(2024, 1, 1), end_date=None, version="v1", source="test")
    base.update(kw)
    return base


@pytest.fixture()
def small() -> Catalog:
    return Catalog(pd.DataFrame([
        _row("P1", end_date=dt.date(2024, 12, 31), price_cap_fen=1000),
        _row("P1", begin_date=dt.date(2025, 1, 1), version="v2", price_cap_fen=800, item_class="B",
             preselfpay_ppm=100_000),
        _row("F", restrict_sex="2"),
        _row("KID", restrict_max_age=17),
        _row("ADULT", restrict_min_age=18),
        _row("INP", inpatient_only=True),
        _row("L2", restrict_min_level="2"),
        _row("DM", required_dx="E10|E11|E12|E13|E14"),
        _row("FREE"),
    ]), name="small")


def test_get_by_date_and_version(small):
    assert small.get("P1", on=dt.date(2024, 6, 1)).price_cap_fen == 1000
    assert small.get("P1", on="2025-06-01").price_cap_fen == 800
    assert small.get("P1").version == "v2"  # latest
    assert small.get("P1", version="v1").price_cap_fen == 1000
    assert small.versions("P1") == ["v1", "v2"]
    with pytest.raises(ValidationError, match="no version 'v9'"):
        small.get("P1", version="v9")
    with pytest.raises(ValidationError, match="not in force on 2023-12-31"):
        small.get("P1", on="2023-12-31")
    with pytest.raises(ValidationError, match="version 'v1' is not in force"):
        small.get("P1", on="2025-02-01", version="v1")
    out = small.lookup_many(["P1", "P1", "P1", "FREE"], on=["2024-12-31", "2025-01-01", "2023-01-01", "2024-03-01"])
    assert out["found"].tolist() == [True, True, False, True]
    assert out["price_cap_fen"].iloc[:2].tolist() == [1000, 800]
    assert out["version"].iloc[:2].tolist() == ["v1", "v2"]


@pytest.mark.parametrize("change, field", [
    (dict(item_class="D"), "item_class"), (dict(kind="food"), "kind"), (dict(price_cap_fen=0), "price_cap_fen"),
    (dict(preselfpay_ppm=-1), "preselfpay_ppm"), (dict(restrict_sex="M"), "restrict_sex"),
    (dict(end_date=dt.date(2023, 1, 1)), "end_date"),
    (dict(restrict_min_age=20, restrict_max_age=10), "restrict_min_age"),
    (dict(restrict_min_level="5"), "restrict_min_level"), (dict(price_cap_fen="abc"), "price_cap_fen"),
    (dict(price_cap_fen=12.5), "price_cap_fen"), (dict(inpatient_only="maybe"), "inpatient_only"),
    (dict(begin_date="someday"), "begin_date"), (dict(item_code=None), "item_code"),
])
def test_bad_catalog_rows_are_refused(change, field):
    with pytest.raises(ValidationError) as e:
        Catalog(pd.DataFrame([_row("OK"), _row("BAD", **change)]), name="mine.csv")
    assert field in str(e.value) and "mine.csv row 2" in str(e.value)
    assert "(BAD)" in str(e.value) or field == "item_code"


def test_overlapping_versions_are_refused():
    with pytest.raises(ValidationError, match="two versions in force"):
        Catalog(pd.DataFrame([_row("P"), _row("P", begin_date=dt.date(2024, 6, 1))]))


def test_missing_column_is_refused():
    with pytest.raises(ValidationError, match="required_dx: missing catalog column"):
        Catalog(pd.DataFrame([_row("P")]).drop(columns="required_dx"))


def _claims():
    return pd.DataFrame({
        "claim_id": ["man_out", "woman_in3", "child_out1", "old"],
        "sex": ["1", "2", "1", "2"],
        "age": [40, 30, 5, 80],
        "med_type": ["11", "21", "11", "14"],
        "level": ["3", "3", "1", "2"],
        "diagnoses": ["I10.x00", "E11.900|I10.x00", "J06.900", None],
    })


def test_restriction_violations_by_hand(small):
    lines = pd.DataFrame({
        "claim_id": ["man_out", "woman_in3", "man_out", "child_out1", "child_out1", "old", "man_out",
                     "woman_in3", "child_out1", "man_out", "woman_in3", "old", "man_out"],
        "item_code": ["F", "F", "KID", "KID", "ADULT", "ADULT", "INP", "INP", "L2", "DM", "DM", "DM", "NOPE"],
    })
    want = [True, False, True, False, True, False, True, False, True, True, False, True, False]
    got = small.restriction_violations(lines, _claims())
    assert got.dtype == bool and got.tolist() == want
    reasons = small.restriction_reasons(lines, _claims())
    assert reasons.loc[0, "sex"] and reasons.loc[6, "inpatient"] and reasons.loc[8, "level"]
    assert reasons.loc[9, "diagnosis"] and reasons.loc[2, "age"]
    assert reasons.sum(axis=1).max() == 1


def test_restriction_age_from_birth_date_and_dates(small):
    claims = pd.DataFrame({"claim_id": ["a"], "sex": ["1"], "birth_date": [dt.date(2007, 6, 2)],
                           "med_type": ["11"], "level": ["3"], "diagnoses": ["J06.900"]})
    lines = pd.DataFrame({"claim_id": ["a", "a", "a"], "item_code": ["KID", "KID", "P1"],
                          "service_date": [dt.date(2025, 6, 1), dt.date(2025, 6, 2), dt.date(2024, 1, 5)]})
    assert small.restriction_violations(lines, claims).tolist() == [False, True, False]


def test_restriction_inputs_are_checked(small):
    lines = pd.DataFrame({"claim_id": ["x"], "item_code": ["F"]})
    with pytest.raises(ValidationError, match="no claim 'x'"):
        small.restriction_violations(lines, _claims())
    with pytest.raises(ValidationError, match="level"):
        small.restriction_violations(lines, _claims().drop(columns="level"))


def test_claim_context_joins_lake_tables(small):
    claims = pd.DataFrame({"claim_id": ["c"], "psn_no": ["p"], "fixmedins_code": ["h"], "med_type": ["21"],
                           "adm_date": [dt.date(2025, 1, 1)], "diagnoses": ["E11.900"]})
    persons = pd.DataFrame({"psn_no": ["p"], "sex": ["2"], "birth_date": [dt.date(1960, 1, 1)]})
    inst = pd.DataFrame({"fixmedins_code": ["h"], "level": ["1"]})
    ctx = claim_context(claims, persons, inst)
    lines = pd.DataFrame({"claim_id": ["c"] * 4, "item_code": ["F", "L2", "DM", "KID"]})
    assert small.restriction_violations(lines, ctx).tolist() == [False, True, False, True]


def test_vectorised_on_the_shipped_catalog(shipped):
    cat = Catalog.shipped()
    rng = np.random.default_rng(1)
    codes = rng.choice(shipped["item_code"].to_numpy(dtype=object), 200_000)
    out = cat.lookup_many(codes, on=dt.date(2025, 3, 1))
    assert len(out) == len(codes) and (out["item_code"].to_numpy(dtype=object) == codes).all()
    n = 50_000
    claims = pd.DataFrame({"claim_id": np.arange(n).astype(str), "sex": rng.choice(["1", "2"], n),
                           "age": rng.integers(0, 90, n), "med_type": rng.choice(["11", "21"], n),
                           "level": rng.choice(["1", "2", "3"], n),
                           "diagnoses": rng.choice(["E11.900", "I10.x00", "C34.900"], n)})
    lines = pd.DataFrame({"claim_id": rng.integers(0, n, 200_000).astype(str), "item_code": codes})
    mask = cat.restriction_violations(lines, claims)
    assert 0 < mask.sum() < len(mask)


def test_read_region_catalog_files(tmp_path):
    df = pd.DataFrame([_row("P1"), _row("P2", item_class="B", preselfpay_ppm=200_000)])
    csv = tmp_path / "region.csv"
    df.to_csv(csv, index=False)
    cat = Catalog.read(csv)
    assert cat.get("P2", on="2024-02-01").preselfpay_ppm == 200_000
    pq_path = tmp_path / "region.parquet"
    catalog_table(cat.frame).to_pandas()  # the frame converts to the lake schema
    import pyarrow.parquet as pq
    pq.write_table(catalog_table(cat.frame), pq_path)
    assert len(Catalog.read(pq_path)) == 2
    bad = df.copy()
    bad.loc[1, "begin_date"] = "2024-13-45"
    bad.to_csv(csv, index=False)
    with pytest.raises(ValidationError, match=r"region.csv line 3 \(P2\): begin_date: not a date"):
        Catalog.read(csv)
    bad = df.copy()
    bad.loc[0, "item_class"] = "X"
    bad.to_csv(csv, index=False)
    with pytest.raises(ValidationError, match=r"region.csv line 2 \(P1\): item_class"):
        Catalog.read(csv)
    with pytest.raises(ValidationError, match="no such file"):
        Catalog.read(tmp_path / "none.csv")


def _scalar_violation(item, claim) -> bool:
    """The restriction rules written out for one line, as a reference for the vectorised check."""
    if item.restrict_sex and claim["sex"] != item.restrict_sex:
        return True
    if item.restrict_min_age is not None and claim["age"] < item.restrict_min_age:
        return True
    if item.restrict_max_age is not None and claim["age"] > item.restrict_max_age:
        return True
    if item.inpatient_only and claim["med_type"] not in ("21", "2101", "28", "52"):
        return True
    if item.restrict_min_level and int(claim["level"]) < int(item.restrict_min_level):
        return True
    if item.required_dx:
        return not any(d.startswith(item.required_dx_prefixes) for d in claim["diagnoses"].split("|"))
    return False


def test_vectorised_restrictions_match_a_scalar_reference(shipped):
    cat = Catalog.shipped()
    rng = np.random.default_rng(7)
    restricted = shipped[shipped["restrict_sex"].notna() | shipped["restrict_min_age"].notna()
                         | shipped["restrict_max_age"].notna() | shipped["inpatient_only"]
                         | shipped["restrict_min_level"].notna() | shipped["required_dx"].notna()]
    pool = np.concatenate([restricted["item_code"].to_numpy(dtype=object),
                           shipped["item_code"].sample(200, random_state=1).to_numpy(dtype=object)])
    n, m = 300, 3000
    claims = pd.DataFrame({
        "claim_id": [f"c{i}" for i in range(n)], "sex": rng.choice(["1", "2"], n), "age": rng.integers(0, 95, n),
        "med_type": rng.choice(["11", "14", "21", "2101"], n), "level": rng.choice(["0", "1", "2", "3"], n),
        "diagnoses": rng.choice(["E11.900|I10.x00", "C34.900", "J44.900", "K35.800x001", "M05.900|I48.x00"], n),
    })
    lines = pd.DataFrame({"claim_id": rng.choice(claims["claim_id"], m), "item_code": rng.choice(pool, m)})
    got = cat.restriction_violations(lines, claims)
    by_id = claims.set_index("claim_id")
    want = [_scalar_violation(cat.get(code), by_id.loc[cid]) for cid, code in lines.itertuples(index=False)]
    assert got.tolist() == want
    assert 0 < sum(want) < m


def test_revise_starts_new_versions(small):
    rev = small.revise(pd.DataFrame([
        _row("FREE", begin_date=dt.date(2026, 1, 1), version="v2", item_class="B", preselfpay_ppm=50_000),
        _row("NEW", begin_date=dt.date(2026, 1, 1), version="v2"),
    ]), name="2026 edition")
    assert rev.get("FREE", on="2025-12-31").item_class == "A"
    assert rev.get("FREE", on="2025-12-31").end_date == dt.date(2025, 12, 31)
    assert rev.get("FREE", on="2026-01-01").item_class == "B"
    assert rev.versions("FREE") == ["v1", "v2"]
    with pytest.raises(ValidationError, match="not in force"):
        rev.get("NEW", on="2025-06-01")
    assert "NEW" not in small  # the original is unchanged
    with pytest.raises(ValidationError, match="already has a version from 2025-01-01"):
        small.revise(pd.DataFrame([_row("P1", begin_date=dt.date(2024, 6, 1))]))
    # the shipped catalog can take a revision too
    shipped = Catalog.shipped()
    item = shipped.get("110200001")
    rev2 = shipped.revise(pd.DataFrame([dict(vars(item), begin_date=dt.date(2026, 1, 1), version="SX-2026",
                                              price_cap_fen=item.price_cap_fen + 100)]))
    assert rev2.get("110200001", on="2026-02-01").price_cap_fen == item.price_cap_fen + 100
    assert rev2.get("110200001", on="2025-02-01").price_cap_fen == item.price_cap_fen
    assert rev2.lookup_many(["110200001"], on=["2026-02-01"])["version"].iloc[0] == "SX-2026"


def test_drug_categories_from_codes(shipped):
    from yibao.catalog.items import drug_categories, drug_category

    tree = drug_categories()
    assert tree.set_index("code").loc["XA10", "name"] == "糖尿病用药"
    cats = drug_category(shipped["item_code"])
    drug = (shipped["kind"] == "drug") & (shipped["item_class"] != "C")
    assert cats[drug.to_numpy()].notna().all() and cats[~(shipped["kind"] == "drug").to_numpy()].isna().all()
    assert cats.dropna().isin(set(tree["code"])).all()
    insulin = shipped.loc[cats.str.startswith("XA10A").fillna(False).to_numpy(), "name"]
    assert len(insulin) and insulin.str.contains("胰岛素").all()
    # padding zeros are not part of the category: XA10 (4 chars) is padded to A1000 in the code
    assert drug_category(["XA1000A0001F00100000000", "110200001", None]).tolist()[0] == "XA10"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _versioned(draw):
    """A small catalog whose items have 1–3 versions with random gaps, and query (code, date) pairs."""
    rows, base = [], dt.date(2020, 1, 1)
    for c in range(draw(st.integers(1, 4))):
        day = base + dt.timedelta(days=draw(st.integers(0, 30)))
        for v in range(draw(st.integers(1, 3))):
            length = draw(st.integers(0, 40))
            last = v == 2 or draw(st.booleans())
            end = None if last and draw(st.booleans()) else day + dt.timedelta(days=length)
            rows.append(_row(f"I{c}", begin_date=day, end_date=end, version=f"v{v}", price_cap_fen=100 + v))
            if end is None or last:
                break
            day = end + dt.timedelta(days=1 + draw(st.integers(0, 10)))
    queries = draw(st.lists(st.tuples(st.sampled_from([f"I{c}" for c in range(5)]),
                                      st.integers(-5, 200)), min_size=1, max_size=12))
    return rows, [(code, base + dt.timedelta(days=d)) for code, d in queries]


@settings(max_examples=40, deadline=None)
@given(_versioned())
def test_property_vectorised_lookup_equals_scan(case):
    rows, queries = case
    cat = Catalog(pd.DataFrame(rows))
    got = cat.positions([q[0] for q in queries], on=[q[1] for q in queries])
    f = [(r["item_code"], r["begin_date"].date(), None if pd.isna(r["end_date"]) else r["end_date"].date(),
          r["version"]) for r in cat.frame.to_dict("records")]
    for (code, day), pos in zip(queries, got):
        hits = [i for i, (c, b, e, _) in enumerate(f) if c == code and b <= day and (e is None or day <= e)]
        assert pos == (hits[0] if hits else -1)
        if hits:
            assert cat.get(code, on=day).version == f[hits[0]][3]
        # one date for all codes goes through the per-code table: same answer
        assert cat.positions([code], on=day)[0] == pos
