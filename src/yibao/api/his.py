"""Messages as a HIS writes them: the envelope around a transaction's input, msgids in the spec's
shape (定点医药机构编号 12 + time 14 + sequence 4). Used by the tests, the load benchmark and the demo."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any


class His:
    """One institution's side of the interface: numbered msgids and envelopes for its transactions."""

    def __init__(self, fixmedins_code: str, admdvs: str, name: str = "演示医院", clock=dt.datetime.now,
                 access_key: str | None = None, secret: str | None = None, algorithm: str = "HMAC-SHA1",
                 first_seq: int = 1):
        """``first_seq``: where this till's sequence numbers start, so several tills of one
        institution number their msgids apart."""
        self.code, self.admdvs, self.name, self.clock = fixmedins_code, admdvs, name, clock
        self.access_key, self.secret, self.algorithm = access_key, secret, algorithm
        self.first_seq = first_seq
        self._second, self._n = "", first_seq
        self._lock = threading.Lock()

    def msgid(self) -> str:
        """定点医药机构编号 (12) + time (14) + a sequence number (4) that starts again each second."""
        with self._lock:
            second = f"{self.clock():%Y%m%d%H%M%S}"
            if second != self._second:
                self._second, self._n = second, self.first_seq
            n, self._n = self._n, self._n + 1
        return f"{self.code}{second}{n % 10000:04d}"

    def message(self, infno: str, input_: dict[str, Any], msgid: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"infno": infno, "msgid": msgid or self.msgid(), "mdtrtarea_admvs": self.admdvs,
                "insuplc_admdvs": self.admdvs, "recer_sys_code": "YIBAO", "dev_no": "", "dev_safe_info": "",
                "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1", "opter": "001", "opter_name": "收费员",
                "inf_time": f"{self.clock():%Y-%m-%d %H:%M:%S}", "fixmedins_code": self.code,
                "fixmedins_name": self.name, "sign_no": "", "input": input_, **extra}

    def body(self, infno: str, input_: dict[str, Any], msgid: str | None = None) -> bytes:
        return json.dumps(self.message(infno, input_, msgid), ensure_ascii=False).encode("utf-8")

    def headers(self, body: bytes) -> dict[str, str]:
        """The ``_api_*`` signature headers for ``body`` (none without a credential)."""
        if not self.access_key:
            return {}
        from yibao.api.signing import signed_headers

        return signed_headers(self.access_key, self.secret, body, "callService", "1.0.0",
                              int(self.clock().timestamp() * 1000), self.algorithm)


def fee_line(sn: str, mdtrt_id: str, psn_no: str, code: str, pric: str, cnt: str, when: str, batch: str = "B1") -> dict:
    """A 2204 / 2301 费用明细 row (amount = pric × cnt, as the HIS computes it)."""
    from decimal import Decimal

    amount = (Decimal(pric) * Decimal(cnt)).quantize(Decimal("0.01"))
    return {"feedetl_sn": sn, "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": batch, "rx_circ_flag": "0",
            "fee_ocur_time": when, "med_list_codg": code, "medins_list_codg": code, "det_item_fee_sumamt": str(amount),
            "cnt": cnt, "pric": pric, "bilg_dept_codg": "01", "bilg_dept_name": "内科", "bilg_dr_codg": "D001",
            "bilg_dr_name": "医生", "hosp_appr_flag": "1"}




# -- inputs of the transactions a visit and a stay go through (required fields filled as a HIS does) --

def _who(p: dict[str, Any]) -> dict[str, Any]:
    return {"psn_no": p["psn_no"], "mdtrt_cert_type": "02", "mdtrt_cert_no": p["certno"], "psn_cert_type": "01",
            "certno": p["certno"], "psn_name": p["name"]}


def person_info(certno: str) -> dict:
    return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno, "psn_cert_type": "01", "certno": certno}}


def register(p: dict[str, Any], when: str, ipt_otp_no: str) -> dict:
    """2201 挂号 for person ``p`` (psn_no, certno, name, insutype, psn_type)."""
    return {"data": {**_who(p), "insutype": p["insutype"], "psn_type": p["psn_type"], "begntime": when,
                     "ipt_otp_no": ipt_otp_no, "atddr_no": "D001", "dr_name": "医生", "dept_code": "01",
                     "dept_name": "内科", "caty": "A03"}}


def _diag(dx: str, when: str, **extra: Any) -> dict:
    return {"diag_type": "1", "diag_srt_no": "1", "diag_code": dx, "diag_name": dx, "diag_dept": "内科",
            "dise_dor_no": "D001", "dise_dor_name": "医生", "diag_time": when, **extra}


def describe(mdtrt_id: str, psn_no: str, med_type: str, dx: str, when: str) -> dict:
    """2203 就诊信息."""
    return {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": med_type, "begntime": when,
                          "dise_codg": dx, "dise_name": dx},
            "diseinfo": [_diag(dx, when, vali_flag="1")]}


def settle(p: dict[str, Any], mdtrt_id: str, medfee_sumamt: str, med_type: str = "11", inpatient: bool = False,
           mid: bool = False) -> dict:
    """2206 / 2207 (outpatient) or 2303 / 2304 (inpatient) 结算 input."""
    d = {**_who(p), "psn_type": p["psn_type"], "med_type": med_type, "medfee_sumamt": medfee_sumamt,
         "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": "B1", "acct_used_flag": "1",
         "insutype": p["insutype"], "fulamt_ownpay_amt": "0", "overlmt_selfpay": "0", "preselfpay_amt": "0",
         "inscp_scp_amt": "0"}
    if inpatient:
        d.update(insuplc_admdvs=p["admdvs"], mdtrtarea_admvs=p["admdvs"], mid_setl_flag="1" if mid else "0")
    return {"data": d}


def admit(p: dict[str, Any], when: str, ipt_no: str, dx: str, med_type: str = "21") -> dict:
    """2401 入院办理."""
    return {"mdtrtinfo": {**_who(p), "cert_type": "01", "insutype": p["insutype"], "begntime": when, "med_type": med_type,
                          "ipt_no": ipt_no, "atddr_no": "D001", "chfpdr_name": "医生", "adm_diag_dscr": dx,
                          "adm_dept_codg": "01", "adm_dept_name": "内科", "adm_bed": "1", "dscg_maindiag_code": dx,
                          "dscg_maindiag_name": dx, "dise_codg": dx, "dise_name": dx, "insuplc_admdvs": p["admdvs"],
                          "mdtrtarea_admvs": p["admdvs"]},
            "diseinfo": [_diag(dx, when, psn_no=p["psn_no"], maindiag_flag="1")]}


def discharge(p: dict[str, Any], mdtrt_id: str, when: str, dx: str) -> dict:
    """2402 出院办理."""
    return {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": p["psn_no"], "insutype": p["insutype"], "endtime": when,
                         "dise_codg": dx, "dise_name": dx, "dscg_dept_codg": "01", "dscg_dept_name": "内科",
                         "dscg_way": "1"},
            "diseinfo": [_diag(dx, when, mdtrt_id=mdtrt_id, psn_no=p["psn_no"], maindiag_flag="1")]}


def cancel_settlement(setl_id: str, mdtrt_id: str, psn_no: str) -> dict:
    """2208 / 2305 结算撤销."""
    return {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": psn_no}}


def undo(psn_no: str, omsgid: str, oinfno: str) -> dict:
    """2601 冲正."""
    return {"data": {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}}


def totals(insutype: str, clr_type: str, begin: str, end: str, medfee: str, fund: str, acct: str, count: int,
           optins: str) -> dict:
    """3201 对总账."""
    return {"data": {"insutype": insutype, "clr_type": clr_type, "setl_optins": optins, "stmt_begndate": begin,
                     "stmt_enddate": end, "medfee_sumamt": medfee, "fund_pay_sumamt": fund, "acct_pay": acct,
                     "fixmedins_setl_cnt": str(count), "fixmedins_refd_setl_flag": "0"}}


__all__ = ["His", "admit", "cancel_settlement", "describe", "discharge", "fee_line", "person_info", "register",
           "settle", "totals", "undo"]
