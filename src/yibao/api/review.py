"""事前 / 事中 review (3101 / 3102): the orders of an encounter checked before they are charged.

A reviewer is ``fn(patient, encounter, catalog) -> list[Hit]``; the catalog's restriction checker is
the first one. The supervision engine's per-claim rules plug in with :func:`add_reviewer`, so the
same answer shape (``result[]`` with rule_id, vola_cont, vola_amt, sev_deg, vola_evid) carries them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from yibao.api.table import Call, transaction
from yibao.catalog.items import RESTRICTION_CHECKS
from yibao.vocab import INPATIENT_MED_TYPES


@dataclass(frozen=True)
class Hit:
    """One breach: the rule, what was found, the orders involved and the money at stake (fen)."""

    rule_id: str
    rule_name: str
    vola_cont: str
    sev_deg: str  # 1 明确违规, 2 高度可疑, 3 轻度可疑
    rx_ids: tuple[str, ...]
    vola_amt: int
    vola_evid: str
    vola_bhvr_type: str = "1"


Reviewer = Callable[[dict[str, Any], dict[str, Any], Any], list[Hit]]
REVIEWERS: list[Reviewer] = []

RESTRICTION_RULES = {  # the catalog's 限定支付范围 checks as rules
    "sex": ("CAT-SEX", "限性别用药/诊疗", "项目限{}使用"),
    "age": ("CAT-AGE", "限年龄用药/诊疗", "项目限定年龄范围，患者年龄不符"),
    "inpatient": ("CAT-IPT", "限住院使用", "项目限住院使用，本次为门诊"),
    "level": ("CAT-LV", "限医疗机构等级", "项目限定医疗机构等级，本机构等级不符"),
    "diagnosis": ("CAT-DX", "限适应症/诊断", "项目限定适应症，诊断中无相应疾病"),
}


# 医院等级 (hosp_lv, 1–14) → the 医疗机构等级 the benefit rules use (3 / 2 / 1 / 0 未定级)
HOSP_LV = {**dict.fromkeys(("1", "2", "3", "4", "12"), "3"), **dict.fromkeys(("5", "6", "7", "13"), "2"),
           **dict.fromkeys(("8", "9", "10", "14"), "1"), "11": "0"}


def add_reviewer(fn: Reviewer) -> Reviewer:
    REVIEWERS.append(fn)
    return fn


def _age(born: dt.date | None, on: dt.date) -> float:
    if born is None:
        return float("nan")
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@add_reviewer
def catalog_restrictions(patient: dict[str, Any], enc: dict[str, Any], catalog: Any) -> list[Hit]:
    """Orders whose 医保目录 item is used outside its restrictions (the catalog's one checker)."""
    orders = enc.get("fsi_order_dtos") or []
    if not orders or catalog is None:
        return []
    on = (enc.get("adm_date") or dt.datetime.now()).date()
    dx = "|".join(d["dise_codg"] for d in sorted(enc.get("fsi_diagnose_dtos") or [],
                                                  key=lambda d: str(d.get("maindise_flag")) != "1"))
    pos = catalog.positions(np.array([o["hilist_code"] for o in orders], dtype=object), np.datetime64(on, "D"))
    reasons = catalog.violation_reasons(
        pos, np.zeros(len(orders), dtype=np.int64), np.array([patient.get("gend") or ""], dtype=object),
        np.array([_age(patient.get("brdy"), on)], dtype=float),
        np.array([enc.get("med_type") in INPATIENT_MED_TYPES]), np.array([HOSP_LV.get(str(enc.get("medins_lv")), "")], dtype=object),
        np.array([dx or enc.get("dscg_main_dise_codg") or ""], dtype=object))
    hits = []
    for check in RESTRICTION_CHECKS:
        for i in np.flatnonzero(reasons[check]):
            o = orders[int(i)]
            rule_id, name, text = RESTRICTION_RULES[check]
            item = catalog.get(o["hilist_code"], on)
            cont = text.format({"1": "男性", "2": "女性"}.get(item.restrict_sex or "", "特定性别"))
            hits.append(Hit(rule_id, name, f"{o['hilist_name']}（{o['hilist_code']}）：{cont}", "1", (o["rx_id"],),
                            int(o["sumamt"]), f"限定支付范围：{item.restriction_text or item.name}"))
    return hits


def _result(patient: dict[str, Any], enc: dict[str, Any], hit: Hit, n: int) -> dict[str, Any]:
    jr_id = f"{enc['mdtrt_id']}-{n:03d}"
    return {"jr_id": jr_id, "rule_id": hit.rule_id, "rule_name": hit.rule_name, "vola_cont": hit.vola_cont[:500],
            "patn_id": patient["patn_id"], "mdtrt_id": enc["mdtrt_id"], "vola_amt": hit.vola_amt,
            "vola_amt_stas": "1", "sev_deg": hit.sev_deg, "vola_evid": hit.vola_evid[:500],
            "vola_bhvr_type": hit.vola_bhvr_type, "task_id": "",
            "judge_result_detail_dtos": [{"jrd_id": f"{jr_id}-{k}", "patn_id": patient["patn_id"],
                                          "mdtrt_id": enc["mdtrt_id"], "rx_id": rx, "vola_item_type": "1",
                                          "vola_amt": hit.vola_amt} for k, rx in enumerate(hit.rx_ids)]}


@transaction("3101", "3102")
def review(call: Call) -> dict:
    d = call.input["data"]
    wanted = set(d.get("rule_ids") or [])
    out = []
    for patient in d["patient_dtos"]:
        for enc in patient["fsi_encounter_dtos"]:
            hits = [h for fn in REVIEWERS for h in fn(patient, enc, call.region.catalog)]
            out += [_result(patient, enc, h, n) for n, h in enumerate(hits) if not wanted or h.rule_id in wanted]
    return {"result": out}


__all__ = ["Hit", "REVIEWERS", "Reviewer", "add_reviewer", "catalog_restrictions"]
