"""Sessions and files of the interface: 签到 9001 / 签退 9002, 文件上传 9101 / 文件下载 9102."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa

from yibao.api.table import Call, transaction
from yibao.ledger.service import LedgerError, new_id
from yibao.store.models import InterfaceFile, SignIn

SIGN, FILES = SignIn.__table__, InterfaceFile.__table__
MAX_FILE = 20 * 1024 * 1024  # one 对明细账 file of a large hospital's month, with room


class FileAnswer(bytes):
    """A transaction whose answer is a file (9102), sent as the body rather than in the envelope."""


@transaction("9001")
def sign_in(call: Call) -> dict:
    d = call.input["signIn"]
    sign_no = new_id("SN", call.now)
    call.conn.execute(sa.insert(SIGN).values(sign_no=sign_no, fixmedins_code=call.inst["fixmedins_code"],
                                             opter_no=d["opter_no"], sign_time=call.now, signout_time=None))
    return {"signinoutb": {"sign_time": call.now, "sign_no": sign_no}}


@transaction("9002")
def sign_out(call: Call) -> dict:
    d = call.input["signOut"]
    row = call.conn.execute(sa.select(SIGN).where(SIGN.c.sign_no == d["sign_no"])).mappings().first()
    if row is None or row["fixmedins_code"] != call.inst["fixmedins_code"]:
        raise LedgerError("sign_no", f"签到流水号 {d['sign_no']} 不存在")
    if row["signout_time"] is not None:
        raise LedgerError("sign_no", f"签到流水号 {d['sign_no']} 已签退")
    call.conn.execute(sa.update(SIGN).where(SIGN.c.sign_no == d["sign_no"]).values(signout_time=call.now))
    return {"signoutoutb": {"sign_time": call.now}}


def save_file(conn: sa.Connection, inst: dict[str, Any], filename: str, content: bytes, now: dt.datetime) -> str:
    no = f"F{now:%Y%m%d%H%M%S}{hashlib.sha256(content).hexdigest()[:4]}{new_id('', now)[-8:]}"  # 27 of the spec's 30
    conn.execute(sa.insert(FILES).values(file_qury_no=no, fixmedins_code=inst["fixmedins_code"], filename=filename,
                                         content=content, created_at=now))
    return no


def read_file(conn: sa.Connection, inst: dict[str, Any], file_qury_no: str) -> bytes:
    row = conn.execute(sa.select(FILES).where(FILES.c.file_qury_no == file_qury_no)).mappings().first()
    if row is None or row["fixmedins_code"] != inst["fixmedins_code"]:
        raise LedgerError("file_qury_no", f"文件查询号 {file_qury_no} 不存在")
    return bytes(row["content"])


def _own_code(call: Call, d: dict[str, Any]) -> None:
    if d["fixmedins_code"] != call.inst["fixmedins_code"]:
        raise LedgerError("fixmedins_code", "文件的定点医药机构编号与报文的不符")


@transaction("9101")
def upload_file(call: Call) -> dict:
    d = call.input["fsUploadIn"]
    _own_code(call, d)
    content = d["in"]
    if len(content) > MAX_FILE:
        raise LedgerError("in", f"文件 {len(content)} 字节，超过上限 {MAX_FILE} 字节")
    no = save_file(call.conn, call.inst, d["filename"], content, call.now)
    return {"file_qury_no": no, "filename": d["filename"], "fixmedins_code": call.inst["fixmedins_code"],
            "dld_endtime": f"{call.now + dt.timedelta(days=1):%Y-%m-%d %H:%M:%S}"}


@transaction("9102")
def download_file(call: Call) -> FileAnswer:
    d = call.input["fsDownloadIn"]
    _own_code(call, d)
    return FileAnswer(read_file(call.conn, call.inst, d["file_qury_no"]))


__all__ = ["FileAnswer", "read_file", "save_file"]
