"""The registry's transaction of the national interface: 1101 人员信息获取."""

from __future__ import annotations

import datetime as dt

from yibao import vocab
from yibao.api.table import Call, transaction
from yibao.errors import NotFoundError
from yibao.ledger import repository as repo
from yibao.ledger.service import LedgerError
from yibao.registry import ecard
from yibao.registry.insured import cover_on, person_row

BY_ID_NUMBER = {"02", "03"}  # 居民身份证 and 社会保障卡 (the card is keyed by the holder's 身份证号)
BY_ECARD = "01"  # 医保电子凭证: the token the person's phone shows


@transaction("1101")
def person_info(call: Call) -> dict:
    d = call.input["data"]
    p = _holder(call, d)
    if d.get("psn_name") and d["psn_name"] != p["name"]:
        raise LedgerError("psn_name", "人员姓名与证件号码不符")
    on = (d.get("begntime") or call.now).date()
    born = p["birth_date"]
    base = {"psn_no": p["psn_no"], "psn_cert_type": "01", "certno": p["certno"], "psn_name": p["name"],
            "gend": p["sex"], "naty": "1", "brdy": born,
            "age": on.year - born.year - ((on.month, on.day) < (born.month, born.day))}
    spells, identities = cover_on(call.conn, p["psn_no"], on)
    employee = any(s["insutype"] == vocab.EMPLOYEE for s in spells)  # only 职工 have a 个人账户 balance
    account = repo.position_or_opening(call.conn, p["psn_no"], on.year).account if employee else 0
    insu = [{"balc": account if s["insutype"] == vocab.EMPLOYEE else 0, "insutype": s["insutype"],
             "psn_type": s["psn_type"], "psn_insu_stas": "1", "psn_insu_date": s["start_date"],
             "paus_insu_date": s["end_date"], "cvlserv_flag": "1" if s["civil_servant"] else "0",
             "insuplc_admdvs": s["admdvs"], "emp_name": s["emp_no"] or ""} for s in spells]
    idet = [{"psn_idet_type": vocab.IDENTITIES[i][1], "psn_type_lv": "", "memo": "",
             "begntime": dt.datetime.combine(on, dt.time()), "endtime": None} for i in identities]
    return {"baseinfo": base, "insuinfo": insu, "idetinfo": idet}


def _holder(call: Call, d: dict) -> dict:
    """The person the 就诊凭证 names: a 电子凭证 token, or a 身份证号 (also the key of a 社保卡)."""
    kind = d["mdtrt_cert_type"]
    if kind == BY_ECARD:
        try:
            return person_row(call.conn, psn_no=ecard.holder(call.conn, d["mdtrt_cert_no"], call.now))
        except ecard.TokenRefused as e:
            raise LedgerError("mdtrt_cert_no", e.reason) from None
    if kind not in BY_ID_NUMBER:
        raise LedgerError("mdtrt_cert_type", f"就诊凭证类型 {kind}：本服务按电子凭证(01)、身份证号(02)或社会保障卡(03)查询")
    certno = d.get("certno") or d["mdtrt_cert_no"]
    try:
        return person_row(call.conn, certno=certno)
    except NotFoundError:
        raise LedgerError("mdtrt_cert_no", f"证件号码 {certno[:6]}****{certno[-4:]} 未参保") from None


__all__: list[str] = []  # the handler is reached through yibao.api.table
