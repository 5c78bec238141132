"""The pack schema: every key declared with its type; a pack that strays from it is refused on load
with the file, the key path and the problem (and the nearest known key for a misspelling)."""

import re
import textwrap
from pathlib import Path

import pytest

from yibao.errors import PolicyError
from yibao.policy import NO_LIMIT, available_packs, read_pack
from yibao.policy.schema import Rows, spec_of

SRC = Path(__file__).parents[2] / "src" / "yibao"


def pack_with(tmp_path, files: dict[str, str | bytes], meta: str = "name: t\n"):
    root = tmp_path / "t"
    root.mkdir(parents=True)
    (root / "pack.yaml").write_text(meta, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def refused(tmp_path, files, meta="name: t\n") -> str:
    with pytest.raises(PolicyError) as e:
        read_pack(pack_with(tmp_path, files, meta))
    return str(e.value)


def param(name: str, unit: str, value: str) -> str:
    return f"{name}:\n  unit: {unit}\n  values:\n    2024-01-01: {{value: {value}, ref: 'assumption: test'}}\n"


def test_a_misspelled_key_names_the_nearest_known_one(tmp_path):
    msg = refused(tmp_path, {"benefits/serious_illness.yaml": param("band_mod", "text", "absolute")})
    assert "serious_illness.yaml" in msg and "'benefits.serious_illness.band_mod'" in msg
    assert "did you mean band_mode?" in msg


def test_a_misspelled_file_names_the_nearest_namespace(tmp_path):
    msg = refused(tmp_path, {"benefits/poolng.yaml": param("caps", "text", "x")})
    assert "poolng.yaml" in msg and "'benefits.poolng'" in msg and "did you mean pooling?" in msg


@pytest.mark.parametrize("row, words", [
    ("{group: pooling, amount: -2000}", "caps: 2024-01-01[0].amount: -2000 is out of range; expected an amount in yuan ≥ 0"),
    ("{group: pooling, amonut: 2000}", "unknown column 'amonut' (did you mean amount?)"),
    ("{group: pooling}", "caps: 2024-01-01[0]: missing column(s) amount"),
    ("{group: pooling, amount: unlimited}", "not a number: 'unlimited'; expected an amount in yuan ≥ 0 or none"),
    ("{group: pooling, amount: ~}", "amount: empty value"),
])
def test_rows_of_a_table_are_checked_column_by_column(tmp_path, row, words):
    text = param("caps", "{insutype: text, group: text, amount: yuan}", f"[{row}]")
    msg = refused(tmp_path, {"benefits/pooling.yaml": text})
    assert "pooling.yaml" in msg and "benefits.pooling.caps" in msg and words in msg


def test_enum_words_and_rate_ranges(tmp_path):
    rule = "{med: inpatient, per: stays, rate: 0.9}"
    msg = refused(tmp_path, {"benefits/pooling.yaml": param("rules", "{med: text, per: text, rate: rate}", f"[{rule}]")})
    assert "rules: 2024-01-01[0].per: 'stays' is not one of stay, year, none (did you mean stay?)" in msg
    msg = refused(tmp_path / "b", {"benefits/civil_servant.yaml": param("rate", "rate", "1.85")})
    assert "civil_servant.yaml" in msg and "benefits.civil_servant.rate: 2024-01-01: 1.85 is out of range" in msg


def test_rate_points_may_be_negative_but_rates_may_not(tmp_path):
    points = param("tier_points", "{tier: int, points: rate}", "[{tier: 1, points: -0.05}]")
    pack = read_pack(pack_with(tmp_path, {"benefits/pooling.yaml": points}))
    assert pack.at(pack.last_change()).benefits.pooling.tier_points[0]["points"] < 0
    msg = refused(tmp_path / "b", {"benefits/scope.yaml": param("default_preselfpay", "rate", "-0.1")})
    assert "default_preselfpay: 2024-01-01: -0.1 is out of range" in msg


def test_a_list_where_a_list_is_declared(tmp_path):
    msg = refused(tmp_path, {"benefits/serious_illness.yaml": param("insutypes", "text", "'390'")})
    assert "insutypes: 2024-01-01: expected a list of text" in msg


@pytest.mark.parametrize("content, words", [
    (b"", "empty file"),
    ("# only a comment\n".encode(), "empty file"),
    ("resident:\n  individual_fee:\n    description: 个人缴费\n".encode("gbk"), "not UTF-8 text: byte 0xb8 at offset 45 (it reads as GBK"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file, not YAML text"),
])
def test_empty_binary_and_non_utf8_files(tmp_path, content, words):
    msg = refused(tmp_path, {"contribution.yaml": content})
    assert "contribution.yaml" in msg and words in msg


def test_pack_yaml_keys_and_stray_files(tmp_path):
    assert "unknown key 'extend' (did you mean extends?)" in refused(tmp_path, {}, meta="name: t\nextend: demo\n")
    assert "empty file" in refused(tmp_path / "b", {}, meta="")
    stray = refused(tmp_path / "c", {"benefits/pooling.yml": param("caps", "text", "x")})
    assert "pooling.yml: pack files end in .yaml" in stray


def test_a_group_is_not_a_parameter_and_a_parameter_is_not_a_group(tmp_path):
    msg = refused(tmp_path, {"benefits/serious_illness.yaml": param("tilt", "text", "x")})
    assert "benefits.serious_illness.tilt: is a group of parameters (identities" in msg
    msg = refused(tmp_path / "b", {"benefits/pooling/caps.yaml": "x: 1\n"})
    assert "caps.yaml: benefits.pooling.caps: a parameter needs 'values'" in msg


def test_cap_none_reads_as_no_limit(tmp_path):
    caps = param("caps", "{group: text, amount: yuan}", "[{group: pooling, amount: none}, {group: outpatient, amount: 3000}]")
    pack = read_pack(pack_with(tmp_path, {"benefits/pooling.yaml": caps}))
    rows = pack.at(pack.last_change()).benefits.pooling.caps
    assert rows[0]["amount"] is NO_LIMIT and rows[1]["amount"] == 300_000
    assert pack.reform({}).at(pack.last_change()).benefits.pooling.caps[0]["amount"] is NO_LIMIT  # copies keep it


def test_a_tier_in_force_needs_its_cap(tmp_path):
    msg = refused(tmp_path, {"benefits/civil_servant.yaml": param("rate", "rate", "0.5")})
    assert "civil_servant.yaml" in msg and "benefits.civil_servant.cap is needed on 2024-01-01" in msg
    assert "value: none" in msg
    ok = param("rate", "rate", "0.5") + param("cap", "yuan", "none")
    assert read_pack(pack_with(tmp_path / "b", {"benefits/civil_servant.yaml": ok})).at(
        __import__("datetime").date(2024, 6, 1)).benefits.civil_servant.cap is NO_LIMIT


def test_every_shipped_pack_loads_under_the_schema():
    for name in available_packs(bases=True):
        assert read_pack(name).params, name


PACK_READ = re.compile(r"""(?<!self\.)(?:get|cite|node|has)\(f?["']((?:benefits|payment|contribution|account)\.[\w.]+)["']"""
                       r"""|\[f?["']((?:benefits|payment|contribution|account)\.[\w.]+)["']\]""")
PLAN_READ = re.compile(r"""(?:self\.get|self\.cite|\bg)\(["']([\w.]+)["']""")


def _declared(path: str) -> bool:
    try:
        spec_of(path, "code")
        return True
    except PolicyError as e:
        return "is a group of parameters" in str(e)


def test_every_parameter_the_code_reads_is_declared():
    read = {m.group(1) or m.group(2) for f in SRC.rglob("*.py") for m in PACK_READ.finditer(f.read_text(encoding="utf-8"))}
    read |= {f"benefits.{m.group(1)}" for m in PLAN_READ.finditer((SRC / "settlement" / "plan.py").read_text(encoding="utf-8"))}
    assert len(read) > 40
    undeclared = sorted(p for p in read if not _declared(p.rstrip(".")))
    assert undeclared == []
    assert isinstance(spec_of("benefits.assistance.categories", "t"), Rows)
