"""The shipped library loads, covers the kinds, and every rule is cited; bad rule files are refused
naming the file, the rule and the field."""

from __future__ import annotations

import textwrap

import pytest

from yibao.errors import PolicyError
from yibao.supervision.kinds import KINDS
from yibao.supervision.rules import load_rules

GOOD = """\
rules:
  R-1:
    name: 死亡后就诊
    kind: after_death
    sev_deg: 1
    scene: [事中, 事后]
    period: 当次就诊
    since: 2024-01-01
    ref: "国务院令第735号"
"""


def test_the_shipped_library_has_at_least_40_cited_rules_over_every_kind():
    rules = load_rules()
    assert len(rules) >= 40
    assert {r.kind for r in rules} == set(KINDS)
    assert all(r.ref and r.sev_deg in (1, 2, 3) and r.scene for r in rules)
    assert len({r.id for r in rules}) == len(rules)


def _write(tmp_path, text, name="r.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("change, message", [
    (("    period: 当次就诊\n", "    perod: 当次就诊\n"), r"r.yaml: rule R-1: unknown key 'perod' \(did you mean period\?\)"),
    (("kind: after_death", "kind: after_deth"), r"rule R-1: kind: unknown kind 'after_deth' \(did you mean after_death\?\)"),
    (('    ref: "国务院令第735号"\n', ""), r"rule R-1: give exactly one citation"),
    (("sev_deg: 1", "sev_deg: 4"), r"rule R-1: sev_deg: 4 is not one of 1 明确违规"),
    (("scene: [事中, 事后]", "scene: [事中, 事外]"), r"rule R-1: scene: '事外' is not one of 事前, 事中, 事后"),
    (("since: 2024-01-01", "since: 2024-02-30"), r"rule R-1: since: '2024-02-30' is not a date"),
    (("kind: after_death", "kind: split_stay\n    params: {window_day: 15}"),
     r"rule R-1: params: unknown key 'window_day' \(did you mean window_days\?\)"),
    (("kind: after_death", "kind: split_stay\n    params: {window_days: -3}"), r"rule R-1: params.window_days: -3 is out of range"),
    (("kind: after_death", "kind: split_stay"), r"rule R-1: params: missing window_days"),
])
def test_a_bad_rule_is_refused_naming_file_rule_and_field(tmp_path, change, message):
    folder = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(PolicyError, match=message):
        load_rules(folder)


def test_an_id_twice_and_an_empty_folder_are_refused(tmp_path):
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(PolicyError, match="b.yaml: rule R-1: id already used in a.yaml"):
        load_rules(tmp_path)
    with pytest.raises(PolicyError, match="a.yaml: not a folder of rule files"):
        load_rules(tmp_path / "a.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PolicyError, match="no \\*.yaml rule files"):
        load_rules(empty)


def test_a_good_file_loads_with_its_citation(tmp_path):
    (rule,) = load_rules(_write(tmp_path, GOOD))
    assert (rule.id, rule.kind, rule.scene, rule.ref, rule.scheme) == ("R-1", "after_death", ("事中", "事后"), "国务院令第735号", "*")
