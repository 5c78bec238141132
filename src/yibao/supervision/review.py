"""The rule library in the real-time review (3101 事前 / 3102 事中): each encounter of the request
becomes a supervision claim with its orders as lines, the patient's other encounters its history,
and :meth:`RuleBook.check_claim` gives the hits — the same rules, compiled once per catalog, that
``yibao supervise run`` applies to a year."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from yibao.supervision.engine import RuleBook
from yibao.supervision.model import Claim, Line, Visit

SCENES = {"3101": "事前", "3102": "事中"}
# 医院等级 (hosp_lv, 1–14) → the 医疗机构等级 the rules use (3 / 2 / 1 / 0 未定级)
HOSP_LV = {**dict.fromkeys(("1", "2", "3", "4", "12"), "3"), **dict.fromkeys(("5", "6", "7", "13"), "2"),
           **dict.fromkeys(("8", "9", "10", "14"), "1"), "11": "0"}
KINDS = {"101": "drug", "102": "drug", "103": "drug", "104": "drug", "105": "drug", "106": "drug",
         "201": "service", "301": "consumable"}  # 目录类别 → the line's kind

_books: dict[int, RuleBook] = {}
_lock = threading.Lock()


def book_for(catalog) -> RuleBook:
    """The shipped rules compiled against ``catalog``, once per catalog."""
    with _lock:
        book = _books.get(id(catalog))
        if book is None or book.catalog is not catalog:
            book = _books[id(catalog)] = RuleBook.shipped(catalog=catalog)
        return book


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def visit_of(patient: dict[str, Any], enc: dict[str, Any]) -> Visit:
    """An encounter of a 3101 / 3102 request as a supervision claim with its orders as lines."""
    dx = sorted(enc.get("fsi_diagnose_dtos") or [], key=lambda d: (str(d.get("maindise_flag")) != "1",
                                                                  int(d.get("dias_srt_no") or 0)))
    procs = sorted(enc.get("fsi_operation_dtos") or [], key=lambda o: str(o.get("main_oprn_flag")) != "1")
    adm, dscg = _day(enc["adm_date"]), _day(enc["dscg_date"])
    claim = Claim(claim_id=enc["mdtrt_id"], psn_no=patient["patn_id"], fixmedins_code=enc["medins_id"],
                  insutype=enc["insutype"], med_type=enc["med_type"], adm_date=adm, dscg_date=max(adm, dscg),
                  medfee_sumamt_fen=int(enc["medfee_sumamt"]),
                  diagnoses=tuple(d["dise_codg"] for d in dx if d.get("dise_codg")),
                  procedures=tuple(o["oprn_code"] for o in procs if o.get("oprn_code")),
                  los=(dscg - adm).days if enc["med_type"].startswith("2") else None, sex=patient.get("gend"),
                  birth_date=patient.get("brdy"), level=HOSP_LV.get(str(enc.get("medins_lv")), "0"))
    lines = tuple(Line(line_no=i + 1, item_code=o["hilist_code"], kind=KINDS.get(str(o.get("hilist_type")), "service"),
                       service_date=_day(o["drord_begn_date"]), qty=float(o["cnt"]), price_fen=int(o["pric"]),
                       amount_fen=int(o["sumamt"]))
                  for i, o in enumerate(enc.get("fsi_order_dtos") or []))
    return Visit(claim, lines)


def rule_hits(patient: dict[str, Any], catalog: Any, infno: str) -> dict[str, list[dict[str, Any]]]:
    """The rule hits of each of the patient's encounters (by mdtrt_id), the others as its history and
    its orders' rx_ids as the evidence lines."""
    visits = {e["mdtrt_id"]: (e, visit_of(patient, e)) for e in patient["fsi_encounter_dtos"]}
    book = book_for(catalog)
    out: dict[str, list[dict[str, Any]]] = {}
    for mdtrt_id, (enc, me) in visits.items():
        history = [v for k, (_, v) in visits.items() if k != mdtrt_id]
        orders = enc.get("fsi_order_dtos") or []
        out[mdtrt_id] = [_hit(h, orders) for h in book.check_claim(me.claim, me.lines, history, SCENES.get(infno))]
    return out


def _hit(h, orders: list[dict[str, Any]]) -> dict[str, Any]:
    rx = tuple(orders[n - 1]["rx_id"] for n in h.vola_evid.get("lines", ()) if 0 < n <= len(orders))
    evid = "；".join(filter(None, [h.ref, f"历史就诊 {', '.join(h.vola_evid['history'])}" if h.vola_evid.get("history") else ""]))
    return {"rule_id": h.rule_id, "rule_name": h.rule_name, "vola_cont": h.vola_cont, "sev_deg": str(h.sev_deg),
            "rx_ids": rx, "vola_amt": h.vola_amt, "vola_evid": evid}


__all__ = ["book_for", "rule_hits", "visit_of"]
