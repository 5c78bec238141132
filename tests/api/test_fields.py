"""The interface field layer: what a HIS may send is typed, everything else is refused with its own err_msg."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.api import (
    InterfaceError, MAX_ROWS, dumps_output, example_envelope, example_input, example_output, parse_envelope,
    parse_input, render_output, served_transactions, transaction_spec,
)
from yibao.api.fields import _MESSAGES

SERVED = ["9001", "9002", "1101", "2201", "2202", "2203", "2204", "2205", "2206", "2207", "2208", "2301", "2302",
          "2303", "2304", "2305", "2401", "2402", "2404", "2405", "2601", "3101", "3102", "3201", "3202", "9101",
          "9102", "4101"]


def data_2207(**changes) -> dict:
    message = example_input("2207")
    message["data"].update(changes)
    return message


def without(message: dict, section: str, key: str) -> dict:
    del message[section][key]
    return message


def fee_lines(*changes: dict, infno: str = "2204") -> dict:
    """A fee upload whose n-th line carries the n-th change (lines are valid 12.5 × 2 = 25.00)."""
    message = example_input(infno, rows=max(len(changes), 1))
    for line, change in zip(message["feedetail"], changes):
        line.update(change)
    return message


def section(infno: str, node: str, **changes) -> dict:
    message = example_input(infno)
    target = message[node][0] if isinstance(message[node], list) else message[node]
    target.update(changes)
    return message


def refused(infno: str, message: object) -> InterfaceError:
    with pytest.raises(InterfaceError) as caught:
        parse_input(infno, message)
    return caught.value


# --- every served transaction ---------------------------------------------------------------------------


def test_the_served_transactions_are_those_the_service_answers():
    assert set(served_transactions()) == set(SERVED) | {"4101A"}


@pytest.mark.parametrize("infno", SERVED)
def test_each_transaction_parses_a_valid_message_built_from_its_tables(infno):
    spec = transaction_spec(infno)
    parsed = parse_input(infno, example_input(infno, rows=2))
    assert set(parsed) == {s["node"] for s in spec["input"]}
    assert parsed.extra_keys == []
    for s in spec["input"]:
        records = parsed[s["node"]] if s["kind"] == "list" else [parsed[s["node"]]]
        assert len(records) == (2 if s["kind"] == "list" else 1)
        assert list(records[0]) == [f["key"] for f in s["fields"]]


@pytest.mark.parametrize("infno", SERVED)
def test_each_transaction_renders_its_output_in_the_spec_order(infno):
    spec = transaction_spec(infno)
    output = render_output(infno, example_output(infno))
    if spec["output"] and not spec["output"][0]["node"]:
        assert list(output) == [f["code"] for f in spec["output"][0]["fields"]]
        return
    assert list(output) == [s["node"] for s in spec["output"]]
    for s in spec["output"]:
        record = output[s["node"]][0] if s["kind"] == "list" else output[s["node"]]
        assert list(record) == [f["code"] for f in s["fields"]]


def test_the_spec_tables_keep_type_length_precision_required_flag_and_dictionary():
    feedetail = {f["key"]: f for f in transaction_spec("2204")["input"][0]["fields"]}
    assert feedetail["det_item_fee_sumamt"] == {
        "code": "det_item_fee_sumamt", "key": "det_item_fee_sumamt", "name": "明细项目费用总额", "spec_type": "数值型",
        "type": "amount", "length": 16, "precision": 2, "required": True, "signed": True}
    assert (feedetail["pric"]["type"], feedetail["pric"]["precision"]) == ("decimal", 6)
    assert (feedetail["cnt"]["type"], feedetail["cnt"]["precision"]) == ("decimal", 4)
    assert feedetail["hosp_appr_flag"]["dict"] == "hosp_appr_flag"
    assert feedetail["memo"] == {"code": "memo", "key": "memo", "name": "备注", "spec_type": "字符型",
                                      "type": "string", "length": 1000, "required": False}
    setlinfo = {f["key"]: f for f in transaction_spec("2305")["output"][0]["fields"]}
    assert setlinfo["hifdm_pay"]["type"] == "amount"  # printed 字符型 16，2
    dscg = {f["key"]: f for f in transaction_spec("2304")["input"][0]["fields"]}["dscg_time"]
    assert (dscg["code"], dscg["type"]) == ("dscgTime", "date")


def test_the_transactions_the_extract_lacks_are_hand_written_and_marked():
    for infno in ("2404", "2405", "2601"):
        assert transaction_spec(infno)["hand_written"] is True
    assert [f["code"] for f in transaction_spec("2601")["input"][0]["fields"]] == ["psn_no", "omsgid", "oinfno"]
    assert "hand_written" not in transaction_spec("2207")


def test_3101_nests_encounters_diagnoses_and_orders_inside_the_person():
    patient = transaction_spec("3101")["input"][0]["fields"][0]
    encounter = next(f for f in patient["fields"] if f["key"] == "fsi_encounter_dtos")
    assert {"fsi_diagnose_dtos", "fsi_order_dtos", "fsi_operation_dtos"} <= {f["key"] for f in encounter["fields"]}


# --- accepted as production platforms accept it ---------------------------------------------------------


@pytest.mark.parametrize("sent, fen", [
    (10.5, 1050), ("10.5", 1050), ("10.50", 1050), (10, 1000), ("10", 1000), ("10.00000000", 1000),
    (" 10.5 ", 1050), ("0", 0), (0, 0), ("1e2", 10000), (0.1, 10), ("+3", 300), ("100000000", 10**10),
])
def test_amounts_as_json_numbers_or_strings_become_fen(sent, fen):
    assert parse_input("2207", data_2207(medfee_sumamt=sent))["data"]["medfee_sumamt"] == fen


def test_numbers_read_as_decimal_by_the_service_json_reader():
    message = json.loads(json.dumps(example_input("2204")), parse_float=Decimal)
    message["feedetail"][0].update(pric=Decimal("12.5"), cnt=Decimal("2.0"), det_item_fee_sumamt=Decimal("25.00"))
    line = parse_input("2204", message)["feedetail"][0]
    assert (line["pric"], line["det_item_fee_sumamt"]) == (Decimal("12.500000"), 2500)
    assert refused("2207", data_2207(medfee_sumamt=Decimal("NaN"))).err_msg == "medfee_sumamt(医疗费总额)不是有限数值：NaN"
    assert refused("2207", data_2207(psn_no=Decimal("1.5"))).err_msg == "psn_no(人员编号)应为字符串，不能是数值：1.5"


@pytest.mark.parametrize("sent", ["", None, "null", "NULL", "  "])
def test_an_empty_optional_number_is_none(sent):
    parsed = parse_input("2303", section("2303", "data", fulamt_ownpay_amt=sent))
    assert parsed["data"]["fulamt_ownpay_amt"] is None


def test_an_absent_optional_number_is_none_and_zero_is_zero():
    assert parse_input("2303", without(example_input("2303"), "data", "fulamt_ownpay_amt"))["data"]["fulamt_ownpay_amt"] is None
    assert parse_input("2303", section("2303", "data", fulamt_ownpay_amt="0"))["data"]["fulamt_ownpay_amt"] == 0


@pytest.mark.parametrize("sent", ["", None, "null"])
def test_an_empty_required_amount_is_refused_never_a_silent_zero(sent):
    error = refused("2207", data_2207(medfee_sumamt=sent))
    assert error.err_msg == "medfee_sumamt(医疗费总额)为必填项，不能为空"


def test_prices_and_quantities_keep_the_spec_places():
    line = parse_input("2204", fee_lines({"pric": "3.5", "cnt": 3, "det_item_fee_sumamt": "10.5"}))["feedetail"][0]
    assert (str(line["pric"]), str(line["cnt"]), line["det_item_fee_sumamt"]) == ("3.500000", "3.0000", 1050)


def test_a_refund_line_in_2301_has_a_negative_quantity_and_total():
    message = fee_lines({"cnt": "-2", "det_item_fee_sumamt": "-25.00", "init_feedetl_sn": "7"}, infno="2301")
    line = parse_input("2301", message)["feedetail"][0]
    assert (line["cnt"], line["det_item_fee_sumamt"]) == (Decimal("-2.0000"), -2500)


@pytest.mark.parametrize("total", ["1.00", "0.99"])
def test_a_line_total_rounded_or_cut_to_the_fen_is_accepted(total):
    line = fee_lines({"pric": "0.333333", "cnt": "3", "det_item_fee_sumamt": total})
    assert parse_input("2204", line)["feedetail"][0]["det_item_fee_sumamt"] == int(Decimal(total) * 100)


@pytest.mark.parametrize("sent", ["2024-03-01 10:20:30", "2024-03-01T10:20:30", "20240301102030",
                                  " 2024-03-01 10:20:30 ", "2024-3-1 10:20:30"])
def test_datetimes_with_a_space_a_t_or_no_separator(sent):
    line = parse_input("2204", fee_lines({"fee_ocur_time": sent}))["feedetail"][0]
    assert line["fee_ocur_time"] == datetime(2024, 3, 1, 10, 20, 30)


def test_a_java_timestamp_keeps_its_fraction_and_a_date_alone_is_midnight():
    line = parse_input("2204", fee_lines({"fee_ocur_time": "2024-03-01 10:20:30.5"}))["feedetail"][0]
    assert line["fee_ocur_time"] == datetime(2024, 3, 1, 10, 20, 30, 500000)
    line = parse_input("2204", fee_lines({"fee_ocur_time": "2024-03-01"}))["feedetail"][0]
    assert line["fee_ocur_time"] == datetime(2024, 3, 1)


@pytest.mark.parametrize("sent", ["2024-03-01", "20240301", "2024-03-01 00:00:00"])
def test_dates(sent):
    parsed = parse_input("3201", section("3201", "data", stmt_begndate=sent, stmt_enddate="2024-03-31"))
    assert parsed["data"]["stmt_begndate"] == date(2024, 3, 1)


def test_camel_case_and_capital_names_map_to_the_spec_names():
    message = example_input("2207")
    data = message["data"]
    data["psnNo"] = data.pop("psn_no")
    data["medfeeSumamt"] = data.pop("medfee_sumamt")
    data["MDTRT_ID"] = data.pop("mdtrt_id")
    parsed = parse_input("2207", message)
    assert (parsed["data"]["psn_no"], parsed["data"]["medfee_sumamt"], parsed["data"]["mdtrt_id"]) == ("psn_no", 10000, "mdtrt_id")
    assert parsed.extra_keys == []


def test_2304_takes_dscg_time_in_the_spec_spelling_and_in_snake_case():
    for name in ("dscgTime", "dscg_time"):
        message = example_input("2304")
        message["data"].pop("dscgTime")
        message["data"][name] = "2024-03-05"
        assert parse_input("2304", message)["data"]["dscg_time"] == date(2024, 3, 5)


def test_unknown_keys_are_ignored_and_listed_for_the_log():
    message = fee_lines({"his_item_id": "A1"}, {})
    message["feedetail"][1]["extra"] = 1
    message["signature"] = "x"
    parsed = parse_input("2204", message)
    assert parsed.extra_keys == ["signature", "feedetail[0].his_item_id", "feedetail[1].extra"]
    assert "his_item_id" not in parsed["feedetail"][0]


def test_codes_sent_as_json_numbers_and_null_texts():
    parsed = parse_input("2207", data_2207(insutype=int(min(_dictionary("insutype"))), card_sn="NULL"))
    assert parsed["data"]["insutype"] == min(_dictionary("insutype"))
    assert parsed["data"]["card_sn"] is None


@pytest.mark.parametrize("med_type", ["12", "21", "2101", "990101"])
def test_med_types_of_the_spec_text_and_the_national_baseline(med_type):
    assert parse_input("2207", data_2207(med_type=med_type))["data"]["med_type"] == med_type


def test_a_section_name_in_capitals_and_a_tab_in_a_remark():
    message = fee_lines({"memo": "早\t晚"})
    parsed = parse_input("2204", {"FEEDETAIL": message["feedetail"]})
    assert parsed["feedetail"][0]["memo"] == "早\t晚" and parsed.extra_keys == []


@pytest.mark.parametrize("total, accepted", [("99999998.99", True), ("99999999.00", True), ("99999998.98", False)])
def test_a_line_near_the_amount_cap_is_checked_to_the_fen(total, accepted):
    line = fee_lines({"pric": "9999.999999", "cnt": "9999.9999", "det_item_fee_sumamt": total})  # = 99999998.9900000001
    if accepted:
        assert parse_input("2204", line)["feedetail"][0]["det_item_fee_sumamt"] == int(Decimal(total) * 100)
    else:
        assert refused("2204", line).kind == "line_amount"


def test_input_sent_as_json_text_and_the_provincial_4101a():
    assert parse_input("2207", json.dumps(example_input("2207"))) == parse_input("2207", example_input("2207"))
    assert parse_input("4101A", example_input("4101")) == parse_input("4101", example_input("4101"))


def test_exp_content_as_text_or_as_the_object_newer_clients_send():
    assert parse_input("2207", data_2207(exp_content={"trum_flag": "0"}))["data"]["exp_content"] == {"trum_flag": "0"}
    assert parse_input("2207", data_2207(exp_content="【TRUM_FLAG】0"))["data"]["exp_content"] == "【TRUM_FLAG】0"


def test_1101_takes_the_empty_certno_and_name_its_spec_sample_sends():
    parsed = parse_input("1101", section("1101", "data", certno="", psn_name=""))
    assert (parsed["data"]["certno"], parsed["data"]["psn_name"]) == (None, None)


def test_file_bytes_as_base64_or_a_java_byte_array():
    assert parse_input("9101", section("9101", "fsUploadIn", **{"in": "eWliYW8="}))["fsUploadIn"]["in"] == b"yibao"
    assert parse_input("9101", section("9101", "fsUploadIn", **{"in": [121, -1]}))["fsUploadIn"]["in"] == b"y\xff"


@pytest.mark.parametrize("length", [20, 29, 30])
def test_a_msgid_of_20_to_30_characters(length):
    message = example_envelope("2207")
    message["msgid"] = "H" * length
    message["devNo"] = message.pop("dev_no").replace("dev_no", "pad-1")
    message["client_version"] = "3.2"
    header = parse_envelope(message)
    assert (header["msgid"], header["dev_no"], header["inf_time"]) == ("H" * length, "pad-1", datetime(2024, 3, 1, 10))
    assert header.extra_keys == ["client_version"]
    assert header["input"] is message["input"]


def _dictionary(code: str) -> set[str]:
    from yibao.api.fields import _spec

    first = next(f for t in _spec()[0].values() for s in t.input for f in s.fields if f.dict_code == code)
    return set(first.dict)


# --- refused, each with its own err_msg -----------------------------------------------------------------

ENVELOPE = "envelope"
REFUSALS = [
    # (kind, infno, message, field code, err_msg)
    ("input_not_object", "2207", [1, 2], "input", "input(交易输入)应为JSON对象，不能是数组"),
    ("input_bad_json", "2207", "{data:", "input", "input(交易输入)不是有效的JSON：{data:"),
    ("unknown_infno", "9999", {}, "infno", "infno(交易编号)不是本服务受理的交易：9999"),
    ("section_missing", "2207", {"daten": {}}, "data", "缺少节点data(交易输入)"),
    ("section_not_object", "2207", {"data": [example_input("2207")["data"]]}, "data",
     "data(交易输入)应为对象（单行数据），不能是数组"),
    ("section_not_list", "2204", {"feedetail": example_input("2204")["feedetail"][0]}, "feedetail",
     "feedetail(费用明细列表)应为数组（多行数据），不能是对象"),
    ("section_empty", "2204", {"feedetail": []}, "feedetail", "feedetail(费用明细列表)不能为空数组"),
    ("too_many_rows", "2204", {"feedetail": example_input("2204")["feedetail"] * (MAX_ROWS + 1)}, "feedetail",
     "feedetail(费用明细列表)共10001行，超过上限10000行"),
    ("row_not_object", "2204", {"feedetail": [example_input("2204")["feedetail"][0], "line 2"]}, "feedetail",
     "feedetail(费用明细列表)第2行应为对象，不能是字符串"),
    ("missing", "2207", without(example_input("2207"), "data", "psn_no"), "psn_no", "psn_no(人员编号)为必填项，未传入"),
    ("empty", "2207", data_2207(psn_no="  "), "psn_no", "psn_no(人员编号)为必填项，不能为空"),
    ("duplicate_field", "2207", data_2207(psnNo="P2"), "psn_no", "psn_no(人员编号)重复传入（psn_no与psnNo）"),  # values differ
    ("not_a_value", "2207", data_2207(psn_no={"id": 1}), "psn_no", "psn_no(人员编号)应为单个值，不能是对象"),
    ("bool", "2207", data_2207(medfee_sumamt=True), "medfee_sumamt", "medfee_sumamt(医疗费总额)不能是布尔值：true"),
    ("not_text", "2207", data_2207(psn_no=1.5), "psn_no", "psn_no(人员编号)应为字符串，不能是数值：1.5"),
    ("too_long", "2207", data_2207(psn_no="4" * 31), "psn_no", "psn_no(人员编号)超过最大长度30（实际31）"),
    ("too_short", ENVELOPE, "H430281002552021092", "msgid",
     "msgid(发送方报文ID)长度应为20至30位（实际19）：H430281002552021092"),
    ("control_char", "2207", data_2207(psn_no="P1\x00"), "psn_no", "psn_no(人员编号)含有不允许的控制字符：P1\\x00"),
    ("not_in_dict", "2207", data_2207(med_type="99"), "med_type", "med_type(医疗类别)不在字典med_type中：99"),
    ("not_numeric", "2207", data_2207(medfee_sumamt="1,234.50"), "medfee_sumamt",
     "medfee_sumamt(医疗费总额)不是数值：1,234.50"),
    ("non_finite", "2207", data_2207(medfee_sumamt="NaN"), "medfee_sumamt", "medfee_sumamt(医疗费总额)不是有限数值：NaN"),
    ("too_many_digits", "2207", data_2207(medfee_sumamt="123456789012345"), "medfee_sumamt",
     "medfee_sumamt(医疗费总额)整数部分超过14位：123456789012345"),
    ("sub_fen", "2207", data_2207(medfee_sumamt="10.005"), "medfee_sumamt",
     "medfee_sumamt(医疗费总额)不能有分以下的金额：10.005"),
    ("too_many_decimals", "2204", fee_lines({"cnt": "2.00001"}), "cnt", "feedetail第1行：cnt(数量)小数位数超过4位：2.00001"),
    ("not_integer", "2203", section("2203", "diseinfo", diag_srt_no="1.5"), "diag_srt_no",
     "diseinfo第1行：diag_srt_no(诊断排序号)应为整数：1.5"),
    ("negative", "2207", data_2207(medfee_sumamt="-10.00"), "medfee_sumamt", "medfee_sumamt(医疗费总额)不能为负数：-10.00"),
    ("amount_cap", "2207", data_2207(medfee_sumamt="100000000.01"), "medfee_sumamt",
     "medfee_sumamt(医疗费总额)超过单笔金额上限100000000元：100000000.01"),
    ("bad_date", "3201", section("3201", "data", stmt_begndate="2024/03/01"), "stmt_begndate",
     "stmt_begndate(对账开始日期)日期格式应为yyyy-MM-dd：2024/03/01"),
    ("bad_datetime", "2204", fee_lines({"fee_ocur_time": "10:20 2024-03-01"}), "fee_ocur_time",
     "feedetail第1行：fee_ocur_time(费用发生时间)时间格式应为yyyy-MM-dd HH:mm:ss：10:20 2024-03-01"),
    ("impossible_date", "2204", fee_lines({"fee_ocur_time": "2024-02-30 10:00:00"}), "fee_ocur_time",
     "feedetail第1行：fee_ocur_time(费用发生时间)不是有效的日期：2024-02-30 10:00:00"),
    ("year_range", "3201", section("3201", "data", stmt_begndate="0024-03-01"), "stmt_begndate",
     "stmt_begndate(对账开始日期)年份应在1900至2099之间：0024-03-01"),
    ("not_date_text", "3201", section("3201", "data", stmt_begndate=20240301), "stmt_begndate",
     "stmt_begndate(对账开始日期)应为日期字符串，不能是数值：20240301"),
    ("line_amount", "2204", fee_lines({}, {"pric": "930", "cnt": "3", "det_item_fee_sumamt": "100"}),
     "det_item_fee_sumamt", "feedetail第2行：det_item_fee_sumamt(明细项目费用总额)与单价×数量不符：100.00≠930.000000×3.0000=2790"),
    ("duplicate_sn", "2204", fee_lines({}, {}, {"feedetl_sn": "1"}), "feedetl_sn",
     "feedetl_sn(费用明细流水号)在本次上传中重复：1（第1行与第3行）"),
    ("date_order", "3201", section("3201", "data", stmt_begndate="2024-03-01", stmt_enddate="2024-02-01"),
     "stmt_enddate", "stmt_enddate(对账结束日期)早于stmt_begndate(对账开始日期)：2024-02-01<2024-03-01"),
    ("bad_base64", "9101", section("9101", "fsUploadIn", **{"in": "not base64!"}), "in",
     "in(文件数据)不是有效的Base64：not base64!"),
    ("bad_bytes", "9101", section("9101", "fsUploadIn", **{"in": [1, 300]}), "in", "in(文件数据)应为0至255的字节数组：[1, 300]"),
]


@pytest.mark.parametrize("kind, infno, message, code, err_msg", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_bad_input_is_refused_with_its_own_err_msg(kind, infno, message, code, err_msg):
    if infno == ENVELOPE:
        with pytest.raises(InterfaceError) as caught:
            parse_envelope({**example_envelope("2207"), "msgid": message})
        error = caught.value
    else:
        error = refused(infno, copy.deepcopy(message))
    assert (error.kind, error.field, error.err_msg) == (kind, code, err_msg)
    assert code in error.err_msg and str(error) == err_msg


def test_every_refusal_has_its_own_message_and_a_case():
    output_kinds = {"output_missing", "output_type"}  # cases in the render tests below
    assert {kind for kind, *_ in REFUSALS} | output_kinds == set(_MESSAGES)
    assert len({err for *_, err in REFUSALS}) == len(REFUSALS) >= 30


@pytest.mark.parametrize("infno, message, err_msg", [
    ("2207", data_2207(insutype="999"), "insutype(险种类型)不在字典insutype中：999"),
    ("2207", data_2207(mdtrt_cert_type="09"), "mdtrt_cert_type(就诊凭证类型)不在字典mdtrt_cert_type中：09"),
    ("2207", data_2207(psn_cert_type="00"), "psn_cert_type(证件类型)不在字典psn_cert_type中：00"),
    ("4101", section("4101", "iteminfo", med_chrgitm_type="99"),
     "iteminfo第1行：med_chrgitm_type(医疗收费项目类别)不在字典med_chrgitm_type中：99"),
    ("2204", fee_lines({"hosp_appr_flag": "9"}), "feedetail第1行：hosp_appr_flag(医院审批标志)不在字典hosp_appr_flag中：9"),
])
def test_codes_outside_their_dictionary(infno, message, err_msg):
    assert refused(infno, message).err_msg == err_msg


@pytest.mark.parametrize("infno, message, err_msg", [
    ("2207", data_2207(medfee_sumamt=float("inf")), "medfee_sumamt(医疗费总额)不是有限数值：Infinity"),
    ("2207", data_2207(medfee_sumamt="-Infinity"), "medfee_sumamt(医疗费总额)不是有限数值：-Infinity"),
    ("2207", data_2207(medfee_sumamt="1e999999999"), "medfee_sumamt(医疗费总额)整数部分超过14位：1e999999999"),
    ("2207", data_2207(medfee_sumamt="1e-999999999"), "medfee_sumamt(医疗费总额)不能有分以下的金额：1e-999999999"),
    ("2204", fee_lines({"det_item_fee_sumamt": 9e16}), "feedetail第1行：det_item_fee_sumamt(明细项目费用总额)整数部分超过14位：9e+16"),
    ("2204", fee_lines({"pric": "1e20"}), "feedetail第1行：pric(单价)整数部分超过10位：1e20"),
    ("2207", data_2207(medfee_sumamt=10**30), "medfee_sumamt(医疗费总额)整数部分超过14位：1000000000000000000000000000000"),
    ("2207", data_2207(medfee_sumamt=[10]), "medfee_sumamt(医疗费总额)应为单个值，不能是数组"),
    ("2204", fee_lines({"pric": "-1", "det_item_fee_sumamt": "-2"}), "feedetail第1行：pric(单价)不能为负数：-1"),
    ("2207", data_2207(psn_no=True), "psn_no(人员编号)不能是布尔值：true"),
    ("3101", section("3101", "data", patient_dtos={"patn_id": "1"}), "patient_dtos(参保人信息)应为数组（多行数据），不能是对象"),
    ("2203", {**example_input("2203"), "diseinfo": []}, "diseinfo(诊断信息)不能为空数组"),
])
def test_more_shapes_of_the_same_refusals(infno, message, err_msg):
    assert refused(infno, message).err_msg == err_msg


def test_a_nested_row_names_its_place():
    message = example_input("3101")
    message["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]["cnt"] = "x"
    assert refused("3101", message).err_msg == (
        "patient_dtos第1行fsi_encounter_dtos第1行fsi_order_dtos第1行：cnt(数量)不是数值：x")


def test_an_err_msg_fits_the_spec_200_characters():
    error = refused("2207", data_2207(med_type="医" * 500))
    assert len(error.err_msg) <= 200 and error.err_msg.startswith("med_type(医疗类别)不在字典med_type中：")


def test_a_msgid_longer_than_30_is_refused():
    with pytest.raises(InterfaceError, match=r"^msgid\(发送方报文ID\)超过最大长度30（实际31）$"):
        parse_envelope({**example_envelope("2207"), "msgid": "H" * 31})


# --- output ---------------------------------------------------------------------------------------------


def test_output_amounts_are_yuan_with_two_places_and_times_in_the_spec_format():
    values = example_output("2207")
    values["setlinfo"].update(medfee_sumamt=1050, hifp_pay=-5, setl_time=datetime(2024, 3, 1, 9, 5, 7),
                              brdy=date(1980, 2, 29), pool_prop_selfpay=Decimal("0.85"), trace=["internal"])
    del values["setlinfo"]["act_pay_dedc"]
    setlinfo = render_output("2207", values)["setlinfo"]
    assert (setlinfo["medfee_sumamt"], setlinfo["hifp_pay"], setlinfo["act_pay_dedc"]) == (
        Decimal("10.50"), Decimal("-0.05"), Decimal("0.00"))
    assert (setlinfo["setl_time"], setlinfo["brdy"], str(setlinfo["pool_prop_selfpay"])) == (
        "2024-03-01 09:05:07", "1980-02-29", "0.8500")
    assert "trace" not in setlinfo
    text = dumps_output(render_output("2207", values))
    assert '"medfee_sumamt":10.50,' in text and '"act_pay_dedc":0.00,' in text and json.loads(text)["setlinfo"]["hifp_pay"] == -0.05


def test_an_optional_output_left_out_is_its_spec_empty_value():
    values = example_output("2207")
    for key in ("gend", "age", "exp_content"):
        del values["setlinfo"][key]
    setlinfo = render_output("2207", values)["setlinfo"]
    assert (setlinfo["gend"], setlinfo["age"], setlinfo["exp_content"]) == ("", Decimal("0.0"), "")


@pytest.mark.parametrize("change, kind, err_msg", [
    ({"setl_id": None}, "output_missing", "输出缺少非空字段setl_id(结算ID)"),
    ({"medfee_sumamt": 10.5}, "output_type", "输出medfee_sumamt(医疗费总额)应为整数分：10.5"),
    ({"setl_time": 20240301}, "output_type", "输出setl_time(结算时间)应为日期时间：20240301"),
    ({"hifp_pay": 10**16}, "too_many_digits", "hifp_pay(基本医疗保险统筹基金支出)整数部分超过14位：10000000000000000"),
    ({"pool_prop_selfpay": Decimal("1E+999999")}, "too_many_digits",
     "pool_prop_selfpay(基本医疗保险统筹基金支付比例)整数部分超过1位：1E+999999"),
    ({"pool_prop_selfpay": Decimal("0.12345")}, "too_many_decimals", "pool_prop_selfpay(基本医疗保险统筹基金支付比例)小数位数超过4位：0.12345"),
])
def test_output_a_handler_got_wrong_is_refused(change, kind, err_msg):
    values = example_output("2207")
    values["setlinfo"].update(change)
    with pytest.raises(InterfaceError) as caught:
        render_output("2207", values)
    assert (caught.value.kind, caught.value.err_msg) == (kind, err_msg)


def test_a_missing_output_section():
    with pytest.raises(InterfaceError, match=r"^输出缺少非空字段setlinfo\(结算信息\)$"):
        render_output("2207", {"setldetail": []})


def test_a_parsed_fee_line_renders_back_as_it_came():
    line = parse_input("2204", fee_lines({"pric": "3.5", "cnt": "3", "det_item_fee_sumamt": "10.50"}))["feedetail"][0]
    row = {**example_output("2204")["result"][0], **{k: line[k] for k in ("feedetl_sn", "pric", "cnt", "det_item_fee_sumamt")}}
    rendered = render_output("2204", {"result": [row]})["result"][0]
    assert dumps_output([rendered["det_item_fee_sumamt"], rendered["pric"], rendered["cnt"]]) == "[10.50,3.500000,3.0000]"


# --- any JSON value in any field: a typed value or an InterfaceError -----------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.decimals() | st.text(max_size=40)
    | st.from_regex(r"-?\d{0,18}(\.\d{0,9})?([eE][+-]?\d{1,4})?", fullmatch=True)
    | st.from_regex(r"\d{4}-?\d{1,2}-?\d{1,2}([ T]\d{2}:?\d{2}:?\d{2}(\.\d{1,7})?)?", fullmatch=True)
    | st.sampled_from(["", "null", "NaN", "Infinity", "0", "-0", "0.000", "1e-7", "9" * 17]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _places(message: dict):
    """(container, key) of every value in a message, nested rows included."""
    for node, value in message.items():
        yield message, node
        for record in value if isinstance(value, list) else [value]:
            if isinstance(record, dict):
                yield from _record_places(record)


def _record_places(record: dict):
    for key, value in record.items():
        yield record, key
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for row in value:
                yield from _record_places(row)


@settings(max_examples=300)
@given(infno=st.sampled_from(SERVED), pick=st.integers(min_value=0), value=json_values)
def test_any_json_value_in_any_field_is_typed_or_refused(infno, pick, value):
    message = example_input(infno, rows=2)
    places = list(_places(message))
    container, key = places[pick % len(places)]
    container[key] = value
    try:
        parsed = parse_input(infno, message)
    except InterfaceError as error:
        assert 0 < len(error.err_msg) <= 200
    else:
        assert set(parsed) == set(message)


@settings(max_examples=100)
@given(infno=st.sampled_from(SERVED), message=json_values)
def test_any_json_as_the_whole_input_is_typed_or_refused(infno, message):
    try:
        parse_input(infno, message)
    except InterfaceError as error:
        assert error.err_msg


@settings(max_examples=200)
@given(infno=st.sampled_from(SERVED), pick=st.integers(min_value=0), value=json_values)
def test_any_value_a_handler_gives_renders_or_is_refused(infno, pick, value):
    values = example_output(infno)
    places = list(_places(values)) or [(values, "x")]
    container, key = places[pick % len(places)]
    container[key] = value
    try:
        dumps_output(render_output(infno, values))
    except InterfaceError as error:
        assert error.err_msg


@pytest.mark.parametrize("kind, infno, message, code, err_msg", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_the_service_answers_each_refusal_with_its_err_msg(tmp_path, kind, infno, message, code, err_msg):
    """The endpoint's answer to each bad input: infcode -1, the field layer's err_msg, nothing written
    (the refusals come before the database, so an empty file serves)."""
    import json

    from yibao.api.service import Service

    svc = Service(f"sqlite:///{tmp_path / 'never-written.db'}", region=None)
    envelope = example_envelope("2207")
    if infno == ENVELOPE:
        envelope["msgid"] = message
    else:
        envelope.update(infno=infno, input=copy.deepcopy(message))
    answer = json.loads(svc.handle(json.dumps(envelope, ensure_ascii=False, default=str).encode()))
    assert (answer["infcode"], answer["err_msg"], answer["output"]) == (-1, err_msg, {})
    assert not (tmp_path / "never-written.db").exists() or (tmp_path / "never-written.db").stat().st_size == 0
