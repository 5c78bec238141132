"""The spec tables are read as printed, and the extract's known faults are mended by name."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources

import pytest

from yibao import vocab

SCRIPT = resources.files("yibao.api") / "data" / "build_transactions.py"
spec = importlib.util.spec_from_file_location("build_transactions", SCRIPT)
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)

EXTRACT = """\
[7] 【2207】门诊结算
[8] 输入
[15] 表 85 输入（节点标识：data）
| 序号 | 参数代码 | 参数名称 | 参数类型 | 参数长度 | 代码标识 | 是否必填 | 说明 |
| 1 | psn_no | 人员编号 | 字符型 | 30 |  | Y |  |
| 2 | medfee_sumamt | 医疗费总额 | 数值型 | 16,2 |  | Y |  |
| 3 | med_type | 医疗类别 | 字符型 | 6 | Y | Y |  |
[8] 输出
[15] 表 101 输出-结算信息（节点标识：setlinfo）
| 序号 | 参数代码 | 参数名称 | 参数类型 | 参数长度 | 代码标识 | 是否非空 | 说明 |
| 1 | hifdm_pay | 伤残人员医疗保障基金支出 | 字符型 | 16，2 |  |  |  |
| 2 | hifdm_pay | 伤残人员医疗保障基金支出 | 数值型 | 16,2 |  |  |  |
| 3 | setl_time | 结算时间 | 日期型 |  |  | Y | yyyy-MM-dd HH:mm:ss |
[15] 表 150 输入文件参数说明
| 序号 | 参数代码 | 参数名称 | 参数类型 | 参数长度 | 代码标识 | 是否非空 | 说明 |
| 1 | file_only | 文件字段 | 字符型 | 30 |  | Y |  |
[7] 【3101】明细审核事前分析服务
[8] 输入
表 128 输入-规则分析信息（节点标识：data）
| 序号 | 参数代码 | 参数名称 | 参数类型 | 参数长度 | 代码标识 | 是否必填 | 说明 |
| 1 | patient_dtos | 参保人信息 | 参保人信息集合 |  |  | Y |  |
| 2 | rule_ids | 规则标识集合 | 规则标识集合 |  |  |  |  |
表 129 输入-参保人信息（节点标识：patient_dtos）
| 序号 | 参数代码 | 参数名称 | 参数类型 | 参数长度 | 代码标识 | 是否必填 | 说明 |
| 1 | patn_id | 参保人标识 | 字符型 | 50 |  | Y | 参保人唯一ID |
| 2 | extend_order_map | 处方扩展属性 | Map<String,String> |  |  |  |  |
[15] 处方扩展属性(extend_order_map)两库新增内容(对应的都是key名称):
| 序号 | 参数代码 | 参数名称 | 参数类型 | 参数长度 | 代码标识 | 是否必填 | 说明 |
| 1 | o_prdDays | 周期天数 | 字符型 | 10 |  |  | 周期天数 |
"""


@pytest.fixture()
def tables():
    return build.read_spec(EXTRACT)


def test_tables_are_read_per_transaction_direction_and_node(tables):
    assert [(d, node, title) for d, node, title, _ in tables["2207"]["tables"]] == [
        ("input", "data", "交易输入"), ("output", "setlinfo", "结算信息")]
    assert tables["2207"]["name"] == "门诊结算"


def test_a_file_layout_and_a_map_key_table_are_not_sections(tables):
    setlinfo_rows = tables["2207"]["tables"][1][3]
    assert [row[0] for row in setlinfo_rows] == ["hifdm_pay", "hifdm_pay", "setl_time"]
    patient_rows = tables["3101"]["tables"][1][3]
    assert [row[0] for row in patient_rows] == ["patn_id", "extend_order_map"]


def test_types_money_twice_printed_fields_and_times_printed_as_dates(tables):
    sections = build.sections("2207", tables["2207"]["tables"], {"med_type"})
    data, setlinfo = sections["input"][0], sections["output"][0]
    fields = {f["key"]: f for f in data["fields"]}
    assert (fields["medfee_sumamt"]["type"], fields["medfee_sumamt"]["precision"]) == ("amount", 2)
    assert fields["med_type"]["dict"] == "med_type" and "dict" not in fields["psn_no"]
    assert [(f["key"], f["type"]) for f in setlinfo["fields"]] == [("hifdm_pay", "amount"), ("setl_time", "datetime")]


def test_a_collection_nests_the_table_of_its_node(tables):
    data = build.sections("3101", tables["3101"]["tables"], set())["input"]
    assert [s["node"] for s in data] == ["data"]
    patient, rule_ids = data[0]["fields"]
    assert [f["key"] for f in patient["fields"]] == ["patn_id", "extend_order_map"]
    assert (patient["fields"][1]["type"], rule_ids["type"], rule_ids["item"]) == ("map", "list", "string")


@pytest.mark.parametrize("name, key", [("psnNo", "psn_no"), ("medfeeSumamt", "medfee_sumamt"), ("PSN_NO", "psn_no"),
                                       ("setl_List_bld_Id", "setl_list_bld_id"), ("dscgTime", "dscg_time")])
def test_snake(name, key):
    assert build.snake(name) == key


def test_cells_the_conversion_joined_are_split(tmp_path):
    path = tmp_path / "dictionaries.tsv"
    path.write_text("dict_code\tdict_name\tvalue\tlabel\n"
                    "dept\t科室代码\tA32.01 X\t线诊断专业\n"
                    "dcla_souc\t申报来源\t03网上经办系统\t网上经办系统\n"
                    "gend\t性别\t1\t男\n", encoding="utf-8")
    assert build.read_dictionaries(path) == [("dept", "科室代码", "A32.01", "X线诊断专业"),
                                             ("dcla_souc", "申报来源", "03", "网上经办系统"), ("gend", "性别", "1", "男")]


def test_the_shipped_json_holds_the_served_transactions_and_only_their_dictionaries():
    data = resources.files("yibao.api") / "data"
    document = json.loads((data / "transactions.json").read_text(encoding="utf-8"))
    assert list(document["transactions"]) == build.SERVED
    shipped = {line.split("\t")[0] for line in (data / "dictionaries.tsv").read_text(encoding="utf-8").splitlines()[1:]}
    assert shipped == {d for t in document["transactions"].values() for s in t["input"] + t["output"]
                       for d in build._used(s["fields"])} | build._used(document["envelope"])


def test_the_codes_the_engines_name_are_in_the_shipped_dictionaries():
    from yibao.api.fields import _spec

    fields = {f.dict_code: f.dict for t in _spec()[0].values() for s in t.input + t.output for f in s.fields if f.dict}
    assert set(vocab.INSUTYPES) <= fields["insutype"]
    assert set(vocab.MED_TYPES) <= fields["med_type"]
    assert set(vocab.PSN_TYPES) <= fields["psn_type"]
    assert set(vocab.FUND_PAY_TYPES) <= fields["fund_pay_type"]


def test_the_pairs_checked_for_order_are_of_one_type():
    from yibao.api.fields import _spec

    def owners(fields):
        for f in fields:
            if f.fields:
                yield f
                yield from owners(f.fields)

    sections = [s for t in _spec()[0].values() for s in t.input]
    pairs = [pair for s in sections for owner in (s, *owners(s.fields)) for pair in owner.pairs]
    assert {(a.key, b.key) for a, b in pairs} >= {("stmt_begndate", "stmt_enddate"), ("adm_time", "dscg_time")}
    assert all(a.type == b.type for a, b in pairs)
