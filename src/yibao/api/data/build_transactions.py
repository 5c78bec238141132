"""Build ``transactions.json`` and ``dictionaries.tsv`` from the interface spec extract.

    python src/yibao/api/data/build_transactions.py SPEC_FOLDER

SPEC_FOLDER holds ``spec_extract_selected_transactions.md`` and ``dictionaries.tsv`` (the 湖南省医疗保障信息平台
定点医药机构接口规范 V1.1.27 extract; see ``SOURCES.md``). The tables are read as printed; what the extract
gets wrong or lacks is mended here, each mend in one named table below, so the JSON stays reproducible.
The JSON is committed: running the service never needs the spec folder.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

from yibao.api.fields import snake  # the key a field is parsed under is the key it is built with

HERE = Path(__file__).resolve().parent
SERVED = ["9001", "9002", "1101", "2201", "2202", "2203", "2204", "2205", "2206", "2207", "2208", "2301",
          "2302", "2303", "2304", "2305", "2401", "2402", "2404", "2405", "2601", "3101", "3102", "3201",
          "3202", "9101", "9102", "4101"]
ALIASES = {"4101": ["4101A"]}  # 4101A: the 结算清单 upload under its provincial number

# Sections sent as JSON arrays (the spec's 多行数据); every other section is one object.
LIST_SECTIONS = {
    ("1101", "output", "insuinfo"), ("1101", "output", "idetinfo"),
    ("2203", "input", "diseinfo"), ("2204", "input", "feedetail"), ("2204", "output", "result"),
    ("2206", "output", "setldetail"), ("2207", "output", "setldetail"), ("2208", "output", "setldetail"),
    ("2301", "input", "feedetail"), ("2301", "output", "result"), ("2302", "input", "data"),
    ("2303", "output", "setldetail"), ("2304", "output", "setldetail"), ("2305", "output", "setldetail"),
    ("2401", "input", "diseinfo"), ("2402", "input", "diseinfo"),
    ("3101", "output", "result"), ("3102", "output", "result"),
    *(("4101", "input", node) for node in ("opspdiseinfo", "diseinfo", "oprninfo", "icuinfo", "payinfo",
                                           "iteminfo", "bldinfo")),
}
# List sections a message may leave out (the 结算清单's optional parts).
OPTIONAL_SECTIONS = {("4101", "input", node) for node in ("opspdiseinfo", "oprninfo", "icuinfo", "payinfo",
                                                         "iteminfo", "bldinfo")}
# Node names the extract prints wrongly: 9002's output table is captioned with its field's name.
NODE_FIXES = {("9002", "output", "sign_time"): "signoutoutb"}
# Titles the extract copies from another table (both sign tables are captioned 住院医嘱上传).
TITLE_FIXES = {("9001", "output", "signinoutb"): "签到信息", ("9002", "output", "signoutoutb"): "签退信息"}
# Fields whose dictionary has another name (from the spec's 说明 "参考字典表…" / "参照…（dept）").
DICT_ALIASES = {
    "caty": "dept", "dscg_caty": "dept", "adm_caty": "dept", "hilist_type": "list_type",
    "chrg_type": "med_chrgitm_type", "drord_bhvr": "drord_type", "medins_lv": "hosp_lv",
    "maindise_flag": "maindiag_flag", "scs_cutd_ward_type": "icu_type", "anst_way": "anst_mtd_code",
    "bld_cat": "bld_cat_code", "inout_dise_type": "inout_diag_type", "cert_type": "psn_cert_type",
}
# Free-text or multi-valued fields that the spec flags as coded but whose values no dictionary holds.
NO_DICT = {"refldept_dept"}  # several 科室 joined by "→"
# Values the Hunan dictionary lacks: opter_type 2 and 3 (表2 备注: 1-经办人；2-自助终端；3-移动终端), med_type
# 12 (2206/2207 重点说明: 仅门诊挂号结算时，医疗类别传入“12 门诊挂号”) and 21 (住院, the national baseline's
# parent of 2101…, which national clients send).
EXTRA_VALUES = [("opter_type", "经办人类别", "2", "自助终端"), ("opter_type", "经办人类别", "3", "移动终端"),
                ("med_type", "医疗类别", "12", "门诊挂号"), ("med_type", "医疗类别", "21", "住院")]
# Amount fields that are negative on a 退单 line (数量填写负数) or a reconciliation of refunds.
SIGNED = {("feedetail", "cnt"), ("feedetail", "det_item_fee_sumamt")}
SIGNED_TRANSACTIONS = {"3201", "3202"}  # 对账 totals include 退费 settlements
# Required fields the spec's own sample message sends empty (1101: certno "" and psn_name "").
SENT_EMPTY = {("1101", "data", "certno"), ("1101", "data", "psn_name")}

# msgid is 机构编号(12)+时间(14)+顺序号(4) = 30 in the spec; clients send 20 to 30 (the spec's sample: 29).
MIN_LENGTHS = {"msgid": 20}
# 交易编号 字符型 4, but provincial numbers such as 4101A have five; 人员身份类别 字符型 3, but the
# dictionary's own codes have four digits (2303 低保救助对象) and the local extensions six (230801)
LENGTH_FIXES = {"infno": 5, "psn_idet_type": 6}

BASELINE = "国家医疗保障信息平台定点医药机构接口规范（XJ-K01-2020 基线）"
REVOKE_STAY = [("mdtrt_id", "就诊ID", "字符型", "30", "", "Y"), ("psn_no", "人员编号", "字符型", "30", "", "Y"),
               ("exp_content", "字段扩展", "字符型", "4000", "", "")]  # 2404 and 2405 take one record alike
HAND_WRITTEN = {  # infno: name, and per direction [(node, rows)]
    "2404": {"name": "入院办理撤销", "input": [("data", REVOKE_STAY)], "output": []},
    "2405": {"name": "出院办理撤销", "input": [("data", REVOKE_STAY)], "output": []},
    "2601": {"name": "冲正交易", "input": [("data", [
        ("psn_no", "人员编号", "字符型", "30", "", "Y"), ("omsgid", "原发送方报文ID", "字符型", "30", "", "Y"),
        ("oinfno", "原交易编号", "字符型", "5", "", "Y")])], "output": []},
}
# Parts of 4101 the extract cuts short: 表207 prints only the operation columns, 表211 (iteminfo) is absent.
HAND_FIELDS = {
    ("4101", "input", "opspdiseinfo"): [("diag_name", "诊断名称", "字符型", "500", "", ""),
                                         ("diag_code", "诊断代码", "字符型", "30", "", "")],
    ("4101", "input", "iteminfo"): [
        ("med_chrgitm_type", "医疗收费项目类别", "字符型", "6", "Y", "Y"), ("amt", "金额", "数值型", "16,2", "", "Y"),
        ("claa_sumfee", "甲类费用合计", "数值型", "16,2", "", ""), ("clab_amt", "乙类金额", "数值型", "16,2", "", ""),
        ("fulamt_ownpay_amt", "全自费金额", "数值型", "16,2", "", ""), ("oth_amt", "其他金额", "数值型", "16,2", "", "")],
}

HAND_TITLES = {"iteminfo": "收费项目信息"}
COLLECTION = re.compile(r"集合|Map<")
HEADING = re.compile(r"^\[7\] 【(\w+)】(.+)$")
UNNAMED = re.compile(r"^(\[\d+\] )?表\s*\d+")
CAPTION = re.compile(r"表\s*\d+\s*(.*?)[（(]\s*节点标识[：:]?\s*([A-Za-z_#]+|无节点)")


def read_spec(text: str) -> dict[str, dict]:
    """Each transaction's name and its tables in order: ``[(direction, caption node, rows)]``."""
    found: dict[str, dict] = {}
    current = direction = None
    table: list | None = None
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading:
            current = found.setdefault(heading[1], {"name": heading[2].strip(), "tables": []})
            direction, table = None, None
            continue
        if current is None:
            continue
        if line.startswith("[8] 输入"):
            direction = "input"
        elif line.startswith("[8] 输出"):
            direction = "output"
        caption = CAPTION.search(line)
        if caption and not line.startswith("|"):
            table = []
            current["tables"].append((direction, caption[2], _title(caption[1], direction), table))
        elif not line.startswith("|") and ("extend_order_map" in line or UNNAMED.match(line)):
            table = None  # the keys of a Map field, or a file layout: not a message section
        elif line.startswith("|") and table is not None:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 7 and cells[1] not in ("参数代码", "数据元标识"):
                table.append(cells[1:8] if len(cells) >= 8 else [*cells[1:], ""])
    return found


def _title(caption: str, direction: str | None) -> str:
    """A section's Chinese title from its caption: ``输入-费用明细列表`` → ``费用明细列表``."""
    title = re.sub(r"^(输入|输出)[-－]?", "", caption.strip())
    return title or ("交易输入" if direction == "input" else "交易输出")


def field(row, infno: str, node: str, dictionaries: set[str], nested: dict[str, list]) -> dict:
    code, name, spec_type, length, coded, required, *rest = row
    remark = rest[0] if rest else ""
    key = snake(code)
    entry = {"code": code, "key": key, "name": name, "spec_type": spec_type}
    size = length.replace("，", ",")
    if COLLECTION.search(spec_type):
        entry["type"] = "map" if spec_type.startswith("Map") else "list"
        if key in nested:
            entry["fields"] = nested[key]
        elif entry["type"] == "list":
            entry["item"] = "string"
    elif spec_type == "字节数组":
        entry["type"] = "bytes"
    elif spec_type in ("数值型",) or "," in size:
        whole, _, places = size.partition(",")
        entry["type"] = "amount" if size == "16,2" else ("decimal" if places or not whole else "integer")
        if whole:
            entry["length"] = int(whole)
        if places:
            entry["precision"] = int(places)
    elif spec_type == "日期时间型" or (spec_type == "日期型" and "HH:mm:ss" in remark):
        entry["type"] = "datetime"
    elif spec_type == "日期型":
        entry["type"] = "date"
    else:
        entry["type"] = "text" if key == "exp_content" else "string"
        if size.isdigit():
            entry["length"] = LENGTH_FIXES.get(key, int(size))
    entry["required"] = required in ("Y", "是") and (infno, node, key) not in SENT_EMPTY
    dictionary = None if key in NO_DICT else DICT_ALIASES.get(key, key)
    if entry["type"] == "string" and dictionary in dictionaries and (coded == "Y" or "字典" in remark
                                                                     or dictionary == key):
        entry["dict"] = dictionary
    if entry["type"] in ("amount", "decimal") and ((node, key) in SIGNED or infno in SIGNED_TRANSACTIONS):
        entry["signed"] = True
    return entry


def sections(infno: str, tables, dictionaries: set[str]) -> dict[str, list]:
    """Root sections by direction; a table whose node is a collection field of another nests inside it."""
    result: dict[str, list] = {"input": [], "output": []}
    for direction in ("input", "output"):
        own = [(NODE_FIXES.get((infno, direction, node), node), title, rows)
               for d, node, title, rows in tables if d == direction]
        own = [(node, TITLE_FIXES.get((infno, direction, node), title), rows) for node, title, rows in own]
        collections = {snake(r[0]) for _, _, rows in own for r in rows if COLLECTION.search(r[2])}
        nested: dict[str, list] = {}
        for node, title, rows in reversed(own):  # children are printed after their parents
            key = snake(node)
            fields = _dedupe([field(r, infno, key, dictionaries, nested) for r in rows])
            fields += [_hand(r, infno, key, dictionaries) for r in HAND_FIELDS.get((infno, direction, node), [])]
            if key in collections:
                nested[key] = fields
            else:
                result[direction].insert(0, _section(infno, direction, node, title, fields))
        for (t, d, node), rows in HAND_FIELDS.items():
            if t == infno and d == direction and all(s["node"] != node for s in result[direction]):
                result[direction].append(_section(infno, direction, node, HAND_TITLES[node],
                                                  [_hand(r, infno, node, dictionaries) for r in rows]))
    return result


def _hand(row, infno, node, dictionaries) -> dict:
    entry = field([*row, ""], infno, node, dictionaries, {})
    entry["source"] = BASELINE
    return entry


def _section(infno: str, direction: str, node: str, title: str, fields: list) -> dict:
    kind = "list" if (infno, direction, node) in LIST_SECTIONS else "object"
    return {"node": "" if node == "无节点" else node, "name": title, "kind": kind,
            "required": (infno, direction, node) not in OPTIONAL_SECTIONS, "fields": fields}


def _dedupe(fields: list[dict]) -> list[dict]:
    """The extract prints a few fields twice in one table (2304 hosp_part_amt): keep the first."""
    seen: set[str] = set()
    return [f for f in fields if not (f["key"] in seen or seen.add(f["key"]))]


def read_dictionaries(path: Path) -> list[tuple[str, str, str, str]]:
    """Rows of the dictionary TSV, with the extract's joined cells split (``A32.01 X`` + ``线诊断专业``)."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for code, name, value, label in list(csv.reader(f, delimiter="\t"))[1:]:
            head = re.match(r"([A-Za-z0-9.]+)\s*(.*)", value)
            if head and head[2]:
                value, label = head[1], label if label.startswith(head[2]) else head[2] + label
            rows.append((code, name, value, label))
    return rows


def _used(fields: list[dict]) -> set[str]:
    used = {f["dict"] for f in fields if "dict" in f}
    for f in fields:
        used |= _used(f.get("fields", []))
    return used


def build(spec: Path) -> tuple[dict, list]:
    dictionary_rows = read_dictionaries(spec / "dictionaries.tsv") + EXTRA_VALUES
    names = {row[0] for row in dictionary_rows}
    printed = read_spec((spec / "spec_extract_selected_transactions.md").read_text(encoding="utf-8"))
    envelope_rows = _envelope_rows((spec / "spec_extract_selected_transactions.md").read_text(encoding="utf-8"))
    transactions = {}
    for infno in SERVED:
        if infno in HAND_WRITTEN:
            hand = HAND_WRITTEN[infno]
            parts = {d: [_section(infno, d, node, "交易输入", [_hand(r, infno, node, names) for r in rows])
                         for node, rows in hand[d]] for d in ("input", "output")}
            transactions[infno] = {"name": hand["name"], "source": BASELINE, "hand_written": True, **parts}
            continue
        parts = sections(infno, printed[infno]["tables"], names)
        transactions[infno] = {"name": printed[infno]["name"], "source": "湖南省 V1.1.27", **parts}
        if infno in ALIASES:
            transactions[infno]["aliases"] = ALIASES[infno]
    envelope = [field(r, "envelope", "", names, {}) for r in envelope_rows if r[0] != "input"]
    for entry in envelope:
        if entry["key"] in MIN_LENGTHS:
            entry["min_length"] = MIN_LENGTHS[entry["key"]]
    used = _used(envelope) | {d for t in transactions.values() for s in t["input"] + t["output"]
                              for d in _used(s["fields"])}
    document = {
        "spec": "湖南省医疗保障信息平台定点医药机构接口规范 V1.1.27 (2024-10-14), built on " + BASELINE,
        "built_by": "src/yibao/api/data/build_transactions.py", "envelope": envelope, "transactions": transactions,
    }
    return document, [row for row in dictionary_rows if row[0] in used]


def _envelope_rows(text: str) -> list:
    block = text.split("表 2 交易输入参数定义", 1)[1].split("[5]", 1)[0]
    rows = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[1] != "数据元标识":
            code, name, spec_type, length, coded, required, remark = cells[1:8]
            rows.append([code, name, spec_type or "字符型", length, coded, required, remark])
    return rows


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    spec = Path(argv[0])
    document, dictionary_rows = build(spec)
    (HERE / "transactions.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with (HERE / "dictionaries.tsv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["dict_code", "dict_name", "value", "label"])
        writer.writerows(sorted(set(dictionary_rows)))
    counts = {infno: sum(len(s["fields"]) for s in t["input"] + t["output"]) for infno, t in document["transactions"].items()}
    print(f"{len(counts)} transactions, {sum(counts.values())} fields; {len(dictionary_rows)} dictionary values")


if __name__ == "__main__":
    main(sys.argv[1:])
