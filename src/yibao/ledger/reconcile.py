"""对明细账 (3202): an institution's file of settlements against the ledger's rows, to the fen.

The institution's file (uploaded by 9101; plain UTF-8 text, or a zip holding one) has one settlement
per line, tab-separated: ``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay,
refd_setl_flag`` (amounts in yuan; refd_setl_flag 1 for a reversal row). The answer lists every
difference, one per line: ``setl_id, result, what``, where result is 1 中心有机构无, 2 机构有中心无 or
3 金额不符; a first line gives the counts.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal, InvalidOperation
from typing import Any

from yibao.ledger.service import LedgerError
from yibao.money import format_yuan

COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "refd_setl_flag")
AMOUNTS = {"medfee_sumamt": "medfee_sumamt_fen", "fund_pay_sumamt": "fund_pay_sumamt_fen", "acct_pay": "acct_pay_fen"}


def _text(content: bytes) -> str:
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                content = z.read(z.namelist()[0])
        except (zipfile.BadZipFile, IndexError):
            raise LedgerError("file_qury_no", "对账文件不是有效的zip文件") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LedgerError("file_qury_no", "对账文件应为UTF-8文本") from None


def _fen(text: str, where: str) -> int:
    try:
        value = Decimal(text.strip()) * 100
    except InvalidOperation:
        raise LedgerError("file_qury_no", f"对账文件{where}金额 {text!r} 不是数字") from None
    if value != value.to_integral_value():
        raise LedgerError("file_qury_no", f"对账文件{where}金额 {text!r} 有分以下的小数")
    return int(value)


def parse_details(content: bytes) -> dict[str, dict[str, Any]]:
    """The institution's rows by setl_id, amounts in fen."""
    out: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(_text(content).splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(COLUMNS):
            raise LedgerError("file_qury_no", f"对账文件第{n}行应有{len(COLUMNS)}列（{','.join(COLUMNS)}），实有{len(cells)}列")
        row = dict(zip(COLUMNS, (c.strip() for c in cells)))
        for k in AMOUNTS:
            row[k] = _fen(row[k], f"第{n}行{k}")
        if row["setl_id"] in out:
            raise LedgerError("file_qury_no", f"对账文件第{n}行结算ID {row['setl_id']} 重复")
        out[row["setl_id"]] = row
    return out


def compare_details(content: bytes, rows: list[dict[str, Any]]) -> str:
    """The difference report (see the module docstring)."""
    theirs = parse_details(content)
    ours = {r["setl_id"]: r for r in rows}
    lines = []
    for setl_id, r in ours.items():
        t = theirs.get(setl_id)
        if t is None:
            lines.append(f"{setl_id}\t1\t中心有机构无")
            continue
        bad = [f"{k} 机构{format_yuan(t[k])} 中心{format_yuan(r[col])}" for k, col in AMOUNTS.items() if t[k] != r[col]]
        if bad:
            lines.append(f"{setl_id}\t3\t{'；'.join(bad)}")
    lines += [f"{setl_id}\t2\t机构有中心无" for setl_id in theirs if setl_id not in ours]
    head = f"中心{len(ours)}笔\t机构{len(theirs)}笔\t不符{len(lines)}笔"
    return "\n".join([head, *lines]) + "\n"


__all__ = ["COLUMNS", "compare_details", "parse_details"]
