"""The statement (一单制结算单): national setlinfo / setldetail, accumulators, trace, FHIR export.

Conservation (checked on every statement): medfee_sumamt = fund_pay_sumamt + psn_part_amt +
hosp_part_amt; psn_part_amt = acct_pay + acct_mulaid_pay + psn_cash_pay (the family account's
共济 payment is part of the personal burden and reported beside acct_pay, not inside it);
fund_pay_sumamt = Σ setldetail fund_payamt; nothing negative.
"""

from __future__ import annotations

from yibao import vocab
from yibao.errors import YibaoError
from yibao.money import format_yuan
from yibao.settlement.model import SETLINFO_AMOUNTS, SETLINFO_FIELDS, Claim, FundDetail, Statement, TraceEntry
from yibao.settlement.plan import NOCAP, Plan, Resolved

SCOPE_FIELDS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")

FIELD_NAMES = {
    "medfee_sumamt": ("医疗费总额", "total bill"),
    "fulamt_ownpay_amt": ("全自费金额", "fully self-paid (丙类/目录外/限制外)"),
    "overlmt_selfpay": ("超限价自费费用", "above the price cap"),
    "preselfpay_amt": ("先行自付金额", "paid first by the person (乙类 share, 异地 share)"),
    "inscp_scp_amt": ("符合政策范围金额", "in-scope amount"),
    "act_pay_dedc": ("实际支付起付线", "deductible paid"),
    "hifp_pay": ("基本医疗保险统筹基金支出", "basic pooling fund"),
    "pool_prop_selfpay": ("基本医疗保险统筹基金支付比例", "basic pooling rate (ppm)"),
    "cvlserv_pay": ("公务员医疗补助资金支出", "civil-servant supplement"),
    "hifes_pay": ("企业补充医疗保险基金支出", "enterprise supplementary insurance"),
    "hifmi_pay": ("居民大病保险资金支出", "resident serious-illness insurance"),
    "hifob_pay": ("职工大额医疗费用补助基金支出", "employee large-expense supplement"),
    "maf_pay": ("医疗救助基金支出", "medical assistance"),
    "oth_pay": ("其他支出", "other (supplementary tiers)"),
    "fund_pay_sumamt": ("基金支付总额", "all funds"),
    "psn_part_amt": ("个人负担总金额", "personal burden"),
    "acct_pay": ("个人账户支出", "personal account"),
    "psn_cash_pay": ("个人现金支出", "cash"),
    "hosp_part_amt": ("医院负担金额", "borne by the hospital"),
    "balc": ("余额", "account balance after"),
    "acct_mulaid_pay": ("个人账户共济支付金额", "family account (家庭共济)"),
}
CITE_FOR = {
    "act_pay_dedc": ("act_pay_dedc", "nth_stay"), "hifp_pay": ("hifp_pay", "age_bonus", "tier", "out_of_area", "chronic", "cap", "waiver"),
    "hifob_pay": ("hifob_pay",), "cvlserv_pay": ("cvlserv_pay",), "hifmi_pay": ("hifmi_pay", "tilt"),
    "hifes_pay": ("hifes_pay",), "maf_pay": ("maf_pay", "maf_again"), "hosp_part_amt": ("hosp_part",),
    "oth_pay": ("sup0", "sup1"), "acct_pay": ("acct_pay",),
}


def check_conservation(s: dict[str, int], where: str = "") -> None:
    """Raise if a statement breaks conservation or has a negative amount (a bug, never bad input)."""
    neg = [k for k in SETLINFO_AMOUNTS if s[k] < 0]
    if neg:
        raise YibaoError(f"{where}: negative amounts {neg}")
    funds = s["hifp_pay"] + s["cvlserv_pay"] + s["hifes_pay"] + s["hifmi_pay"] + s["hifob_pay"] + s["maf_pay"] + s["oth_pay"]
    ok = (s["fund_pay_sumamt"] == funds
          and s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["psn_part_amt"] + s["hosp_part_amt"]
          and s["psn_part_amt"] == s["acct_pay"] + s["acct_mulaid_pay"] + s["psn_cash_pay"]
          and s["medfee_sumamt"] == s["fulamt_ownpay_amt"] + s["overlmt_selfpay"] + s["preselfpay_amt"] + s["inscp_scp_amt"])
    if not ok:
        raise YibaoError(f"{where}: conservation broken: {s}")


def build_statement(claim: Claim, plan: Plan, res: Resolved, out: dict[str, int], accumulators: dict[str, int]) -> Statement:
    setlinfo = {k: int(out[k]) for k in SETLINFO_FIELDS}
    check_conservation(setlinfo, f"claim {claim.claim_id}")
    hifp_code = vocab.FUND_MATERNITY if res.med_group == "maternity" else res.fund_code
    rows = [
        (hifp_code, "hifp_pay", out["_cap_left"]),
        (vocab.FUND_LARGE_EXPENSE, "hifob_pay", out["_ob_left"]), (vocab.FUND_CIVIL_SERVANT, "cvlserv_pay", out["_cvl_left"]),
        (vocab.FUND_ENTERPRISE_SUPPLEMENTARY, "hifes_pay", out["_es_left"]),
        (vocab.FUND_RESIDENT_SERIOUS_ILLNESS, "hifmi_pay", out["_mi_left"]),
        (vocab.FUND_MEDICAL_ASSISTANCE, "maf_pay", out["_maf_left"]), (vocab.FUND_OTHER, "oth_pay", None),
    ]
    detail = []
    for code, fld, left in rows:
        if setlinfo[fld] or (fld == "hifp_pay"):
            limit = int(left if left is not None else setlinfo[fld])
            detail.append(FundDetail(code, setlinfo["inscp_scp_amt"], None if limit >= NOCAP // 2 else limit,
                                     setlinfo[fld], _proc(fld, res, out)))
    return Statement(claim.claim_id, claim.person.psn_no, claim.person.insutype, claim.person.psn_type, claim.med_type,
                     setlinfo, detail, dict(accumulators), _trace(setlinfo, res, out, plan),
                     claim.dscg_date, claim.person.admdvs)


def _field_cites(res: Resolved) -> dict[str, tuple[list, str]]:
    """Each setlinfo field's citations under a kind and its setl_proc_info text: the same for every
    claim of the kind, so kept with it (two threads may both build it; either copy serves)."""
    if res._field_cites is None:
        out = {}
        for fld in SETLINFO_FIELDS:
            cites = [res.cites[k] for k in CITE_FOR.get(fld, ()) if k in res.cites]
            out[fld] = (cites, "; ".join(f"{c.zh} [{c.ref}]" for c in cites)[:4000])
        res._field_cites = out
    return res._field_cites


def _proc(fld: str, res: Resolved, out: dict[str, int]) -> str:
    return _field_cites(res)[fld][1]


def _trace(s: dict[str, int], res: Resolved, out: dict[str, int], plan: Plan) -> list[TraceEntry]:
    t: list[TraceEntry] = []
    field_cites = _field_cites(res)
    for fld in SETLINFO_FIELDS:
        amount = s[fld]
        zh, en = FIELD_NAMES[fld]
        cites = field_cites[fld][0]
        if fld in SCOPE_FIELDS and amount:
            t.append(_scope_entry(fld, amount, res, out, plan))
            continue
        if not cites:
            if amount and fld not in ("pool_prop_selfpay",):
                t.append(TraceEntry(fld, amount, f"{zh} {format_yuan(amount)} 元", f"{en} {format_yuan(amount)} yuan"))
            continue
        if not amount and fld not in ("hifp_pay", "act_pay_dedc"):
            continue
        for i, c in enumerate(cites):
            value = amount if i == 0 else 0
            t.append(TraceEntry(fld, value, f"{zh} {format_yuan(amount)} 元: {c.zh}",
                                f"{en} {format_yuan(amount)} yuan: {c.en}", c.parameter, c.ref))
    if out.get("_own_scope"):
        path = "benefits.scope.item_rates"
        t.append(TraceEntry("hifp_pay", 0, f"其中 {format_yuan(out['_own_scope'])} 元 按项目自身的统筹支付比例",
                            f"of which {format_yuan(out['_own_scope'])} yuan at the items' own fund rates", path,
                            plan.params.cite(path).ref if plan.params.has(path) else "the claim's own lines"))
    if out.get("_stay_no"):
        t.append(TraceEntry("stays", int(out["_stay_no"]), f"本年第 {out['_stay_no']} 次住院",
                            f"stay number {out['_stay_no']} this year", unit="count"))
    return t


def _scope_entry(fld: str, amount: int, res: Resolved, out: dict[str, int], plan: Plan) -> TraceEntry:
    """Line scope is the catalog's: the pack is cited only where one of its numbers was used — the
    default 先行自付 ratio for 乙类 lines without their own, the 异地 share."""
    zh, en = FIELD_NAMES[fld]
    head_zh, head_en = f"{zh} {format_yuan(amount)} 元", f"{en} {format_yuan(amount)} yuan"
    if fld == "preselfpay_amt" and out.get("_default_ratio_lines"):
        path = "benefits.scope.default_preselfpay"
        return TraceEntry(fld, amount, f"{head_zh}: 乙类 先行自付 (目录未定比例的按默认比例)",
                          f"{head_en}: 乙类 share (the default ratio where the catalog gives none)",
                          path, plan.params.cite(path).ref)
    if fld == "preselfpay_amt" and "out_of_area" in res.cites and res.values.get("oa_presel"):
        c = res.cites["out_of_area"]
        return TraceEntry(fld, amount, f"{head_zh}: 乙类 先行自付 及 {c.zh}", f"{head_en}: 乙类 share and {c.en}",
                          c.parameter, c.ref)
    what = {"fulamt_ownpay_amt": ("丙类、目录外及限定支付范围外", "丙类, out of catalog or outside its restrictions"),
            "overlmt_selfpay": ("超过支付标准 (限价)", "above the item's price cap"),
            "preselfpay_amt": ("乙类 按目录 先行自付比例", "乙类 share at the items' own catalog ratios"),
            "inscp_scp_amt": ("甲类及乙类 先行自付后", "甲类 and 乙类 after their share")}[fld]
    return TraceEntry(fld, amount, f"{head_zh}: {what[0]} (就医地目录)", f"{head_en}: {what[1]} (catalog of the place of treatment)",
                      "catalog")


def to_fhir(statement: Statement):
    """The statement as a FHIR R5 ExplanationOfBenefit (validated by constructing the model)."""
    from fhir.resources.explanationofbenefit import ExplanationOfBenefit

    def money(fen: int) -> dict:
        return {"value": float(format_yuan(fen)), "currency": "CNY"}

    s = statement.setlinfo
    created = (statement.dscg_date.isoformat() if statement.dscg_date else "1970-01-01")
    totals = [
        {"category": {"coding": [{"system": "urn:yibao:setlinfo", "code": k, "display": FIELD_NAMES[k][0]}]},
         "amount": money(s[k])}
        for k in ("medfee_sumamt", "inscp_scp_amt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay")
    ]
    eob = {
        "resourceType": "ExplanationOfBenefit",
        "id": "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in statement.claim_id)[:64] or "claim",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]},
        "use": "claim",
        "patient": {"identifier": {"system": "urn:yibao:psn_no", "value": statement.psn_no}},
        "created": created,
        "insurer": {"display": f"医疗保障局 {statement.admdvs}".strip()},
        "provider": {"display": "定点医疗机构"},
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": {"display": f"insutype {statement.insutype}"}}],
        "total": totals,
        "payment": {"amount": money(s["fund_pay_sumamt"])},
        "benefitBalance": [{
            "category": {"coding": [{"system": "urn:yibao:fund_pay_type", "code": d.fund_pay_type,
                                     "display": d.fund_pay_type_name}]},
            "financial": [{"type": {"text": "fund_payamt"}, "usedMoney": money(d.fund_payamt)}],
        } for d in statement.setldetail],
    }
    return ExplanationOfBenefit.model_validate(eob)


__all__ = ["build_statement", "check_conservation", "to_fhir", "FIELD_NAMES"]
