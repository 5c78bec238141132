"""Policy packs: dated values with citations, units, reforms, inheritance and load-time validation."""

import datetime as dt
import re
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
    resident:
      individual_fee:
        description: 个人缴费 / individual fee
        unit: yuan
        values:
          2023-01-01: {value: 380, ref: "医保发〔2023〕24号"}
          2024-01-01: {value: 400.5, ref: "医保发〔2024〕19号"}
    employee:
      employer_rate:
        unit: rate
        values:
          2023-01-01: {value: 0.085, ref: "assumption: test"}
"""
BANDS = """
    bands:
      unit: {from: yuan, rate: rate}
      values:
        2023-01-01:
          value: [{from: 0, rate: 0.8}, {from: 10000, rate: 0.9}]
          ref: "assumption: test"
"""


def test_values_resolve_at_the_date_of_service_with_their_citation(tmp_path):
    pack = read_pack(write_pack(tmp_path / "t", {"contribution.yaml": FEE, "benefits/serious_illness.yaml": BANDS}))
    assert pack.at(dt.date(2023, 12, 31)).contribution.resident.individual_fee == 38000
    p = pack.at(dt.date(2024, 1, 1))
    assert p["contribution.resident.individual_fee"] == 40050  # yuan → integer fen
    cite = p.cite("contribution.resident.individual_fee")
    assert (cite.ref, cite.since) == ("医保发〔2024〕19号", dt.date(2024, 1, 1))
    assert p.contribution.employee.employer_rate == Decimal("0.085")
    assert p.benefits.serious_illness.bands == [{"from": 0, "rate": Decimal("0.8")},
                                                {"from": 1_000_000, "rate": Decimal("0.9")}]
    with pytest.raises(PolicyError, match="not in force on 2022-06-01"):
        pack.at(dt.date(2022, 6, 1)).cite("contribution.resident.individual_fee")
    assert pack.change_dates() == [dt.date(2023, 1, 1), dt.date(2024, 1, 1)]


FEE_PATH = "contribution.resident.individual_fee"


def test_a_reform_changes_a_copy_only(tmp_path):
    pack = read_pack(write_pack(tmp_path / "t", {"contribution.yaml": FEE}))
    reformed = pack.reform({FEE_PATH: {"2024-07-01": 450}}, name="fee450")
    when = dt.date(2024, 8, 1)
    assert reformed.at(when)[FEE_PATH] == 45000
    assert reformed.at(dt.date(2024, 3, 1))[FEE_PATH] == 40050  # earlier value kept
    assert reformed.at(when).cite(FEE_PATH).ref == "reform: fee450"
    assert pack.at(when)[FEE_PATH] == 40050  # baseline untouched
    with pytest.raises(PolicyError, match="no such parameter"):
        pack.reform({"contribution.resident.fiscal_subsidy": {"2024-01-01": 1}})
    with pytest.raises(PolicyError, match="did you mean individual_fee"):
        pack.reform({"contribution.resident.individual_fe": {"2024-01-01": 1}})
    with pytest.raises(PolicyError, match="out of range"):  # a reform is checked like the pack
        pack.reform({"contribution.employee.employer_rate": {"2024-01-01": 1.85}})


def test_reform_file(tmp_path):
    pack = read_pack(write_pack(tmp_path / "t", {"contribution.yaml": FEE}))
    f = tmp_path / "r.yaml"
    f.write_text("name: r\nref: 'simulation: higher rate'\noverrides:\n  contribution.employee.employer_rate: {2024-01-01: 0.09}\n")
    p = pack.reform_file(f).at(dt.date(2024, 2, 1))
    assert p.contribution.employee.employer_rate == Decimal("0.09")
    assert p.cite("contribution.employee.employer_rate").ref == "simulation: higher rate"


def test_extends_overlays_the_parent(tmp_path):
    write_pack(tmp_path / "base", {"contribution.yaml": FEE}, meta="name: base\nrounding: truncate\n")
    child = write_pack(tmp_path / "child", {"contribution.yaml": """
        resident:
          individual_fee:
            unit: yuan
            values:
              2023-01-01: {value: 300, ref: "local"}
    """}, meta=f"name: child\nextends: {tmp_path / 'base'}\n")
    pack = read_pack(child)
    p = pack.at(dt.date(2024, 5, 1))
    assert p[FEE_PATH] == 30000 and p.contribution.employee.employer_rate == Decimal("0.085")
    assert pack.rounding.value == "truncate"


def _fee(unit: str, value: str) -> str:
    return f"resident:\n  individual_fee:\n    unit: {unit}\n    values:\n      2023-01-01: {value}\n"


@pytest.mark.parametrize("text, words", [
    (_fee("yuan", "{value: 380}"), "contribution.resident.individual_fee: 2023-01-01: missing 'ref'"),
    (_fee("yuan", "{value: 380.001, ref: x}"), "more than two decimals"),
    (_fee("furlong", "{value: 1, ref: x}"), "unit 'furlong' (one of yuan, rate"),
    (_fee("rate", "{value: 1, ref: x}"), "unit 'rate' does not match the schema: yuan"),
    (_fee("yuan", "{value: -2000, ref: x}"), "individual_fee: 2023-01-01: -2000 is out of range; expected an amount in yuan ≥ 0"),
    (_fee("yuan", "{value: [380], ref: x}"), "not a number"),
    (_fee("yuan", "{value: 380, ref: x, note: a, nots: b}"), "unknown key 'nots' (did you mean note?) beside 'value'"),
    ("resident:\n  individual_fee:\n    unit: yuan\n    values:\n      2023-13-01: {value: 380, ref: x}\n",
     "not an effective date"),
    ("resident:\n  individual_fee:\n    unit: yuan\n    valeus: 3\n    values:\n      2023-01-01: {value: 1, ref: x}\n",
     "unknown key 'valeus' (did you mean values?)"),
    ("resident:\n  individual_fee:\n    values: {2023-01-01: {value: 1, ref: x}\n", "not valid YAML"),
    ("resident:\n  individual_fee: 380\n", "a parameter needs 'values'"),
    ("resident:\n  fee: {values: {2023-01-01: {value: 1, ref: x}}}\n",
     "unknown key 'contribution.resident.fee'; known under contribution.resident: individual_fee"),
    ("employee:\n  retirees_exempt: {values: {2023-01-01: {value: 1, ref: x}}}\n", "expected true or false"),
    ("employee:\n  employer_rate: {values: {2023-01-01: {value: 1.85, ref: x}}}\n",
     "employer_rate: 2023-01-01: 1.85 is out of range; expected a rate in [0, 1]"),
    ("resident:\n  individual_fee: {values: {2023-01-01: {value: 1, ref: x}}}\n  individual_fee: {values: {}}\n",
     "key 'individual_fee' is written twice"),
])
def test_malformed_packs_name_file_key_and_problem(tmp_path, text, words):
    root = write_pack(tmp_path / "t", {"contribution.yaml": text})
    with pytest.raises(PolicyError) as e:
        read_pack(root)
    assert "contribution.yaml" in str(e.value) and words in str(e.value)


def test_unknown_pack_lists_the_shipped_ones():
    with pytest.raises(PolicyError, match="unknown policy pack 'atlantis'.*demo"):
        load_pack("atlantis")


def test_demo_pack_has_cited_contribution_and_account_parameters():
    assert "demo" in available_packs()
    p = load_pack("demo").at(dt.date(2024, 6, 1))
    assert p.contribution.employee.base_floor_share == Decimal("0.60")
    assert p.contribution.resident.individual_fee == 40000
    assert all(c.ref for c in p.citations())


OUR_FILES = re.compile(r"POLICY_FACTS|CALIBRATION|[\w./-]+\.md\b|\bseed \d{3}\b|/work/", re.IGNORECASE)


def test_shipped_citations_name_original_sources_not_files_of_ours():
    """A citation is a 文号, a URL or 'assumption: …', never a working file of the project."""
    bad = []
    for name in available_packs(bases=True):
        for path, param in read_pack(name).params.items():
            for when, value, ref in param.values:
                rows = value if isinstance(value, list) else []
                for text in [ref] + [str(r.get("ref", "")) for r in rows if isinstance(r, dict)]:
                    if OUR_FILES.search(text):
                        bad.append(f"{name}: {path} {when}: {text}")
    assert bad == []
    assert OUR_FILES.search("assumption: shapes of POLICY_FACTS.md") and OUR_FILES.search("沈阳 seed 000: 15万")


def test_a_date_more_than_a_year_past_the_last_change_is_stale():
    demo = load_pack("demo")
    last = demo.last_change()
    assert last == max(d for p in demo.params.values() for d, _, _ in p.values) == dt.date(2025, 1, 1)
    assert not demo.at(dt.date(2024, 6, 1)).stale and demo.at(dt.date(2024, 6, 1)).stale_warning == ""
    assert not demo.at(dt.date(2026, 1, 1)).stale  # a year after: still current
    late = demo.at(dt.date(2099, 6, 1))
    assert late.stale and late[FEE_PATH] == 40000  # the newest parameters still apply
    assert "pack 'demo' changes last on 2025-01-01; 2099-06-01 is more than a year later" in late.stale_warning
    assert demo.at(dt.date(2026, 1, 2)).stale
    assert demo.reform({"contribution.employee.average_wage": {"2099-01-01": 9000}}).at(dt.date(2099, 6, 1)).stale is False


def test_stale_counts_a_year_from_29_february(tmp_path):
    leap = "resident:\n  individual_fee: {unit: yuan, values: {2024-02-29: {value: 400, ref: x}}}\n"
    pack = read_pack(write_pack(tmp_path / "t", {"contribution.yaml": leap}))
    assert not pack.at(dt.date(2025, 2, 28)).stale and pack.at(dt.date(2025, 3, 1)).stale


def test_change_dates_are_the_packs_own_and_read_only():
    """The change dates are worked out once per pack (asked for on every claim): a caller's list
    cannot alter them, and a reform has its own, new dates included."""
    demo = load_pack("demo")
    dates = demo.change_dates()
    dates.append(dt.date(2099, 1, 1))
    assert demo.change_dates()[-1] == dt.date(2025, 1, 1)
    reform = demo.reform({"contribution.employee.average_wage": {"2099-01-01": 9000}})
    assert reform.change_dates()[-1] == dt.date(2099, 1, 1) and demo.last_change() == dt.date(2025, 1, 1)
    assert demo.stale_warning(dt.date(2099, 6, 1)) == demo.at(dt.date(2099, 6, 1)).stale_warning != ""
    assert reform.stale_warning(dt.date(2099, 6, 1)) == "" and demo.stale_warning(dt.date(2026, 1, 1)) == ""
