"""Inputs a new user tried on ``yibao settle`` (the findings of December 2026): each ends in a clean
error naming the file, the record and the field, or is settled as policy says."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.errors import ValidationError
from yibao.settlement import claim_from, settle, settle_frame
from yibao.settlement.synthetic import claims_frames

CLAIM = {"claim_id": "C1", "person": {"psn_no": "P1", "insutype": "310", "psn_type": "11", "age": 45, "sex": "1"},
         "institution": {"level": "3"}, "med_type": "11", "adm_date": "2024-03-08", "dscg_date": "2024-03-08",
         "diagnoses": ["I10"], "lines": [{"class": "A", "amount": "1000"}]}


def run(*args: str):
    return CliRunner().invoke(app, list(args), terminal_width=200)


def write(tmp_path, doc, name="claim.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def with_(path: str, value, doc=None):
    """A copy of the claim with one (dotted) field set."""
    doc = json.loads(json.dumps(doc or CLAIM))
    *parents, last = path.split(".")
    at = doc
    for k in parents:
        at = at[int(k)] if isinstance(at, list) else at[k]
    at[int(last) if isinstance(at, list) else last] = value
    return doc


def test_a_real_item_code_settles_with_the_shipped_catalog(tmp_path):
    doc = with_("lines", [{"item_code": "331003022", "qty": 1, "amount": "500"}])
    r = run("settle", "--pack", "demo", "--claim", str(write(tmp_path, doc)))
    assert r.exit_code == 0, r.output
    assert "not in the catalog" not in r.output and "medfee_sumamt" in r.output


def test_a_region_catalog_file_is_used(tmp_path):
    from yibao.catalog.items import COLUMNS

    row = {c: "" for c in COLUMNS} | {"item_code": "X1", "kind": "drug", "name": "x", "item_class": "C",
                                       "inpatient_only": "false", "begin_date": "2020-01-01"}
    cat = tmp_path / "cat.csv"
    pd.DataFrame([row]).to_csv(cat, index=False)
    doc = with_("lines", [{"item_code": "X1", "amount": "100"}])
    r = run("settle", "--claim", str(write(tmp_path, doc)), "--catalog", str(cat))
    assert r.exit_code == 0, r.output
    assert "100.00" in r.output.split("fulamt_ownpay_amt")[1].splitlines()[0]  # 丙类 in that catalog: self-paid
    r = run("settle", "--claim", str(write(tmp_path, doc)))
    assert r.exit_code == 1 and "'X1' is not in the catalog" in r.output  # not a shipped item
    pd.DataFrame([{"item_code": "X1"}]).to_csv(cat, index=False)
    r = run("settle", "--claim", str(write(tmp_path, doc)), "--catalog", str(cat))
    assert r.exit_code == 1 and "missing catalog column" in r.output


@pytest.mark.parametrize("field, value, named", [
    ("person.age", 200, "person.age"),
    ("person.sex", "3", "person.sex"),
    ("person.identities", ["billionaire"], "person.identities"),
    ("person.psn_type", "11", None),  # with insutype 390 below
    ("person.admdvs", "ABC", "person.admdvs"),
    ("diagnoses", ["ZZZ.999"], "diagnoses"),
    ("diagnoses", ["hello"], "diagnoses"),
    ("person.preselfpy", 0.1, "person.preselfpy"),
    ("lines.0.preselfpy", "10%", "lines[0].preselfpy"),
    ("lines.0.amount", "1e20", "lines[0].amount"),
    ("lines.0.amount", "90000000000000000", "lines[0].amount"),
    ("medfee_sumamt", "999", "medfee_sumamt"),
])
def test_impossible_claims_are_refused_naming_the_field(field, value, named):
    doc = with_(field, value)
    if named is None:  # 人员类别 11 (在职) is an employee's, not a resident's
        doc = with_("person.insutype", "390", doc)
        named = "person.psn_type"
    with pytest.raises(ValidationError) as e:
        settle(claim_from(doc), "demo")
    assert e.value.field == named, e.value


def test_a_misspelling_names_the_nearest_field():
    with pytest.raises(ValidationError) as e:
        claim_from(with_("lines.0.preselfpy", "10%"))
    assert "did you mean 'preselfpay'" in str(e.value)


def test_birth_dates_must_fit_the_claim():
    born_later = with_("person", {"insutype": "310", "psn_type": "11", "birth_date": "2030-01-01"})
    with pytest.raises(ValidationError) as e:
        settle(claim_from(born_later), "demo")
    assert e.value.field == "person.birth_date"
    both = with_("person", {"insutype": "310", "psn_type": "11", "birth_date": "1980-01-01", "age": 30})
    with pytest.raises(ValidationError) as e:
        settle(claim_from(both), "demo")
    assert e.value.field == "person.age" and "contradicts" in e.value.problem


def test_an_amount_must_be_price_times_quantity():
    with pytest.raises(ValidationError) as e:
        claim_from(with_("lines", [{"class": "A", "price": "930", "qty": 3, "amount": "100"}]))
    assert e.value.field == "lines[0].amount" and "price × qty" in e.value.problem
    assert claim_from(with_("lines", [{"class": "A", "price": "930", "qty": 3, "amount": "2790"}])).lines[0].amount == 279000


def test_the_same_refusals_in_batch():
    c = claim_from(CLAIM)
    frame, lines = claims_frames([c])
    for col, value in (("age", 200), ("sex", "3"), ("identities", "billionaire"), ("diagnoses", "ZZZ.999")):
        with pytest.raises(ValidationError) as e:
            settle_frame(frame.assign(**{col: value}), lines, "demo")
        assert e.value.field == col


@pytest.mark.parametrize("content, problem", [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
    (json.dumps(CLAIM, ensure_ascii=False).replace("I10", "高血压").encode("gbk"), "not UTF-8"),
])
def test_a_file_that_is_not_utf8_json_is_refused(tmp_path, content, problem):
    p = tmp_path / "claim.json"
    p.write_bytes(content)
    r = run("settle", "--claim", str(p))
    assert r.exit_code == 1 and problem in r.output


def test_a_claims_file_holds_one_person_in_date_order(tmp_path):
    second = with_("person.psn_no", "P2", with_("claim_id", "C2"))
    r = run("settle", "--claims", str(write(tmp_path, [CLAIM, second])))
    assert r.exit_code == 1 and "one person's claims" in r.output
    r = run("settle", "--claims", str(write(tmp_path, [CLAIM, CLAIM])))
    assert r.exit_code == 1 and "given twice" in r.output
    earlier = with_("claim_id", "C0", with_("dscg_date", "2024-03-01", with_("adm_date", "2024-03-01")))
    r = run("settle", "--claims", str(write(tmp_path, [CLAIM, earlier])))
    assert r.exit_code == 1 and "date order" in r.output


@pytest.mark.parametrize("args, named", [
    (["--claim", "{f}", "--claims", "{f}"], "not both"),
    (["--claims", "{f}", "--fhir"], "--fhir"),
    (["--claim", "{two}"], "use --claims"),
    (["--claim", "{f}", "--out", "x.csv"], "--out"),
])
def test_options_that_do_not_go_together(tmp_path, args, named):
    f = write(tmp_path, CLAIM)
    two = write(tmp_path, [CLAIM, with_("claim_id", "C2", with_("dscg_date", "2024-04-01"))], "two.json")
    r = run("settle", *[a.format(f=f, two=two) for a in args])
    assert r.exit_code != 0 and named in r.output


def test_a_lake_with_a_duplicate_claim_id_is_refused(tmp_path):
    c = claim_from(CLAIM)
    frame, lines = claims_frames([c])
    with pytest.raises(ValidationError) as e:
        settle_frame(pd.concat([frame, frame]), pd.concat([lines, lines]), "demo")
    assert e.value.field == "claim_id" and "twice" in e.value.problem


def test_a_corrupt_or_impossible_lake_table_is_refused(tmp_path):
    from yibao.lake.io import read_table

    (tmp_path / "claims.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(ValidationError) as e:
        read_table(tmp_path, "claims")
    assert "claims.parquet" in str(e.value)
    pq.write_table(pa.table({"claim_id": ["C1"], "dscg_date": ["2024-02-30"]}), tmp_path / "claims.parquet")
    with pytest.raises(ValidationError) as e:
        read_table(tmp_path, "claims")
    assert "claims" in str(e.value)


def test_a_lake_claim_of_an_unknown_person_is_refused(tmp_path):
    from yibao.lake.io import read_table, write_table
    from yibao.settlement.batch import lake_frame
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    folder = tmp_path / "lake"
    generate(SynthConfig(persons=300, seed=3), folder)
    claims = read_table(folder, "claims").to_pandas()
    claims.loc[0, "psn_no"] = "NOBODY"
    if (folder / "claims").is_dir():
        shutil.rmtree(folder / "claims")
    write_table(folder, "claims", pa.Table.from_pandas(claims, preserve_index=False))
    with pytest.raises(ValidationError) as e:
        lake_frame(folder)
    assert e.value.field == "psn_no" and "NOBODY" in e.value.problem


def test_a_date_past_the_packs_last_change_is_settled_with_a_stated_warning(tmp_path):
    later = with_("dscg_date", "2099-03-08", with_("adm_date", "2099-03-08"))
    s = settle(claim_from(later), "demo")
    assert s.warnings and "2099-03-08" in s.warnings[0] and "more than a year later" in s.warnings[0]
    assert not settle(claim_from(CLAIM), "demo").warnings
    r = run("settle", "--claim", str(write(tmp_path, later)))
    assert r.exit_code == 0 and "warning:" in r.output
    frame, lines = claims_frames([claim_from(later)])
    assert "2099" in settle_frame(frame, lines, "demo").attrs["warning"]
