"""The field layer of the national interface (定点医药机构接口): JSON a HIS sends ↔ typed Python values.

``parse_input(infno, input)`` reads a transaction's ``input`` against the spec's tables
(``data/transactions.json``): strings stay ``str``; every 16,2 amount becomes integer fen; unit prices
(16,6), quantities (16,4) and ratios become ``Decimal`` at the spec's places; dates ``datetime.date``
and times ``datetime.datetime``. It accepts what production clients send (numbers as strings, ``""`` /
``null`` / absent for an empty optional, ``T`` or a space or no separator in a time, camelCase names)
and refuses everything else with an :class:`InterfaceError` whose Chinese ``err_msg`` names the field.
``render_output(infno, values)`` writes a handler's values back in the spec's shape and order.
Pure: no clock, no I/O beyond reading the packaged spec once.
"""

from __future__ import annotations

import base64
import binascii
import copy
import csv
import json
from json.encoder import encode_basestring as _quoted  # a str as json.dumps(ensure_ascii=False) writes it
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources

from yibao.api.errors import InterfaceError
from yibao.money import MAX_AMOUNT_FEN, format_yuan

MAX_TEXT = 40_000  # 表2: input 字符型 40000, the bound of a text with no length of its own
MAX_ROWS = 10_000  # rows in one list: far above a real upload, low enough to bound one message's work
YEARS = (1900, 2099)  # dates outside are typing mistakes, not medical events
LINE_TOLERANCE = Decimal("0.01")  # a line's 总额 may differ from 单价×数量 by less than one fen (HIS rounding)
ORDERED_PAIRS = (  # (earlier, later) fields of one record
    ("stmt_begndate", "stmt_enddate"), ("setl_begn_date", "setl_end_date"), ("adm_time", "dscg_time"),
    ("adm_date", "dscg_date"), ("scs_cutd_inpool_time", "scs_cutd_exit_time"),
    ("oprn_oprt_begntime", "oprn_oprt_endtime"), ("anst_begntime", "anst_endtime"),
)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)
_DASHED = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # tab, LF and CR pass
_ROW = re.compile(r"(\w+)\[(\d+)\]")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")

_MESSAGES = {
    "input_not_object": "input(交易输入)应为JSON对象，不能是{json_type}",
    "input_bad_json": "input(交易输入)不是有效的JSON：{shown}",
    "unknown_infno": "infno(交易编号)不是本服务受理的交易：{shown}",
    "section_missing": "缺少节点{label}",
    "section_not_object": "{label}应为对象（单行数据），不能是{json_type}",
    "section_not_list": "{label}应为数组（多行数据），不能是{json_type}",
    "section_empty": "{label}不能为空数组",
    "too_many_rows": "{label}共{count}行，超过上限{limit}行",
    "row_not_object": "{label}第{row}行应为对象，不能是{json_type}",
    "missing": "{label}为必填项，未传入",
    "empty": "{label}为必填项，不能为空",
    "duplicate_field": "{label}重复传入（{first}与{second}）",
    "not_a_value": "{label}应为单个值，不能是{json_type}",
    "bool": "{label}不能是布尔值：{shown}",
    "not_text": "{label}应为字符串，不能是{json_type}：{shown}",
    "not_date_text": "{label}应为日期字符串，不能是{json_type}：{shown}",
    "too_long": "{label}超过最大长度{limit}（实际{count}）",
    "too_short": "{label}长度应为{low}至{limit}位（实际{count}）：{shown}",
    "control_char": "{label}含有不允许的控制字符：{shown}",
    "not_in_dict": "{label}不在字典{dict}中：{shown}",
    "not_numeric": "{label}不是数值：{shown}",
    "non_finite": "{label}不是有限数值：{shown}",
    "too_many_digits": "{label}整数部分超过{limit}位：{shown}",
    "sub_fen": "{label}不能有分以下的金额：{shown}",
    "too_many_decimals": "{label}小数位数超过{limit}位：{shown}",
    "not_integer": "{label}应为整数：{shown}",
    "negative": "{label}不能为负数：{shown}",
    "amount_cap": "{label}超过单笔金额上限{limit}元：{shown}",
    "bad_date": "{label}日期格式应为yyyy-MM-dd：{shown}",
    "bad_datetime": "{label}时间格式应为yyyy-MM-dd HH:mm:ss：{shown}",
    "impossible_date": "{label}不是有效的日期：{shown}",
    "year_range": "{label}年份应在{low}至{limit}之间：{shown}",
    "line_amount": "{label}与单价×数量不符：{shown}≠{pric}×{cnt}={product}",
    "duplicate_sn": "{label}在本次上传中重复：{shown}（第{first}行与第{second}行）",
    "date_order": "{label}早于{other}：{shown}<{earlier}",
    "bad_base64": "{label}不是有效的Base64：{shown}",
    "bad_bytes": "{label}应为0至255的字节数组：{shown}",
    "output_missing": "输出缺少非空字段{label}",
    "output_type": "输出{label}应为{expected}：{shown}",
}


class Parsed(dict):
    """A parsed message: the typed sections (a ``dict``), and ``extra_keys``, the paths of the keys the
    spec does not know (``feedetail[3].his_item_id``) — ignored, listed so the service may log them."""

    __slots__ = ("extra_keys",)

    def __init__(self, *args, extra_keys: list[str] | None = None):
        super().__init__(*args)
        self.extra_keys = [] if extra_keys is None else extra_keys


class _Field:
    __slots__ = ("code", "key", "name", "type", "length", "precision", "whole", "quantum", "required", "dict",
                 "dict_code", "signed", "min_length", "fields", "lookup", "template", "required_fields", "pairs",
                 "label", "parse")

    def __init__(self, spec: dict, dictionaries: dict[str, frozenset]):
        self.code, self.key, self.name, self.type = spec["code"], spec["key"], spec["name"], spec["type"]
        self.label = f"{self.code}({self.name})"
        self.length = spec.get("length")
        self.precision = spec.get("precision", 0)
        self.whole = self.length - self.precision if self.length else None
        self.quantum = Decimal(1).scaleb(-self.precision) if "precision" in spec else None
        self.required = spec["required"]
        self.dict_code = spec.get("dict")
        self.dict = dictionaries.get(self.dict_code) if self.dict_code else None
        self.signed = spec.get("signed", False)
        self.min_length = spec.get("min_length")
        self.fields = tuple(_Field(f, dictionaries) for f in spec.get("fields", ()))
        _index(self, self.fields)
        self.parse = _string_list if self.type == "list" and not self.fields else _PARSERS.get(self.type)


class _Section:
    __slots__ = ("node", "name", "kind", "required", "fields", "lookup", "template", "required_fields", "pairs",
                 "label", "is_feedetail")

    def __init__(self, spec: dict, dictionaries: dict[str, frozenset]):
        self.node, self.name, self.kind, self.required = spec["node"], spec["name"], spec["kind"], spec["required"]
        self.label = f"{self.node}({self.name})"
        self.fields = tuple(_Field(f, dictionaries) for f in spec["fields"])
        _index(self, self.fields)
        self.is_feedetail = {"det_item_fee_sumamt", "pric", "cnt", "feedetl_sn"} <= set(self.template)


class _Transaction:
    __slots__ = ("infno", "name", "input", "output", "spec")

    def __init__(self, infno: str, spec: dict, dictionaries: dict[str, frozenset]):
        self.infno, self.name, self.spec = infno, spec["name"], spec
        self.input = tuple(_Section(s, dictionaries) for s in spec["input"])
        self.output = tuple(_Section(s, dictionaries) for s in spec["output"])


def _index(owner, fields) -> None:
    """Look-ups a record parser needs: every spelling of a field, the empty record, the required fields."""
    owner.lookup = {}
    for f in fields:
        for spelling in (f.key, f.code, f.code.lower()):
            owner.lookup.setdefault(spelling, f)
    owner.template = dict.fromkeys(f.key for f in fields)
    owner.required_fields = tuple(f for f in fields if f.required)
    owner.pairs = tuple((owner.lookup[a], owner.lookup[b]) for a, b in ORDERED_PAIRS
                        if a in owner.lookup and b in owner.lookup)


def snake(name: str) -> str:
    """The spec spelling of a key a client wrote in camelCase or capitals: ``medfeeSumamt`` → ``medfee_sumamt``."""
    if not any(c.islower() for c in name):
        return name.lower()
    return _CAMEL.sub(r"_\1", name).lower()


@cache
def _spec() -> tuple[dict[str, _Transaction], _Section, dict]:
    """The packaged tables, read once: transactions by infno (aliases included), the 表2 header, the JSON."""
    data = resources.files("yibao.api") / "data"
    document = json.loads((data / "transactions.json").read_text(encoding="utf-8"))
    values: dict[str, set] = {}
    with (data / "dictionaries.tsv").open(encoding="utf-8", newline="") as f:
        for row in list(csv.reader(f, delimiter="\t"))[1:]:
            values.setdefault(row[0], set()).add(row[2])
    dictionaries = {code: frozenset(v) for code, v in values.items()}
    transactions = {}
    for infno, spec in document["transactions"].items():
        transactions[infno] = _Transaction(infno, spec, dictionaries)
        for alias in spec.get("aliases", ()):
            transactions[alias] = transactions[infno]
    envelope = _Section({"node": "", "name": "报文", "kind": "object", "required": True,
                         "fields": document["envelope"]}, dictionaries)
    return transactions, envelope, document


def _transaction(infno: object) -> _Transaction:
    transactions = _spec()[0]
    found = transactions.get(infno) if isinstance(infno, str) else None
    if found is None:
        raise InterfaceError("infno", _MESSAGES["unknown_infno"].format(shown=_shown(infno)), "unknown_infno")
    return found


def transaction_spec(infno: str) -> dict:
    """The spec entry of a served transaction: name, source, and its input and output sections' fields."""
    return copy.deepcopy(_transaction(infno).spec)


def served_transactions() -> list[str]:
    """Every ``infno`` the field layer reads (4101A is 4101 under its provincial number)."""
    return sorted(_spec()[0])


# --- refusing --------------------------------------------------------------------------------------------


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float, Decimal)):
        return "数值"
    return {dict: "对象", list: "数组", str: "字符串", type(None): "null"}.get(type(value), type(value).__name__)


def _shown(value: object, limit: int = 40) -> str:
    """A value as the message quotes it: the text itself, cut to ``limit`` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        text = f"{'-' if value < 0 else ''}{value.bit_length() * 3 // 10}位以上的整数"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, Decimal):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _where(path: str) -> str:
    """``patient_dtos[0].fsi_encounter_dtos[2]`` → ``patient_dtos第1行fsi_encounter_dtos第3行：``."""
    rows = _ROW.findall(path)
    return "".join(f"{node}第{int(i) + 1}行" for node, i in rows) + "：" if rows else ""


def _fail(kind: str, field: _Field | _Section, path: str, value: object = None, **extra) -> InterfaceError:
    message = _MESSAGES[kind].format(label=field.label, shown=_shown(value), json_type=_json_type(value), **extra)
    code = getattr(field, "code", None) or field.node
    return InterfaceError(code, _where(path) + message, kind)


def _by_type(field: _Field, value: object, path: str, text_kind: str = "not_text") -> InterfaceError:
    """The refusal for a value of the wrong JSON type."""
    if isinstance(value, bool):
        return _fail("bool", field, path, value)
    if isinstance(value, (dict, list)):
        return _fail("not_a_value", field, path, value)
    return _fail(text_kind, field, path, value)


# --- values ---------------------------------------------------------------------------------------------


def _empty_text(text: str) -> bool:
    return not text or (len(text) == 4 and text.lower() == "null")  # clients write "null" / "NULL" for empty


def _int_digits(value: int) -> int:
    return len(str(abs(value))) if value.bit_length() <= 13000 else value.bit_length()  # str() stops at 4300 digits


def _string(f: _Field, value: object, path: str, coded: bool = True) -> str | None:
    """Text, stripped; a code must be in its dictionary (``coded``: output leaves codes to the engines)."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        if not text or (len(text) == 4 and text.lower() == "null"):  # _empty_text, inline: the hot path
            return None
    elif kind is int:
        if value.bit_length() > 4 * (f.length or MAX_TEXT):  # str() of a huge int is slow, then refused
            raise _fail("too_long", f, path, value, limit=f.length or MAX_TEXT, count=_int_digits(value))
        text = str(value)  # a code sent as a JSON number (insutype 310)
    elif value is None:
        return None
    else:
        raise _by_type(f, value, path)
    if f.dict is not None and coded:
        if text not in f.dict:
            raise _fail("not_in_dict", f, path, text, dict=f.dict_code)
        return text
    if len(text) > (f.length or MAX_TEXT):
        raise _fail("too_long", f, path, text, limit=f.length or MAX_TEXT, count=len(text))
    if f.min_length and len(text) < f.min_length:
        raise _fail("too_short", f, path, text, low=f.min_length, limit=f.length, count=len(text))
    if not text.isprintable() and _CONTROL.search(text):  # isprintable: one C pass for the common text
        raise _fail("control_char", f, path, text.encode("unicode_escape", "replace").decode("ascii"))
    return text


def _text(f: _Field, value: object, path: str) -> str | dict | None:
    """字段扩展 (exp_content): the spec's text, or the JSON object newer clients send."""
    if type(value) is dict:
        return value
    return _string(f, value, path)


def _number(f: _Field, value: object, path: str) -> Decimal | None:
    """A finite decimal within the field's digits, or None for an empty value."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        if _empty_text(text):
            return None
        if _NUMBER.fullmatch(text) is None:
            raise _fail("non_finite" if _NON_FINITE.fullmatch(text) else "not_numeric", f, path, value)
        number = Decimal(text)
    elif kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise _fail("non_finite", f, path, value)
        number = Decimal(repr(value))  # the shortest text of the float: 0.1, not its binary expansion
    elif kind is int:
        if f.whole is not None and _int_digits(value) > f.whole:
            raise _fail("too_many_digits", f, path, value, limit=f.whole)
        return _signed(f, Decimal(value), value, path)
    elif kind is Decimal:  # a service that reads JSON with parse_float=Decimal
        if not value.is_finite():
            raise _fail("non_finite", f, path, value)
        number = value
    elif value is None:
        return None
    else:
        raise _by_type(f, value, path, "not_numeric")
    whole, places = _places(number)
    if f.whole is not None and whole > f.whole:
        raise _fail("too_many_digits", f, path, value, limit=f.whole)
    if places > f.precision:
        kind_name = "sub_fen" if f.type == "amount" else ("not_integer" if f.type == "integer" else "too_many_decimals")
        raise _fail(kind_name, f, path, value, limit=f.precision)
    return _signed(f, number, value, path)


def _places(number: Decimal) -> tuple[int, int]:
    """Integer digits and significant decimal places, read from the digits (no arithmetic on 1e999999)."""
    _, digits, exponent = number.as_tuple()
    if not any(digits):
        return 0, 0
    count = len(digits)
    while exponent < 0 and digits[count - 1] == 0:
        count -= 1
        exponent += 1
    return max(count + exponent, 0), max(-exponent, 0)


def _signed(f: _Field, number: Decimal, value: object, path: str) -> Decimal:
    if number < 0 and not f.signed:
        raise _fail("negative", f, path, value)
    return number


def _amount(f: _Field, value: object, path: str) -> int | None:
    """Yuan with at most two places → integer fen."""
    if type(value) is int and 0 <= value <= MAX_AMOUNT_FEN // 100:
        return value * 100  # the common case, without Decimal
    number = _number(f, value, path)
    if number is None:
        return None
    fen = int(number * 100)
    if abs(fen) > MAX_AMOUNT_FEN:
        raise _fail("amount_cap", f, path, value, limit=MAX_AMOUNT_FEN // 100)
    return fen


def _decimal(f: _Field, value: object, path: str) -> Decimal | None:
    number = _number(f, value, path)
    if number is None or f.quantum is None:
        return number
    return number.quantize(f.quantum) if number else f.quantum * 0  # at the spec's places; -0 becomes 0


def _integer(f: _Field, value: object, path: str) -> int | None:
    number = _number(f, value, path)
    return None if number is None else int(number)


def _moment(f: _Field, value: object, path: str) -> datetime | None:
    kind = type(value)
    if kind is not str:
        if value is None:
            return None
        raise _by_type(f, value, path, "not_date_text")
    text = value.strip()
    if _empty_text(text):
        return None
    match = _DASHED.fullmatch(text) or _COMPACT.fullmatch(text)
    if match is None:
        raise _fail("bad_date" if f.type == "date" else "bad_datetime", f, path, value)
    year, month, day, hour, minute, second, *fraction = match.groups() + (None,) * (7 - len(match.groups()))
    if not YEARS[0] <= int(year) <= YEARS[1]:
        raise _fail("year_range", f, path, value, low=YEARS[0], limit=YEARS[1])
    micro = int(fraction[0].ljust(6, "0")) if fraction[0] else 0
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    except ValueError:
        raise _fail("impossible_date", f, path, value) from None


def _date(f: _Field, value: object, path: str) -> date | None:
    moment = _moment(f, value, path)
    return None if moment is None else moment.date()


def _bytes(f: _Field, value: object, path: str) -> bytes | None:
    """字节数组: Base64 text, or a JSON array of bytes (Java's signed -128..127 too)."""
    if type(value) is list:
        if not all(type(b) is int and -128 <= b <= 255 for b in value):
            raise _fail("bad_bytes", f, path, value)
        return bytes(b & 0xFF for b in value) or None
    if type(value) is not str:
        if value is None:
            return None
        raise _by_type(f, value, path)
    try:
        return base64.b64decode(value.strip(), validate=True) or None
    except (binascii.Error, ValueError):
        raise _fail("bad_base64", f, path, value) from None


def _map(f: _Field, value: object, path: str) -> dict | None:
    """Map<String,String>: an object whose values are single values, kept as text."""
    if value is None or (type(value) is str and _empty_text(value.strip())):
        return None
    if type(value) is not dict:
        raise _fail("section_not_object", f, path, value)
    out = {}
    for key, item in value.items():
        if isinstance(item, (dict, list, bool)):
            raise _by_type(f, item, path)
        out[key] = None if item is None else (repr(item) if type(item) is float else str(item))
    return out


def _string_list(f: _Field, value: object, path: str) -> list | None:
    """A collection of identifiers (rule_ids): each item a single value, kept as text."""
    if value is None:
        return None
    if type(value) is not list:
        raise _fail("section_not_list", f, path, value)
    if len(value) > MAX_ROWS:
        raise _fail("too_many_rows", f, path, count=len(value), limit=MAX_ROWS)
    return [_string(f, item, f"{path}[{i}]") for i, item in enumerate(value)]


def _rows(f: _Field | _Section, value: object, path: str, extras: list[str]) -> list[dict]:
    """The records of a list section or a nested collection (diseinfo, fsi_encounter_dtos)."""
    if type(value) is not list:
        raise _fail("section_not_list", f, path, value)
    if not value and f.required:
        raise _fail("section_empty", f, path)
    if len(value) > MAX_ROWS:
        raise _fail("too_many_rows", f, path, count=len(value), limit=MAX_ROWS)
    out = []
    for i, item in enumerate(value):
        if type(item) is not dict:
            raise _fail("row_not_object", f, path, item, row=i + 1)
        out.append(_record(f, item, f"{path}[{i}]", extras))
    return out


_PARSERS = {  # a collection of records (type list with fields) is read by _record itself
    "string": _string, "text": _text, "amount": _amount, "decimal": _decimal, "integer": _integer,
    "date": _date, "datetime": _moment, "bytes": _bytes, "map": _map,
}


# --- records --------------------------------------------------------------------------------------------


def _record(owner: _Field | _Section, obj: dict, path: str, extras: list[str]) -> dict:
    """One object of a section: each known field typed, unknown keys listed, required ones checked."""
    out = owner.template.copy()
    lookup = owner.lookup
    given: dict[str, str] = {}
    for name, value in obj.items():
        f = lookup.get(name)
        if f is None:
            f = lookup.get(snake(name)) if isinstance(name, str) else None
            if f is None:
                extras.append(f"{path}.{name}" if path else str(name))
                continue
        if f.fields:
            typed = None if value is None else _rows(f, value, f"{path}.{f.code}" if path else f.code, extras)
        else:
            typed = f.parse(f, value, path)
        if f.key in given and typed != out[f.key]:  # two spellings of one field (psn_no, psnNo) that disagree
            raise _fail("duplicate_field", f, path, first=given[f.key], second=name)
        given[f.key] = name
        out[f.key] = typed
    for f in owner.required_fields:
        if out[f.key] is None:
            raise _fail("empty" if f.key in given else "missing", f, path)
    for earlier, later in owner.pairs:
        first, second = out[earlier.key], out[later.key]
        if first is not None and second is not None and second < first:
            raise _fail("date_order", later, path, obj[given[later.key]], other=earlier.label,
                        earlier=obj[given[earlier.key]])
    return out


def _check_lines(section: _Section, lines: list[dict]) -> None:
    """费用明细: each line's 总额 is 单价×数量 to the fen, and no 流水号 twice in one upload."""
    fields = section.lookup
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        path = f"{section.node}[{i}]"
        product = line["pric"] * line["cnt"]  # exact: within 1亿元 it has at most 20 digits (context: 28)
        if abs(Decimal(line["det_item_fee_sumamt"]).scaleb(-2) - product) >= LINE_TOLERANCE:
            raise _fail("line_amount", fields["det_item_fee_sumamt"], path, format_yuan(line["det_item_fee_sumamt"]),
                        pric=line["pric"], cnt=line["cnt"], product=_plain(product))
        serial = line["feedetl_sn"]
        if serial in seen:
            raise _fail("duplicate_sn", fields["feedetl_sn"], "", serial, first=seen[serial] + 1, second=i + 1)
        seen[serial] = i


def _plain(number: Decimal) -> str:
    """A product of bounded factors without its trailing zeros, never in E notation: 2790, 10.5."""
    return format(number.normalize(), "f")


def _section_value(section: _Section, obj: dict) -> tuple[bool, object]:
    if section.node in obj:
        return True, obj[section.node]
    for name, value in obj.items():
        if isinstance(name, str) and snake(name) == snake(section.node):
            return True, value
    return False, None


def parse_input(infno: str, input_obj: object) -> Parsed:
    """A transaction's ``input`` → ``{node: record or [records]}`` of typed values (see the module doc).

    Raises :class:`InterfaceError` for the first problem found; keys the spec does not know are left
    out and listed in the result's ``extra_keys``.
    """
    transaction = _transaction(infno)
    if isinstance(input_obj, str):  # 表2 types input as 字符型: some clients send the JSON as a string
        try:
            input_obj = json.loads(input_obj)
        except ValueError:
            raise InterfaceError("input", _MESSAGES["input_bad_json"].format(shown=_shown(input_obj)),
                                 "input_bad_json") from None
    if type(input_obj) is not dict:
        raise InterfaceError("input", _MESSAGES["input_not_object"].format(json_type=_json_type(input_obj)),
                             "input_not_object")
    extras: list[str] = []
    result = Parsed(extra_keys=extras)
    for section in transaction.input:
        present, value = _section_value(section, input_obj)
        if not present or value is None:
            if section.required:
                raise _fail("section_missing", section, "")
            result[section.node] = [] if section.kind == "list" else None
        elif section.kind == "object":
            if type(value) is not dict:
                raise _fail("section_not_object", section, "", value)
            result[section.node] = _record(section, value, section.node, extras)
        else:
            result[section.node] = _rows(section, value, section.node, extras)
            if section.is_feedetail:
                _check_lines(section, result[section.node])
    known = {snake(s.node) for s in transaction.input}
    extras[:0] = [str(name) for name in input_obj if not (isinstance(name, str) and snake(name) in known)]
    return result


def parse_envelope(message: object) -> Parsed:
    """The 表2 header of a request message, typed (msgid 20–30 characters, inf_time a datetime); ``input``
    is passed through untouched for :func:`parse_input`; unknown header keys are listed in ``extra_keys``."""
    envelope = _spec()[1]
    if type(message) is not dict:
        raise InterfaceError("input", _MESSAGES["input_not_object"].format(json_type=_json_type(message)),
                             "input_not_object")
    extras: list[str] = []
    header = {name: value for name, value in message.items() if name != "input"}
    result = Parsed(_record(envelope, header, "", extras), extra_keys=extras)
    result["input"] = message.get("input")
    return result


# --- output ---------------------------------------------------------------------------------------------

_YUAN = Decimal("0.01")


def render_output(infno: str, values: dict) -> dict:
    """A handler's values (``{node: record or [records]}``, amounts in fen) → the spec's ``output``: only the
    spec's fields, in its order; fen as yuan ``Decimal`` with two places, dates ``yyyy-MM-dd``, times
    ``yyyy-MM-dd HH:mm:ss``; an empty optional number is 0 and an empty optional text "" (表2 重点说明)."""
    transaction = _transaction(infno)
    output: dict = {}
    for section in transaction.output:
        if not section.node:  # 9101: the fields sit at the root of output
            return _render_record(section, values, "")
        value = values.get(section.node)
        if section.kind == "list":
            rows = value or []
            if type(rows) is not list:
                raise _fail("output_type", section, "", rows, expected="数组")
            output[section.node] = [_render_record(section, row, f"{section.node}[{i}]") for i, row in enumerate(rows)]
        elif value is None:
            raise _fail("output_missing", section, "")
        else:
            output[section.node] = _render_record(section, value, section.node)
    return output


def _render_record(owner: _Field | _Section, record: object, path: str) -> dict:
    if type(record) is not dict:
        raise _fail("output_type", owner, path, record, expected="对象")
    out = {}
    for f in owner.fields:
        value = record.get(f.key)
        if value is None and f.code != f.key:
            value = record.get(f.code)
        out[f.code] = _render_value(f, value, path)
    return out


def _render_empty(f: _Field) -> object:
    """An optional field left empty: numbers 0 at their places, collections empty, all else ""."""
    if f.type in ("amount", "decimal", "integer"):
        return f.quantum * 0 if f.quantum is not None else 0
    return {"list": [], "map": {}}.get(f.type, "")


def _render_value(f: _Field, value: object, path: str) -> object:
    if value is None:
        if f.required:
            raise _fail("output_missing", f, path)
        return _render_empty(f)
    kind = f.type
    if kind == "amount":
        if type(value) is not int:
            raise _fail("output_type", f, path, value, expected="整数分")
        if _int_digits(value) > f.length:  # 16,2: at most 14 digits of yuan
            raise _fail("too_many_digits", f, path, value, limit=f.whole)
        return Decimal(value).scaleb(-2).quantize(_YUAN)
    if kind in ("decimal", "integer"):
        return _render_number(f, value, path)
    if kind in ("date", "datetime"):
        return _render_moment(f, value, path)
    if kind == "list":
        if type(value) is not list:
            raise _fail("output_type", f, path, value, expected="数组")
        if not f.fields:
            return [str(item) for item in value]
        return [_render_record(f, row, f"{path}.{f.code}[{i}]") for i, row in enumerate(value)]
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else _string(f, value, path, False)
    if kind == "text" and type(value) is dict:
        return value
    if kind == "map":
        return _map(f, value, path) or {}
    text = _string(f, value, path, False)
    return "" if text is None else text


def _render_number(f: _Field, value: object, path: str) -> Decimal | int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise _fail("output_type", f, path, value, expected="整数" if f.type == "integer" else "Decimal")
    if f.type == "integer":
        if not isinstance(value, int):
            raise _fail("output_type", f, path, value, expected="整数")
        return value
    number = Decimal(value)
    if f.quantum is None:
        return number
    if not number.is_finite() or _places(number)[1] > f.precision:
        raise _fail("too_many_decimals", f, path, value, limit=f.precision)
    if f.whole is not None and _places(number)[0] > f.whole:
        raise _fail("too_many_digits", f, path, value, limit=f.whole)
    return number.quantize(f.quantum)


def _render_moment(f: _Field, value: object, path: str) -> str:
    if isinstance(value, str):
        value = _moment(f, value, path) or ""
        if value == "":
            return ""
    if f.type == "date":
        if isinstance(value, date):
            return (value.date() if isinstance(value, datetime) else value).isoformat()
    elif isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        return f"{value.isoformat()} 00:00:00"
    raise _fail("output_type", f, path, value, expected="日期" if f.type == "date" else "日期时间")


def dumps_output(output: object) -> str:
    """JSON text of a rendered output, amounts written as numbers with their places (``12.30``), which
    ``json.dumps`` cannot do with a ``Decimal``."""
    kind = type(output)
    if kind is str:
        return _quoted(output)
    if kind is Decimal:
        return format(output, "f")
    if kind is int:
        return str(output)
    if isinstance(output, dict):
        return "{" + ",".join(f"{_quoted(str(k))}:{dumps_output(v)}" for k, v in output.items()) + "}"
    if isinstance(output, list):
        return "[" + ",".join(dumps_output(v) for v in output) + "]"
    return json.dumps(output, ensure_ascii=False)
