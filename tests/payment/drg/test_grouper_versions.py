"""Versions as data: the shipped chs-1.1 tables, a local variant overlaying them, and the build script."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from yibao.errors import PolicyError
from yibao.payment.drg import Grouper, available_versions, group, load_version
from yibao.payment.drg.build import adrg_kind, adrg_rules, parse_detail, write_csv


def test_shipped_versions_and_counts():
    assert {"chs-1.1", "chs-2.0"} <= set(available_versions())
    v = load_version("chs-1.1")
    # CHS-DRG 1.1: 26 MDC, 376 ADRG, 628 DRG (README of the reference; DRG.dat has 628 rows)
    assert len(v.table("mdc")) == 26
    assert len(v.table("adrg")) == 376
    assert len(v.table("drg")) == 628
    assert v.has_rules and v.meta["counts"] == {"mdc": 26, "adrg": 376, "drg": 628}
    folder = v.folders[-1]
    assert "Apache License" in (folder / "LICENSE.OpenDRG").read_text()
    assert "Apache" in (folder / "SOURCES.md").read_text(encoding="utf-8")


def test_every_adrg_has_a_rule_and_its_drgs():
    g = Grouper.load("chs-1.1")
    assert len(g.adrgs) == 376
    for a in g.adrgs.values():
        assert a.alts and a.suffixes <= {"1", "3", "5", "9"}
        assert a.kind == adrg_kind(a.code)
    assert {a.code for a in g.by_mdc["MDCZ"]["surgical"]} == {"ZB1", "ZC1", "ZD1", "ZJ1"}


def _variant(tmp_path: Path, base: str = "chs-1.1") -> Path:
    folder = tmp_path / "local-1.1"
    folder.mkdir()
    (folder / "version.yaml").write_text(f"name: local-1.1\nbase: {base}\ntitle: 地方版 test\n", encoding="utf-8")
    return folder


def test_local_variant_overlays_its_base(tmp_path):
    folder = _variant(tmp_path)
    # drop 37.5100 from AA1's list (AA1.1) and split AA1 by MCC instead of AA19
    write_csv(folder / "adrg_codes.csv", ["list", "code", "_drop"], [("AA1.1", "37.5100", "1")])
    write_csv(folder / "drg.csv", ["drg", "adrg", "name", "_drop"],
              [("AA19", "AA1", "", "1"), ("AA11", "AA1", "心脏移植，伴MCC", ""), ("AA15", "AA1", "心脏移植", "")])
    g = Grouper.load(str(folder))
    assert g.version == "local-1.1"
    heart = {"sex": 1, "age": 50, "diagnoses": "I42.000", "procedures": "37.5100"}
    assert group(heart).drg == "AA19"  # the base is unchanged
    assert group(heart, version=str(folder)).adrg != "AA1"
    assert g.adrgs["AA1"].suffixes == {"1", "5"}


def test_variant_with_unknown_base_or_bad_table_fails_with_file_named(tmp_path):
    folder = _variant(tmp_path, base="chs-0.0")
    with pytest.raises(PolicyError, match="chs-0.0"):
        load_version(folder)
    folder2 = tmp_path / "v2"
    folder2.mkdir()
    (folder2 / "version.yaml").write_text("name: v2\nbase: chs-1.1\n", encoding="utf-8")
    (folder2 / "drg.csv").write_text("adrg,name\nAA1,x\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"drg.csv line 2: key column drg missing"):
        load_version(folder2)


DETAIL = """MDCA 先期分组疾病及相关操作
AA1 心脏移植
包含以下主要手术或操作：
37.5100 心脏移植术
AC1 胰/肾联合移植
同时包含以下手术：
52.8000 胰腺移植
和
55.6901 肾异体移植术
MDCJ 皮肤、皮下组织及乳腺疾病及~~功能障碍
MDCJ 主诊表
包含以下主要诊断：
C50.900 乳房恶性肿瘤
JA1 乳房恶性肿瘤根治性切除伴乳房重建术
包含以下主要诊断+手术表 1+手术表 2
或包含以下主要诊断+手术表 1+手术表 3
主要诊断：
C50.900 乳房恶性肿瘤
手术表 1：
85.4500 单侧根治性乳房切除术
手术表 2：
85.7000 全乳房重建
手术表 3：
85.5000 乳房成形术
JR1 乳房恶性肿瘤
包含以下主要诊断：
C50.900 乳房恶性肿瘤
MDCZ 多发严重创伤
MDCZ 主诊表
头颈部创伤
包含以下主要诊断：
S06.000 脑震荡
胸部创伤
包含以下主要诊断：
S27.000 创伤性气胸
ZZ1 发性重要创伤无手术
符合 MDCZ 主诊表，且无手术
"""


def test_build_parses_rule_text(tmp_path):
    path = tmp_path / "4_ADRG_DETAIL.txt"
    path.write_text(DETAIL, encoding="utf-8")
    mdcs, mdc_dx, adrgs = parse_detail(path)
    assert mdcs == {"MDCA": "先期分组疾病及相关操作", "MDCJ": "皮肤、皮下组织及乳腺疾病及功能障碍",
                    "MDCZ": "多发严重创伤"}
    assert ("MDCJ", "", "C50.900") in mdc_dx
    assert ("MDCZ", "头颈部创伤", "S06.000") in mdc_dx and ("MDCZ", "胸部创伤", "S27.000") in mdc_dx
    rules, lists = adrg_rules("AC1", adrgs["AC1"])
    assert rules == [(1, "anyproc", "AC1.1"), (1, "anyproc", "AC1.2")]
    assert lists == {"AC1.1": ["52.8000"], "AC1.2": ["55.6901"]}
    rules, lists = adrg_rules("JA1", adrgs["JA1"])
    # alt 1: 主要诊断 + 手术表 1 + 手术表 2; alt 2: 主要诊断 + 手术表 1 + 手术表 3
    assert {(a, k, tuple(lists[l])) for a, k, l in rules} == {
        (1, "pdx", ("C50.900",)), (1, "anyproc", ("85.4500",)), (1, "anyproc", ("85.7000",)),
        (2, "pdx", ("C50.900",)), (2, "anyproc", ("85.4500",)), (2, "anyproc", ("85.5000",))}
    assert adrg_rules("ZZ1", adrgs["ZZ1"])[0] == [(1, "noproc", "")]


def test_write_csv_gz_is_deterministic(tmp_path):
    a, b = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    write_csv(a, ["code"], [("X",)])
    write_csv(b, ["code"], [("X",)])
    assert a.read_bytes() == b.read_bytes()
    assert list(csv.reader(gzip.open(a, "rt", encoding="utf-8"))) == [["code"], ["X"]]
