"""事前 / 事中 review (3101 / 3102): the orders of an encounter checked before they are charged.

The checks are the supervision rule library (:mod:`yibao.supervision.review`): the same dated, cited
rules ``yibao supervise run`` applies to a year, here on one encounter with the patient's other
encounters of the request as history. Each hit answers a ``result[]`` row with rule_id, vola_cont,
vola_amt, sev_deg, vola_evid and the orders involved.
"""

from __future__ import annotations

from typing import Any

from yibao.api.table import Call, transaction


def _result(patient: dict[str, Any], enc: dict[str, Any], hit: dict[str, Any], n: int) -> dict[str, Any]:
    jr_id = f"{enc['mdtrt_id']}-{n:03d}"
    return {"jr_id": jr_id, "rule_id": hit["rule_id"], "rule_name": hit["rule_name"], "vola_cont": hit["vola_cont"][:500],
            "patn_id": patient["patn_id"], "mdtrt_id": enc["mdtrt_id"], "vola_amt": hit["vola_amt"],
            "vola_amt_stas": "1", "sev_deg": hit["sev_deg"], "vola_evid": hit["vola_evid"][:500],
            "vola_bhvr_type": "1", "task_id": "",
            "judge_result_detail_dtos": [{"jrd_id": f"{jr_id}-{k}", "patn_id": patient["patn_id"],
                                          "mdtrt_id": enc["mdtrt_id"], "rx_id": rx, "vola_item_type": "1",
                                          "vola_amt": hit["vola_amt"]} for k, rx in enumerate(hit["rx_ids"])]}


@transaction("3101", "3102")
def review(call: Call) -> dict:
    """Every encounter of the request reviewed (only ``rule_ids`` when the request names some)."""
    from yibao.supervision.review import rule_hits

    d = call.input["data"]
    wanted = set(d.get("rule_ids") or [])
    out = []
    for patient in d["patient_dtos"]:
        by_encounter = rule_hits(patient, call.region.catalog, call.infno)
        for enc in patient["fsi_encounter_dtos"]:
            hits = [h for h in by_encounter[enc["mdtrt_id"]] if not wanted or h["rule_id"] in wanted]
            out += [_result(patient, enc, h, n) for n, h in enumerate(hits)]
    return {"result": out}


__all__: list[str] = []  # the handler is reached through yibao.api.table
