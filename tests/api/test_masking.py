"""Masking of ID numbers, names, telephones and addresses in envelopes and in log messages."""

from __future__ import annotations

import io
import json
import logging
from datetime import date

import pytest

from yibao.api import IdNumberLogFilter, mask_certno, mask_name, mask_payload, mask_text
from yibao.api.masking import mask_addr, mask_tel
from yibao.ids import id_check_char, make_id_number

CERTNO = make_id_number("430281", date(1990, 3, 7), 17, "1")
CERTNO_X = next(f"{base}X" for seq in range(500)
                for base in [f"43028119850612{seq:03d}"] if id_check_char(base) == "X")


def test_an_id_number_keeps_its_region_and_last_four():
    assert mask_certno(CERTNO) == CERTNO[:6] + "********" + CERTNO[-4:]
    assert mask_certno(CERTNO_X) == CERTNO_X[:6] + "********" + CERTNO_X[-4:] and CERTNO_X.endswith("X")


@pytest.mark.parametrize("value, masked", [
    ("430281900307123", "43***********23"),   # a 15-digit ID or a card number: 2 and 2
    ("A1234567", "A1****67"),
    ("1234567", "*******"),                   # too short to show any of it
    ("", ""), ("null", "null"), ("NULL", "NULL"), (None, None),
])
def test_other_certificate_numbers_and_placeholders(value, masked):
    assert mask_certno(value) == masked


@pytest.mark.parametrize("name, masked", [
    ("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "*"), ("买买提·艾力", "买**·**"), ("John Smith", "J*** *****"),
])
def test_names_keep_their_first_character(name, masked):
    assert mask_name(name) == masked


def test_telephones_and_addresses():
    assert mask_tel("13812345678") == "138****5678"
    assert mask_tel(13812345678) == "138****5678"
    assert mask_addr("湖南省株洲市醴陵市阳三石街道1号") == "湖南省株洲市***"
    assert mask_addr("醴陵") == "***"


def test_id_numbers_are_found_in_text_and_other_long_numbers_are_not():
    text = f"person {CERTNO} and certno:{CERTNO_X}, msgid H4302810025520210927092003361, setl_id 430000000000000001"
    masked = mask_text(text)
    assert CERTNO not in masked and CERTNO_X not in masked
    assert f"person {mask_certno(CERTNO)} and certno:{mask_certno(CERTNO_X)}," in masked
    assert masked.endswith("msgid H4302810025520210927092003361, setl_id 430000000000000001")


def _envelope() -> dict:
    return {
        "infno": "1101", "msgid": "H4302810025520210927092003361", "opter_name": "李四",
        "fixmedins_name": "醴陵远恒医院(有限合伙)", "sign_no": "null",
        "input": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "psn_cert_type": "01",
                           "certno": CERTNO, "psn_name": "欧阳娜娜", "card_sn": "NULL"}},
        "output": {"insuinfo": [{"insutype": "310", "memo": f"本人 {CERTNO_X}"}],
                   "idetinfo": [], "baseinfo": {"psn_name": "张三", "tel": "13812345678", "addr": "湖南省株洲市醴陵市",
                                                "dr_name": "王医生"}},
    }


def test_an_envelope_is_masked_by_field_name_at_any_depth():
    envelope = _envelope()
    before = json.dumps(envelope, ensure_ascii=False)
    masked = mask_payload(envelope)
    assert json.dumps(envelope, ensure_ascii=False) == before  # the caller's object is left as it was
    data, base = masked["input"]["data"], masked["output"]["baseinfo"]
    assert data["certno"] == data["mdtrt_cert_no"] == mask_certno(CERTNO)
    assert (data["psn_name"], base["psn_name"], masked["opter_name"]) == ("欧***", "张*", "李*")
    assert (base["tel"], base["addr"]) == ("138****5678", "湖南省株洲市***")
    assert masked["output"]["insuinfo"][0]["memo"] == f"本人 {mask_certno(CERTNO_X)}"
    assert (base["dr_name"], masked["fixmedins_name"], masked["msgid"]) == (
        "王医生", "醴陵远恒医院(有限合伙)", "H4302810025520210927092003361")
    assert (masked["sign_no"], data["card_sn"], data["psn_cert_type"]) == ("null", "NULL", "01")


def test_an_input_sent_as_a_json_string_is_masked_inside():
    envelope = _envelope()
    envelope["input"] = json.dumps(envelope["input"], ensure_ascii=False)
    inner = json.loads(mask_payload(envelope)["input"])
    assert inner["data"]["certno"] == mask_certno(CERTNO) and inner["data"]["psn_name"] == "欧***"
    assert mask_payload({"note": "{not json " + CERTNO}) == {"note": "{not json " + mask_certno(CERTNO)}


def _logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(IdNumberLogFilter())
    logger = logging.getLogger(name)
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_the_log_filter_masks_messages_and_their_arguments():
    logger, stream = _logger("yibao.test.masking.args")
    logger.info("settled certno=%s for %s", CERTNO, {"certno": CERTNO_X})
    logging.getLogger("yibao.test.masking.args.child").info("child %s", CERTNO)
    out = stream.getvalue()
    assert CERTNO not in out and CERTNO_X not in out
    assert f"settled certno={mask_certno(CERTNO)}" in out and f"child {mask_certno(CERTNO)}" in out


def test_the_log_filter_masks_tracebacks():
    logger, stream = _logger("yibao.test.masking.exc")
    try:
        raise ValueError(f"persons.csv line 3: certno: {CERTNO} is enrolled twice")
    except ValueError:
        logger.exception("load failed")
    out = stream.getvalue()
    assert "Traceback" in out and CERTNO not in out and mask_certno(CERTNO) in out


def test_the_log_filter_keeps_a_record_whose_arguments_do_not_fit():
    logger, stream = _logger("yibao.test.masking.bad")
    logger.info("two %s %s", CERTNO)
    out = stream.getvalue()
    assert "two %s %s" in out and mask_certno(CERTNO) in out and CERTNO not in out
