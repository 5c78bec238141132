"""Policy packs: dated values with citations, units, reforms, inheritance and load-time validation."""

import datetime as dt
import textwrap
from decimal import Decimal

import pytest

from yibao.errors import PolicyError
from yibao.policy import available_packs, load_pack, read_pack


def write_pack(root, files, meta="name: t\nadmdvs: '370300'\n"):
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(meta, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


FEE = """
    fee:
      description: 个人缴费 / individual fee
      unit: yuan
      values:
        2023-01-01: {value: 380, ref: "医保发〔2023〕24号"}
        2024-01-01: {value: 400.5, ref: "医保发〔2024〕19号"}
    rate:
      unit: rate
      values:
        2023-01-01: {value: 0.85, ref: "assumption: test"}
    bands:
      unit: {from: yuan, rate: rate}
      values:
        2023-01-01:
          value: [{from: 0, rate: 0.8}, {from: 10000, rate: 0.9}]
          ref: "assumption: test"
"""


def test_values_resolve_at_the_date_of_service_with_their_citation(tmp_path):
    pack = read_pack(write_pack(tmp_path / "t", {"resident.yaml": FEE}))
    assert pack.at(dt.date(2023, 12, 31)).resident.fee == 38000
    p = pack.at(dt.date(2024, 1, 1))
    assert p["resident.fee"] == 40050  # yuan → integer fen
    cite = p.cite("resident.fee")
    assert (cite.ref, cite.since) == ("医保发〔2024〕19号", dt.date(2024, 1, 1))
    assert p.resident.rate == Decimal("0.85")
    assert p.resident.bands == [{"from": 0, "rate": Decimal("0.8")}, {"from": 1_000_000, "rate": Decimal("0.9")}]
    with pytest.raises(PolicyError, match="not in force on 2022-06-01"):
        pack.at(dt.date(2022, 6, 1)).cite("resident.fee")
    assert pack.change_dates() == [dt.date(2023, 1, 1), dt.date(2024, 1, 1)]


def test_a_reform_changes_a_copy_only(tmp_path):
    pack = read_pack(write_pack(tmp_path / "t", {"resident.yaml": FEE}))
    reformed = pack.reform({"resident.fee": {"2024-07-01": 450}}, name="fee450")
    when = dt.date(2024, 8, 1)
    assert reformed.at(when).resident.fee == 45000
    assert reformed.at(dt.date(2024, 3, 1)).resident.fee == 40050  # earlier value kept
    assert reformed.at(when).cite("resident.fee").ref == "reform: fee450"
    assert pack.at(when).resident.fee == 40050  # baseline untouched
    with pytest.raises(PolicyError, match="no such parameter"):
        pack.reform({"resident.nope": {"2024-01-01": 1}})


def test_reform_file(tmp_path):
    pack = read_pack(write_pack(tmp_path / "t", {"resident.yaml": FEE}))
    f = tmp_path / "r.yaml"
    f.write_text("name: r\nref: 'simulation: higher rate'\noverrides:\n  resident.rate: {2024-01-01: 0.9}\n")
    p = pack.reform_file(f).at(dt.date(2024, 2, 1))
    assert p.resident.rate == Decimal("0.9") and p.cite("resident.rate").ref == "simulation: higher rate"


def test_extends_overlays_the_parent(tmp_path):
    write_pack(tmp_path / "base", {"resident.yaml": FEE}, meta="name: base\nrounding: truncate\n")
    child = write_pack(tmp_path / "child", {"resident.yaml": """
        fee:
          unit: yuan
          values:
            2023-01-01: {value: 300, ref: "local"}
    """}, meta=f"name: child\nextends: {tmp_path / 'base'}\n")
    pack = read_pack(child)
    p = pack.at(dt.date(2024, 5, 1))
    assert p.resident.fee == 30000 and p.resident.rate == Decimal("0.85")
    assert pack.rounding.value == "truncate"


@pytest.mark.parametrize("text, words", [
    ("fee:\n  unit: yuan\n  values:\n    2023-01-01: {value: 380}\n", "resident.fee: 2023-01-01: missing 'ref'"),
    ("fee:\n  unit: yuan\n  values:\n    2023-13-01: {value: 380, ref: x}\n", "not an effective date"),
    ("fee:\n  unit: yuan\n  values:\n    2023-01-01: {value: 380.001, ref: x}\n", "more than two decimals"),
    ("fee:\n  unit: furlong\n  values:\n    2023-01-01: {value: 1, ref: x}\n", "unknown unit 'furlong'"),
    ("fee:\n  unit: int\n  values:\n    2023-01-01: {value: 1.5, ref: x}\n", "expected a whole number"),
    ("fee:\n  unit: {a: yuan}\n  values:\n    2023-01-01: {value: [{b: 1}], ref: x}\n", "unknown column"),
    ("fee:\n  unit: yuan\n  valeus: 3\n  values:\n    2023-01-01: {value: 1, ref: x}\n", "unknown key"),
    ("fee:\n  values: {2023-01-01: {value: 1, ref: x}\n", "not valid YAML"),
])
def test_malformed_packs_name_file_key_and_problem(tmp_path, text, words):
    root = write_pack(tmp_path / "t", {"resident.yaml": text})
    with pytest.raises(PolicyError) as e:
        read_pack(root)
    assert "resident.yaml" in str(e.value) and words in str(e.value)


def test_unknown_pack_lists_the_shipped_ones():
    with pytest.raises(PolicyError, match="unknown policy pack 'atlantis'.*demo"):
        load_pack("atlantis")


def test_demo_pack_has_cited_contribution_and_account_parameters():
    assert "demo" in available_packs()
    p = load_pack("demo").at(dt.date(2024, 6, 1))
    assert p.contribution.employee.base_floor_share == Decimal("0.60")
    assert p.contribution.resident.individual_fee == 40000
    assert all(c.ref for c in p.citations())
