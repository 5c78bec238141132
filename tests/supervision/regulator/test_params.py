"""The regulator's numbers: every entry cited and typed; a bad entry names the file and key."""

from __future__ import annotations

import pytest
import yaml

from yibao.errors import PolicyError
from yibao.supervision.regulator.params import PARAMS_FILE, SCHEMA, load_params, shipped_params


def test_every_declared_number_is_loaded_with_its_citation():
    p = shipped_params()
    for section, keys in SCHEMA.items():
        for key in keys:
            assert p.cite(f"{section}.{key}").strip()
    assert p["report.reward_cap"] == 20_000_000 and p["sampling.large_institution_amount"] == 500_000_000
    assert "医保发〔2022〕22号" in p.cite("report.reward_floor")
    assert "沈阳" in p.cite("sampling.small_institution_share")


def edited(tmp_path, change):
    doc = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "regulator.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d["report"]["reward_cap"].pop("ref"), r"report.reward_cap: needs exactly one citation"),
    (lambda d: d["report"]["reward_cap"].update(assumption="x"), r"report.reward_cap: needs exactly one citation"),
    (lambda d: d["case"].update(decide_within_workdays=d["case"].pop("decide_within_working_days")),
     r"case: unknown key 'decide_within_workdays'"),
    (lambda d: d["report"]["reward_rate"].update(value=1.5), r"report.reward_rate: value: 1.5 is out of range"),
    (lambda d: d["report"]["reward_rate"].update(unit="yuan"), r"report.reward_rate: unit: expected 'rate'"),
    (lambda d: d["points"]["suspend_at"].update(value=8.5), r"points.suspend_at: value: expected a whole number"),
    (lambda d: d.pop("draw"), r"missing draw"),
])
def test_a_bad_entry_is_refused_naming_file_and_key(tmp_path, change, message):
    path = edited(tmp_path, change)
    with pytest.raises(PolicyError, match=message) as e:
        load_params(path)
    assert str(path) in str(e.value)
