"""The ledger's transactions of the national interface: outpatient 2201–2208, inpatient 2401–2405 and
2301–2305, 冲正 2601, reconciliation 3201 / 3202 and the 结算清单 4101 / 4101A.

Each handler reads its parsed input (amounts in fen), calls :mod:`yibao.ledger.service` inside the
message's transaction and returns output values for the field layer to render.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from yibao import vocab
from yibao.api.table import Call, transaction
from yibao.ledger import repository as repo
from yibao.ledger import service
from yibao.ledger.service import LedgerError
from yibao.money import format_yuan
from yibao.settlement.model import Statement

DAY = dt.timedelta(days=1)


def _diagnoses(rows: list[dict[str, Any]], main: str | None = None, code: str = "diag_code") -> tuple[str, ...]:
    """Diagnosis codes, the principal (maindiag_flag 1, or the lowest diag_srt_no) first."""
    ordered = sorted(rows or [], key=lambda r: (str(r.get("maindiag_flag") or "0") != "1",
                                                int(r.get("diag_srt_no") or 0)))
    codes = [r[code] for r in ordered if r.get(code)]
    if main and main not in codes:
        codes.insert(0, main)
    return tuple(dict.fromkeys(codes))


def _person_fields(enc: dict[str, Any], when: dt.date) -> dict[str, Any]:
    p = json.loads(enc["insured"])
    born = dt.date.fromisoformat(p["birth_date"])
    age = when.year - born.year - ((when.month, when.day) < (born.month, born.day))
    return {"psn_no": p["psn_no"], "psn_name": p["name"], "psn_cert_type": "01", "certno": p["certno"],
            "gend": p["sex"], "naty": "1", "brdy": born, "age": age, "insutype": p["insutype"],
            "psn_type": p["psn_type"], "cvlserv_flag": "1" if p["civil_servant"] else "0"}


def _setl_output(call: Call, enc: dict[str, Any], setl_id: str | None, setlinfo: dict[str, int],
                 setldetail: list[dict[str, Any]], setl_time: dt.datetime, clr_type: str) -> dict:
    info = {**_person_fields(enc, enc["begntime"].date()), **setlinfo, "mdtrt_id": enc["mdtrt_id"], "setl_id": setl_id,
            "setl_time": setl_time, "med_type": enc["med_type"], "mdtrt_cert_type": "02",
            "clr_optins": call.inst["admdvs"][:4] + "00", "clr_way": "1", "clr_type": clr_type,
            "pool_prop_selfpay": Decimal(setlinfo.get("pool_prop_selfpay", 0)) / 1_000_000,
            "medins_setl_id": call.msgid, "pdn_cash_pay": setlinfo.get("psn_cash_pay", 0),
            "hifdm_pay": 0}  # 伤残人员医疗保障基金: not a fund of this region
    return {"setlinfo": info, "setldetail": setldetail}


def _detail(statement: Statement) -> list[dict[str, Any]]:
    return [{"fund_pay_type": d.fund_pay_type, "inscp_scp_amt": d.inscp_scp_amt, "crt_payb_lmt_amt": d.crt_payb_lmt_amt,
             "fund_payamt": d.fund_payamt, "fund_pay_type_name": d.fund_pay_type_name,
             "setl_proc_info": d.setl_proc_info[:500]} for d in statement.setldetail]


# -- registration -------------------------------------------------------------------------------------


@transaction("2201")
def outpatient_register(call: Call) -> dict:
    d = call.input["data"]
    enc = service.register(call.conn, call.inst, psn_no=d["psn_no"], insutype=d["insutype"], kind="outpatient",
                           begntime=d["begntime"], ipt_otp_no=d["ipt_otp_no"], msgid=call.msgid)
    return {"data": {"mdtrt_id": enc["mdtrt_id"], "psn_no": enc["psn_no"], "ipt_otp_no": enc["ipt_otp_no"]}}


@transaction("2202")
def outpatient_cancel(call: Call) -> dict:
    d = call.input["data"]
    enc = service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], "outpatient")
    service.cancel(call.conn, enc)
    return {}


@transaction("2203")
def outpatient_describe(call: Call) -> dict:
    m = call.input["mdtrtinfo"]
    enc = service.own_encounter(call.conn, call.inst, m["mdtrt_id"], m["psn_no"], "outpatient")
    dx = _diagnoses(call.input.get("diseinfo") or [], m.get("dise_codg"))
    chronic = m.get("dise_codg") if m["med_type"] in (vocab.MED_CHRONIC, vocab.MED_TWO_DISEASES) else None
    service.describe(call.conn, enc, med_type=m["med_type"], diagnoses=dx, chronic_disease=chronic)
    return {}


@transaction("2401")
def admit(call: Call) -> dict:
    m = call.input["mdtrtinfo"]
    dx = _diagnoses(call.input.get("diseinfo") or [], m.get("dise_codg"))
    enc = service.register(call.conn, call.inst, psn_no=m["psn_no"], insutype=m["insutype"], kind="inpatient",
                           begntime=m["begntime"], ipt_otp_no=m["ipt_no"], msgid=call.msgid, med_type=m["med_type"],
                           diagnoses=dx)
    return {"result": {"mdtrt_id": enc["mdtrt_id"]}}


@transaction("2402")
def discharge(call: Call) -> dict:
    d = call.input["dscginfo"]
    enc = service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], "inpatient")
    dx = _diagnoses(call.input.get("diseinfo") or [], d.get("dise_codg"))
    service.discharge(call.conn, enc, d["endtime"], dx)
    return {}


@transaction("2404")
def admit_cancel(call: Call) -> dict:
    d = call.input["data"]
    service.cancel(call.conn, service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], "inpatient"))
    return {}


@transaction("2405")
def discharge_cancel(call: Call) -> dict:
    d = call.input["data"]
    service.undo_discharge(call.conn, service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], "inpatient"))
    return {}


# -- fee lines ----------------------------------------------------------------------------------------


def _upload(call: Call, kind: str) -> dict:
    rows = call.input["feedetail"]
    ids = {r["mdtrt_id"] for r in rows}
    if len(ids) != 1:
        raise LedgerError("mdtrt_id", "一次上传的费用明细应属于同一就诊ID")
    people = {r["psn_no"] for r in rows}
    enc = service.own_encounter(call.conn, call.inst, ids.pop(), people.pop() if len(people) == 1 else None, kind)
    if people:
        raise LedgerError("psn_no", "一次上传的费用明细应属于同一人员")
    lines = [{**r, "amount_fen": r["det_item_fee_sumamt"]} for r in rows]
    return {"result": service.upload(call.conn, call.region, call.inst, enc, lines, call.msgid)}


@transaction("2204")
def outpatient_upload(call: Call) -> dict:
    return _upload(call, "outpatient")


@transaction("2301")
def inpatient_upload(call: Call) -> dict:
    return _upload(call, "inpatient")


@transaction("2205")
def outpatient_withdraw(call: Call) -> dict:
    d = call.input["data"]
    enc = service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], "outpatient")
    service.withdraw(call.conn, enc, batch=d["chrg_bchno"])
    return {}


@transaction("2302")
def inpatient_withdraw(call: Call) -> dict:
    for d in call.input["data"]:
        enc = service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], "inpatient")
        service.withdraw(call.conn, enc, feedetl_sn=d["feedetl_sn"])
    return {}


# -- settlement ---------------------------------------------------------------------------------------


def _settle(call: Call, kind: str, final: bool) -> dict:
    d = call.input["data"]
    enc = service.own_encounter(call.conn, call.inst, d["mdtrt_id"], d["psn_no"], kind, with_lines=True)
    if d.get("insutype") and d["insutype"] != enc["insutype"]:
        raise LedgerError("insutype", f"险种类型 {d['insutype']} 与就诊登记的 {enc['insutype']} 不符")
    if kind == "outpatient" and d.get("med_type") and d["med_type"] != enc["med_type"]:
        service.describe(call.conn, enc, med_type=d["med_type"])
        enc = repo.encounter(call.conn, enc["mdtrt_id"])
    mid = str(d.get("mid_setl_flag") or "0") == "1"
    acct = str(d.get("acct_used_flag") or "0") != "0"
    clr = service.clr_type_of(kind, enc["med_type"], call.inst["kind"])
    if not final:
        st, *_ = service.price(call.conn, call.region, call.inst, enc, medfee_sumamt=d["medfee_sumamt"],
                               acct_used=acct, mid=mid)
        return _setl_output(call, enc, None, st.setlinfo, _detail(st), call.now, clr)
    setl_id, st = service.settle(call.conn, call.region, call.inst, enc, medfee_sumamt=d["medfee_sumamt"],
                                 msgid=call.msgid, now=call.now, acct_used=acct, mid=mid)
    return _setl_output(call, enc, setl_id, st.setlinfo, _detail(st), call.now, clr)


@transaction("2206")
def outpatient_presettle(call: Call) -> dict:
    return _settle(call, "outpatient", final=False)


@transaction("2207")
def outpatient_settle(call: Call) -> dict:
    return _settle(call, "outpatient", final=True)


@transaction("2303")
def inpatient_presettle(call: Call) -> dict:
    return _settle(call, "inpatient", final=False)


@transaction("2304")
def inpatient_settle(call: Call) -> dict:
    return _settle(call, "inpatient", final=True)


def _reverse(call: Call, setl_id: str, mdtrt_id: str | None, psn_no: str | None) -> dict:
    rev_id, stored = service.reverse(call.conn, call.inst, setl_id, msgid=call.msgid, now=call.now,
                                     mdtrt_id=mdtrt_id, psn_no=psn_no)
    row = repo.settlement(call.conn, rev_id)
    enc = repo.encounter(call.conn, row["mdtrt_id"])
    return _setl_output(call, enc, rev_id, stored["setlinfo"], stored["setldetail"], call.now, row["clr_type"])


@transaction("2208", "2305")
def settle_cancel(call: Call) -> dict:
    d = call.input["data"]
    return _reverse(call, d["setl_id"], d["mdtrt_id"], d["psn_no"])


# -- 冲正 -----------------------------------------------------------------------------------------------

REVERSIBLE = {"2201": "register", "2401": "register", "2204": "lines", "2301": "lines", "2207": "settlement",
              "2304": "settlement"}


@transaction("2601")
def undo_message(call: Call) -> dict:
    """冲正: take back the effect of an earlier message (a client that timed out does not know whether
    it arrived). A message that never arrived is recorded as reversed, so it is refused if it comes late."""
    d = call.input["data"]
    oinfno, omsgid = d["oinfno"], d["omsgid"]
    if oinfno not in REVERSIBLE:
        raise LedgerError("oinfno", f"交易 {oinfno} 不能冲正（可冲正：{', '.join(sorted(REVERSIBLE))}）")
    original = repo.message(call.conn, omsgid)
    if original is None:
        repo.add_message(call.conn, {"msgid": omsgid, "infno": oinfno, "fixmedins_code": call.inst["fixmedins_code"],
                                     "body_digest": "reversed-before-arrival", "response": "{}",
                                     "received_at": call.now, "reversed_by": call.msgid})
        return {}
    if original["fixmedins_code"] != call.inst["fixmedins_code"]:
        raise LedgerError("omsgid", f"原报文 {omsgid} 不属于本机构")
    if original["infno"] != oinfno:
        raise LedgerError("oinfno", f"原报文 {omsgid} 的交易编号是 {original['infno']}，不是 {oinfno}")
    if original["reversed_by"]:
        raise LedgerError("omsgid", f"原报文 {omsgid} 已冲正")
    output = json.loads(original["response"]).get("output") or {}  # the answer as the client got it
    what = REVERSIBLE[oinfno]
    if what == "settlement":
        setl_id = output["setlinfo"]["setl_id"]
        _reverse(call, setl_id, None, d.get("psn_no"))
    elif what == "register":
        mdtrt_id = (output.get("data") or output.get("result"))["mdtrt_id"]
        service.cancel(call.conn, service.own_encounter(call.conn, call.inst, mdtrt_id))
    else:
        for mdtrt_id, sn in repo.lines_of_message(call.conn, omsgid):
            service.withdraw(call.conn, service.own_encounter(call.conn, call.inst, mdtrt_id), feedetl_sn=sn)
    repo.mark_message_reversed(call.conn, omsgid, call.msgid)
    return {}


# -- reconciliation -----------------------------------------------------------------------------------


def _period(d: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    begin = dt.datetime.combine(d["stmt_begndate"], dt.time())
    return begin, dt.datetime.combine(d["stmt_enddate"], dt.time()) + DAY


@transaction("3201")
def reconcile_totals(call: Call) -> dict:
    """对总账: the institution's totals against the ledger's, to the fen."""
    d = call.input["data"]
    begin, end = _period(d)
    ours = repo.totals(call.conn, call.inst["fixmedins_code"], begin, end, d.get("insutype"), d.get("clr_type"))
    theirs = {"medfee_sumamt": d["medfee_sumamt"], "fund_pay_sumamt": d["fund_pay_sumamt"], "acct_pay": d["acct_pay"],
              "count": int(d["fixmedins_setl_cnt"])}
    names = {"medfee_sumamt": "医疗费总额", "fund_pay_sumamt": "基金支付总额", "acct_pay": "个人账户支付金额",
             "count": "结算笔数"}
    diffs = [f"{names[k]} 机构 {_shown(k, theirs[k])} 中心 {_shown(k, ours[k])}" for k in names if theirs[k] != ours[k]]
    return {"stmtinfo": {"setl_optins": d.get("setl_optins") or call.inst["admdvs"], "stmt_rslt": "1" if diffs else "0",
                         "stmt_rslt_dscr": "；".join(diffs)[:500] if diffs else "对账平"}}


def _shown(key: str, value: int) -> str:
    return str(value) if key == "count" else format_yuan(value)


@transaction("3202")
def reconcile_details(call: Call) -> dict:
    """对明细账: the institution's file of settlements (uploaded by 9101) against the ledger's rows; the
    answer is a file (download by 9102) listing each difference."""
    from yibao.api.session import read_file, save_file
    from yibao.ledger.reconcile import compare_details

    d = call.input["data"]
    begin, end = _period(d)
    theirs = read_file(call.conn, call.inst, d["file_qury_no"])
    rows = repo.settlement_rows(call.conn, call.inst["fixmedins_code"], begin, end)
    report = compare_details(theirs, rows)
    name = f"stmt_{call.inst['fixmedins_code']}_{d['stmt_begndate']:%Y%m%d}_{d['stmt_enddate']:%Y%m%d}.txt"
    no = save_file(call.conn, call.inst, name, report.encode("utf-8"), call.now)
    return {"fileinfo": {"file_qury_no": no, "filename": name, "dld_endtime": f"{call.now + DAY:%Y-%m-%d %H:%M:%S}"}}


# -- 结算清单 -------------------------------------------------------------------------------------------


@transaction("4101", "4101A")
def settle_list(call: Call) -> dict:
    """医疗保障基金结算清单 upload, kept whole for DRG / DIP grouping; one per settlement."""
    s = call.input["setlinfo"]
    row = service.own_settlement(call.conn, call.inst, s["setl_id"])
    if row["mdtrt_id"] != s["mdtrt_id"] or row["psn_no"] != s["psn_no"]:
        raise LedgerError("mdtrt_id", f"就诊ID 或人员编号与结算ID {s['setl_id']} 不符")
    repo.add_settle_list(call.conn, {"setl_id": s["setl_id"], "fixmedins_code": call.inst["fixmedins_code"],
                                     "body": json.dumps(call.input, ensure_ascii=False, default=str),
                                     "uploaded_at": call.now, "msgid": call.msgid})
    # 清单流水号 is 9 characters in the spec: the settlement id's digest names the list
    return {"data": {"setl_list_id": hashlib.sha1(s["setl_id"].encode()).hexdigest()[:9].upper()}}


__all__: list[str] = []  # handlers are reached through yibao.api.table
