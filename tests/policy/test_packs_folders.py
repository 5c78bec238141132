"""Where packs come from: shipped names versus folders, relative ``extends``, and the national base."""

import datetime as dt
import textwrap

import pytest

from yibao.errors import PolicyError
from yibao.policy import available_packs, load_pack, read_pack
from yibao.settlement import claim_from, settle

DAY = dt.date(2024, 3, 8)

REGION = {
    "benefits/pooling.yaml": """
        rules:
          values:
            2024-01-01:
              ref: "assumption: test region"
              value:
                - {insutype: "390", med: inpatient, deductible: 500, per: stay, rate: 0.70, cap_group: pooling}
                - {insutype: "390", med: outpatient, deductible: 0, per: none, rate: 0.50, cap_group: outpatient}
        caps:
          values:
            2024-01-01:
              ref: "assumption: test region"
              value: [{group: pooling, amount: 100000}, {group: outpatient, amount: none}]
    """,
    "benefits/scope.yaml": """
        default_preselfpay:
          unit: rate
          values:
            2024-01-01: {value: 0.10, ref: "assumption: test region"}
    """,
}


def write(folder, files: dict[str, str], meta: str):
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text(meta, encoding="utf-8")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def test_every_shipped_region_extends_national():
    assert "national" in available_packs(bases=True) and "national" not in available_packs()  # no region itself
    assert {"demo", "shenyang", "zibo"} <= set(available_packs())
    for name in available_packs(bases=True):
        chain, pack = [], read_pack(name)
        while pack.meta.get("extends"):
            chain.append(pack.meta["extends"])
            pack = read_pack(pack.meta["extends"])
        assert name == "national" or chain[-1] == "national", name
    national = load_pack("national").at(DAY)
    assert national["benefits.scope.med_groups"]["21"] == "inpatient"
    assert "benefits.pooling.rules" not in {c.path for c in national.citations()}  # the rules are regional


def test_a_minimal_region_extending_only_national_loads_and_settles(tmp_path):
    pack = read_pack(write(tmp_path / "r", REGION, "name: r\nadmdvs: '370300'\nextends: national\n"))
    person = {"insutype": "390", "psn_type": "15", "age": 40}
    stay = settle(claim_from({"claim_id": "S", "person": person, "med_type": "21", "institution": {"level": "2"},
                              "adm_date": "2024-03-01", "dscg_date": str(DAY), "lines": [{"class": "A", "amount": 10500}]}, "t"), pack)
    assert (stay["act_pay_dedc"], stay["hifp_pay"]) == (50_000, 700_000)  # (10500 − 500) × 70%
    visit = settle(claim_from({"claim_id": "V", "person": person, "med_type": "11", "institution": {"level": "1"},
                               "adm_date": str(DAY), "dscg_date": str(DAY), "lines": [{"class": "B", "amount": 100}]}, "t"), pack)
    assert (visit["preselfpay_amt"], visit["hifp_pay"]) == (1_000, 4_500)  # 10% 先行自付, then 50%


def test_pooling_rules_without_the_national_groups_are_refused(tmp_path):
    with pytest.raises(PolicyError, match="benefits.scope.med_groups is needed on 2024-01-01.*extend the national pack"):
        read_pack(write(tmp_path / "r", REGION, "name: r\n"))


def test_relative_extends_resolves_from_the_packs_own_folder(tmp_path, monkeypatch):
    write(tmp_path / "regions" / "base", REGION, "name: base\nextends: national\nrounding: truncate\n")
    child = write(tmp_path / "regions" / "county", {}, "name: county\nextends: ../base\n")
    monkeypatch.chdir(tmp_path)  # ../base from here would be outside tmp_path
    pack = read_pack("regions/county")
    assert pack.name == "county" and pack.rounding.value == "truncate"
    assert pack.at(DAY)["benefits.pooling.caps"][0]["amount"] == 10_000_000
    assert read_pack(child).name == "county"
    with pytest.raises(PolicyError, match="not a policy pack folder"):
        read_pack(write(tmp_path / "lost", {}, "name: lost\nextends: ./nowhere\n"))


def test_extends_loop_is_refused(tmp_path):
    write(tmp_path / "a", {}, "name: a\nextends: ../b\n")
    write(tmp_path / "b", {}, "name: b\nextends: ../a\n")
    with pytest.raises(PolicyError, match="extends: a loop"):
        read_pack(tmp_path / "a")


def test_a_folder_named_like_a_shipped_pack_does_not_shadow_it(tmp_path, monkeypatch):
    write(tmp_path / "demo", REGION, "name: local-demo\nextends: national\n")
    monkeypatch.chdir(tmp_path)
    assert load_pack("demo").name == "demo" and read_pack("demo").name == "demo"
    assert read_pack("./demo").name == "local-demo"  # a path names the folder
    assert load_pack("./demo").name == "local-demo"
    with pytest.raises(PolicyError, match="unknown policy pack 'dem' \\(did you mean demo\\?\\).*as a path, e.g. ./dem"):
        read_pack("dem")
