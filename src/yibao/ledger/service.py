"""The ledger service (结算台账): encounters, fee lines, settlements and reversals, each in the caller's
transaction, so the change to the person's position and the settlement row commit together or not
at all.

A settlement locks the person's position for the year (``SELECT … FOR UPDATE`` on PostgreSQL; the
SQLite store takes the database write lock at ``BEGIN IMMEDIATE``), settles the encounter's unsettled
lines with the real-time engine (:func:`yibao.settlement.realtime.settle`, the same rule as the
batch), ties those lines to the new settlement and writes the moved position back. A line is settled
once: tying it is conditional on it being free. A reversal takes back exactly the change stored with
the settlement and frees its lines.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao import vocab
from yibao.errors import NotFoundError, ValidationError, YibaoError
from yibao.ledger import repository as repo
from yibao.ledger.position import Change, OverdraftError, Position, apply, change_of, undo
from yibao.ids import pooling_region
from yibao.money import format_yuan
from yibao.registry.insured import filing_on, insured_at, person_of
from yibao.settlement.model import Claim, Institution, Line, Statement
from yibao.settlement.realtime import claim_inputs, settle as settle_claim


class LedgerError(YibaoError):
    """A request the ledger refuses (unknown encounter, settled twice, another institution's …):
    ``field`` names the input field at fault."""

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True)
class Region:
    """What the service settles with: the pooling region's pack and the catalog of the place of
    treatment (就医地目录)."""

    pack: Any
    catalog: Any


def new_id(prefix: str, when: dt.datetime) -> str:
    """A 30-character-safe id: prefix, the time to the second and 8 random hex digits."""
    return f"{prefix}{when:%Y%m%d%H%M%S}{secrets.token_hex(4)}"


def clr_type_of(kind: str, med_type: str, inst_kind: str) -> str:
    """清算类别: 41 药店购药, 21 住院, 14 门诊慢特病, 11 门诊."""
    if inst_kind == "pharmacy":
        return "41"
    if kind == "inpatient":
        return "21"
    return "14" if med_type == vocab.MED_CHRONIC else "11"


# -- encounters ---------------------------------------------------------------------------------------


def register(conn: sa.Connection, inst: dict[str, Any], *, psn_no: str, insutype: str | None, kind: str,
             begntime: dt.datetime, ipt_otp_no: str, msgid: str, med_type: str | None = None,
             diagnoses: tuple[str, ...] = (), filing: str | None = None) -> dict[str, Any]:
    """挂号 (2201) or 入院办理 (2401): an open encounter with the person's cover on the day. Treated
    outside the person's pooling region, the registry's 异地就医备案 for that place is kept with it
    (``filing`` gives it instead: filed / referred / emergency / unfiled)."""
    try:
        insured = insured_at(conn, psn_no, insutype, begntime.date())
    except NotFoundError:
        raise LedgerError("psn_no", f"人员编号 {psn_no} 不存在") from None
    except ValidationError as e:
        raise LedgerError(e.field, e.problem) from None
    if filing is None and pooling_region(inst["admdvs"]) != pooling_region(insured["admdvs"]):
        filing = filing_on(conn, psn_no, inst["admdvs"], begntime.date())
    insured["filing"] = filing
    med_type = med_type or (vocab.MED_INPATIENT if kind == "inpatient" else vocab.MED_OUTPATIENT)
    row = {"mdtrt_id": new_id("MD", begntime), "fixmedins_code": inst["fixmedins_code"], "psn_no": psn_no,
           "insutype": insured["insutype"], "kind": kind, "med_type": med_type, "status": "open",
           "ipt_otp_no": ipt_otp_no, "begntime": begntime, "endtime": None, "diagnoses": "|".join(diagnoses) or None,
           "chronic_disease": None, "insured": json.dumps(insured, ensure_ascii=False), "msgid": msgid}
    repo.add_encounter(conn, row)
    return row


def own_encounter(conn: sa.Connection, inst: dict[str, Any], mdtrt_id: str, psn_no: str | None = None,
                  kind: str | None = None, with_lines: bool = False) -> dict[str, Any]:
    """The encounter, refused when it is another institution's, another person's or of another kind;
    ``with_lines``: its active lines read with it (a settlement's), kept as ``enc["lines"]``."""
    try:
        if with_lines:
            enc, lines = repo.encounter_with_lines(conn, mdtrt_id)
            enc = {**enc, "lines": lines}
        else:
            enc = repo.encounter(conn, mdtrt_id)
    except NotFoundError:
        raise LedgerError("mdtrt_id", f"就诊ID {mdtrt_id} 不存在") from None
    if enc["fixmedins_code"] != inst["fixmedins_code"]:
        raise LedgerError("mdtrt_id", f"就诊ID {mdtrt_id} 不属于本机构")
    if psn_no is not None and enc["psn_no"] != psn_no:
        raise LedgerError("psn_no", f"人员编号 {psn_no} 与就诊ID {mdtrt_id} 的人员不符")
    if kind is not None and enc["kind"] != kind:
        raise LedgerError("mdtrt_id", f"就诊ID {mdtrt_id} 是{'住院' if enc['kind'] == 'inpatient' else '门诊'}就诊")
    if enc["status"] == "cancelled":
        raise LedgerError("mdtrt_id", f"就诊ID {mdtrt_id} 已撤销")
    return enc


def cancel(conn: sa.Connection, enc: dict[str, Any]) -> None:
    """挂号撤销 (2202) / 入院撤销 (2404): only an encounter with no live settlement."""
    if _live_settlements(conn, enc["mdtrt_id"]):
        raise LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 已结算，请先撤销结算")
    repo.withdraw_lines(conn, enc["mdtrt_id"])
    repo.update_encounter(conn, enc["mdtrt_id"], status="cancelled")


def describe(conn: sa.Connection, enc: dict[str, Any], *, med_type: str | None = None,
             diagnoses: tuple[str, ...] = (), chronic_disease: str | None = None) -> None:
    """就诊信息上传 (2203): the visit's 医疗类别, diagnoses and 门诊慢特病 disease."""
    values: dict[str, Any] = {}
    if med_type:
        values["med_type"] = med_type
    if diagnoses:
        values["diagnoses"] = "|".join(diagnoses)
    if chronic_disease:
        values["chronic_disease"] = chronic_disease
    if values:
        repo.update_encounter(conn, enc["mdtrt_id"], **values)


def discharge(conn: sa.Connection, enc: dict[str, Any], endtime: dt.datetime, diagnoses: tuple[str, ...] = ()) -> None:
    """出院办理 (2402)."""
    if enc["status"] == "discharged":
        raise LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 已出院")
    if endtime < enc["begntime"]:
        raise LedgerError("endtime", f"出院时间 {endtime} 早于入院时间 {enc['begntime']}")
    values: dict[str, Any] = {"status": "discharged", "endtime": endtime}
    if diagnoses:
        values["diagnoses"] = "|".join(diagnoses)
    repo.update_encounter(conn, enc["mdtrt_id"], **values)


def undo_discharge(conn: sa.Connection, enc: dict[str, Any]) -> None:
    """出院撤销 (2405): only before the stay is settled."""
    if enc["status"] != "discharged":
        raise LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 未办理出院")
    if any(not s["mid_setl"] for s in _live_settlements(conn, enc["mdtrt_id"])):
        raise LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 已出院结算，请先撤销结算")
    repo.update_encounter(conn, enc["mdtrt_id"], status="open", endtime=None)


def _live_settlements(conn: sa.Connection, mdtrt_id: str) -> list[dict[str, Any]]:
    rows = repo.settlements_of(conn, mdtrt_id)
    reversed_ = {r["reverses"] for r in rows if r["kind"] == "reversal"}
    return [r for r in rows if r["kind"] == "settlement" and r["setl_id"] not in reversed_]


# -- fee lines ----------------------------------------------------------------------------------------


def upload(conn: sa.Connection, region: Region, inst: dict[str, Any], enc: dict[str, Any],
           lines: list[dict[str, Any]], msgid: str) -> list[dict[str, Any]]:
    """费用明细上传 (2204 / 2301): store the lines and answer each one's scope (fen)."""
    sns = [ln["feedetl_sn"] for ln in lines]
    taken = repo.existing_line_numbers(conn, enc["mdtrt_id"], sns)
    if taken:
        raise LedgerError("feedetl_sn", f"费用明细流水号 {sorted(taken)[0]} 已上传")
    scope = line_scope(region, inst, enc, lines)
    repo.add_lines(conn, [{
        "mdtrt_id": enc["mdtrt_id"], "feedetl_sn": ln["feedetl_sn"], "med_list_codg": ln["med_list_codg"],
        "medins_list_codg": ln.get("medins_list_codg"), "fee_ocur_time": ln["fee_ocur_time"],
        "pric": ln["pric"], "cnt": ln["cnt"], "amount_fen": ln["amount_fen"], "chrg_bchno": ln.get("chrg_bchno"),
        "status": "active", "setl_id": None, "msgid": msgid} for ln in lines])
    return scope


def _unsettled(conn: sa.Connection, enc: dict[str, Any]) -> list[dict[str, Any]]:
    active = enc["lines"] if "lines" in enc else repo.lines(conn, enc["mdtrt_id"])
    return [ln for ln in active if ln["setl_id"] is None]


def line_scope(region: Region, inst: dict[str, Any], enc: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each uploaded line's split by the catalog — 全自费, 超限价, 先行自付, 政策范围内 — as the engine
    scopes it (the same front-end), with the item's class and whether a restriction applied."""
    if not lines:
        return []
    when = max(ln["fee_ocur_time"] for ln in lines).date()
    claim = _claim(enc, inst, [Line(amount=abs(int(ln["amount_fen"])), qty=abs(float(ln["cnt"])),
                                    item_code=ln["med_list_codg"]) for ln in lines], when, Position())
    s = claim_inputs(claim, region.pack, region.catalog, strict=False, each_line=True).scope["lines"]
    grade = {0: "01", 1: "02", 2: "03"}
    out = []
    for i, ln in enumerate(lines):
        cap = int(s["price_cap"][i])
        sign = -1 if ln["amount_fen"] < 0 else 1  # a 退单 line answers its split negated
        out.append({"feedetl_sn": ln["feedetl_sn"], "det_item_fee_sumamt": ln["amount_fen"], "cnt": ln["cnt"],
                    "pric": ln["pric"], "pric_uplmt_amt": Decimal(max(cap, 0)) / 100,  # 0: 无限价
                    "selfpay_prop": Decimal(int(s["preselfpay_ppm"][i])) / 1_000_000,
                    "fulamt_ownpay_amt": sign * int(s["fulamt"][i]), "overlmt_amt": sign * int(s["overlmt"][i]),
                    "preselfpay_amt": sign * int(s["presel"][i]), "inscp_scp_amt": sign * int(s["inscope"][i]),
                    "chrgitm_lv": grade.get(int(s["item_class"][i]), "03"),
                    "med_chrgitm_type": charge_type(ln["med_list_codg"]),
                    "lmt_used_flag": "1" if bool(s["out_of_scope"][i]) else "0"})
    return out


# 医疗收费项目类别 by the national code's shape: drugs X 西药 / Z 中成药 / T 中药饮片, consumables C, and
# services by the 全国医疗服务价格项目规范 chapter (11 综合, 12 护理, 2 医技 检查/化验, 3 临床 治疗/手术).
CHARGE_TYPES = (("1101", "13"), ("1102", "02"), ("1103", "01"), ("12", "07"), ("25", "04"), ("2", "03"),
                ("33", "06"), ("3", "05"), ("X", "09"), ("Z", "11"), ("T", "10"), ("C", "08"))


def charge_type(code: str) -> str:
    """医疗收费项目类别 of an item code (14 其他费 when its shape says nothing)."""
    return next((t for prefix, t in CHARGE_TYPES if code.startswith(prefix)), "14")


def withdraw(conn: sa.Connection, enc: dict[str, Any], *, feedetl_sn: str | None = None,
             batch: str | None = None) -> int:
    """费用明细撤销: one line by 流水号 (2302), a 收费批次 (2205), or every unsettled line ("0000")."""
    everything = "0000" in (feedetl_sn, batch)
    if everything:
        return repo.withdraw_lines(conn, enc["mdtrt_id"])
    n = repo.withdraw_lines(conn, enc["mdtrt_id"], sns=[feedetl_sn] if feedetl_sn else None, batch=batch)
    if not n:
        what = f"费用明细流水号 {feedetl_sn}" if feedetl_sn else f"收费批次号 {batch}"
        raise LedgerError("feedetl_sn" if feedetl_sn else "chrg_bchno", f"{what} 没有可撤销的明细（不存在、已撤销或已结算）")
    return n


# -- settlement ---------------------------------------------------------------------------------------


def _net(lines: list[dict[str, Any]]) -> list[Line]:
    """The engine's lines: each charged line as uploaded, less the 退单 lines (negative quantity) of
    the same item, taken from its latest charges first."""
    charged = [[int(ln["amount_fen"]), Decimal(ln["cnt"]), ln["med_list_codg"]] for ln in lines if Decimal(ln["cnt"]) >= 0]
    for ln in lines:
        amount, cnt, code = int(ln["amount_fen"]), Decimal(ln["cnt"]), ln["med_list_codg"]
        if cnt >= 0:
            continue
        for c in reversed(charged):
            if c[2] == code and (amount < 0 or cnt < 0):
                take_amt, take_cnt = min(c[0], -amount), min(c[1], -cnt)
                c[0], c[1], amount, cnt = c[0] - take_amt, c[1] - take_cnt, amount + take_amt, cnt + take_cnt
        if amount < 0 or cnt < 0:
            raise LedgerError("cnt", f"项目 {code} 退费的数量或金额超过已收费")
    return [Line(amount=a, qty=float(q), item_code=code) for a, q, code in charged if a or q]


def _claim(enc: dict[str, Any], inst: dict[str, Any], lines: list[Line], when: dt.date, pos: Position) -> Claim:
    insured = json.loads(enc["insured"])
    filing = insured.get("filing") or (vocab.FILING_EMERGENCY if enc["med_type"] == vocab.MED_EMERGENCY else None)
    person = person_of(insured, dict(pos.accumulators), pos.account, pos.family, filing)
    diagnoses = tuple(d for d in (enc["diagnoses"] or "").split("|") if d)
    return Claim(claim_id=enc["mdtrt_id"], person=person,
                 institution=Institution(inst["fixmedins_code"], inst["level"], inst["admdvs"], inst["kind"]),
                 med_type=enc["med_type"], adm_date=enc["begntime"].date(), dscg_date=when, lines=lines,
                 diagnoses=diagnoses, chronic_disease=enc["chronic_disease"])


def settle_date(enc: dict[str, Any], lines: list[dict[str, Any]], mid: bool) -> dt.date:
    """The date a settlement counts on: the visit's day, the discharge day, or for 中途结算 the day
    of the newest line settled."""
    if enc["kind"] == "outpatient":
        return enc["begntime"].date()
    if mid:
        return max(ln["fee_ocur_time"] for ln in lines).date()
    if enc["status"] != "discharged":
        raise LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 未办理出院，不能出院结算（中途结算请传 mid_setl_flag=1）")
    return enc["endtime"].date()


def price(conn: sa.Connection, region: Region, inst: dict[str, Any], enc: dict[str, Any], *,
          medfee_sumamt: int | None, acct_used: bool = True, mid: bool = False,
          lock: bool = False) -> tuple[Statement, list[dict[str, Any]], Position, int, int]:
    """The statement for the encounter's unsettled lines against the person's position (locked when
    ``lock``): (statement, lines, position, version, year). ``medfee_sumamt`` must equal the lines."""
    lines = _unsettled(conn, enc)
    if not lines:
        raise LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 没有待结算的费用明细")
    total = sum(int(ln["amount_fen"]) for ln in lines)
    if medfee_sumamt is not None and medfee_sumamt != total:
        raise LedgerError("medfee_sumamt", f"医疗费总额 {format_yuan(medfee_sumamt)} 与已上传明细合计 {format_yuan(total)} 不符")
    when = settle_date(enc, lines, mid)
    if lock:
        pos, version = repo.lock_position(conn, enc["psn_no"], when.year,
                                          lambda: repo.opening_seed(conn, enc["psn_no"], when.year))
    else:
        pos, version = repo.position_or_opening(conn, enc["psn_no"], when.year), -1
    available = pos if acct_used else Position(pos.accumulators, 0, 0)
    claim = _claim(enc, inst, _net(lines), when, available)
    try:
        # a code outside the 医保目录 is 目录外 (全自费), as the 2204 answer already told the institution
        statement = settle_claim(claim, region.pack, region.catalog, strict=False)
    except ValidationError as e:
        raise LedgerError(e.field, e.problem) from None
    return statement, lines, pos, version, when.year


def settle(conn: sa.Connection, region: Region, inst: dict[str, Any], enc: dict[str, Any], *, medfee_sumamt: int | None,
           msgid: str, now: dt.datetime, acct_used: bool = True, mid: bool = False) -> tuple[str, Statement]:
    """结算 (2207 / 2304): settle, tie the lines, move the position; returns (setl_id, statement)."""
    statement, lines, pos, version, year = price(conn, region, inst, enc, medfee_sumamt=medfee_sumamt,
                                                 acct_used=acct_used, mid=mid, lock=True)
    change = change_of(pos, statement)
    try:
        after = apply(pos, change)
    except OverdraftError as e:
        raise LedgerError("acct_used_flag", f"个人账户余额不足: {e}") from None
    setl_id = new_id("ST", now)
    s = statement.setlinfo
    repo.add_settlement(conn, {
        "setl_id": setl_id, "kind": "settlement", "reverses": None, "mdtrt_id": enc["mdtrt_id"],
        "psn_no": enc["psn_no"], "fixmedins_code": inst["fixmedins_code"], "insutype": enc["insutype"],
        "clr_type": clr_type_of(enc["kind"], enc["med_type"], inst["kind"]), "year": year, "setl_time": now,
        "mid_setl": mid, "medfee_sumamt_fen": s["medfee_sumamt"], "fund_pay_sumamt_fen": s["fund_pay_sumamt"],
        "acct_pay_fen": s["acct_pay"] + s["acct_mulaid_pay"], "psn_cash_pay_fen": s["psn_cash_pay"],
        "statement": json.dumps(_stored(statement), ensure_ascii=False), "change": json.dumps(change.to_dict()),
        "msgid": msgid})
    repo.tie_lines(conn, enc["mdtrt_id"], [ln["feedetl_sn"] for ln in lines], setl_id,
                   LedgerError("mdtrt_id", f"就诊ID {enc['mdtrt_id']} 的费用明细已被另一笔结算占用"))
    repo.put_position(conn, enc["psn_no"], year, after, version)
    return setl_id, statement


def _stored(statement: Statement) -> dict[str, Any]:
    d = statement.to_dict()
    d.pop("trace")
    d["dscg_date"] = statement.dscg_date.isoformat() if statement.dscg_date else None
    return d


def own_settlement(conn: sa.Connection, inst: dict[str, Any], setl_id: str) -> dict[str, Any]:
    """The settlement, refused when it does not exist or is another institution's."""
    try:
        row = repo.settlement(conn, setl_id)
    except NotFoundError:
        raise LedgerError("setl_id", f"结算ID {setl_id} 不存在") from None
    if row["fixmedins_code"] != inst["fixmedins_code"]:
        raise LedgerError("setl_id", f"结算ID {setl_id} 不属于本机构")
    return row


def reverse(conn: sa.Connection, inst: dict[str, Any], setl_id: str, *, msgid: str, now: dt.datetime,
            mdtrt_id: str | None = None, psn_no: str | None = None) -> tuple[str, dict[str, Any]]:
    """结算撤销 (2208 / 2305) and 冲正 (2601): a reversal row with the amounts negated, the position
    moved back by exactly the stored change, the lines freed. Returns (reversal id, its statement)."""
    row = own_settlement(conn, inst, setl_id)
    if row["kind"] != "settlement":
        raise LedgerError("setl_id", f"结算ID {setl_id} 是一笔撤销，不能再撤销")
    if mdtrt_id and row["mdtrt_id"] != mdtrt_id:
        raise LedgerError("mdtrt_id", f"就诊ID {mdtrt_id} 与结算ID {setl_id} 不符")
    if psn_no and row["psn_no"] != psn_no:
        raise LedgerError("psn_no", f"人员编号 {psn_no} 与结算ID {setl_id} 不符")
    pos, version = repo.lock_position(conn, row["psn_no"], row["year"], Position)
    if repo.reversal_of(conn, setl_id):
        raise LedgerError("setl_id", f"结算ID {setl_id} 已撤销")
    after = undo(pos, repo.change_of_row(row))
    rev_id = new_id("RV", now)
    stored = json.loads(row["statement"])
    stored["setlinfo"] = {k: v if k == "pool_prop_selfpay" else -v for k, v in stored["setlinfo"].items()}  # a rate stays
    for d in stored["setldetail"]:
        d["fund_payamt"], d["inscp_scp_amt"] = -d["fund_payamt"], -d["inscp_scp_amt"]
    repo.add_settlement(conn, {
        **{k: row[k] for k in ("mdtrt_id", "psn_no", "fixmedins_code", "insutype", "clr_type", "year", "mid_setl")},
        "setl_id": rev_id, "kind": "reversal", "reverses": setl_id, "setl_time": now,
        "medfee_sumamt_fen": -row["medfee_sumamt_fen"], "fund_pay_sumamt_fen": -row["fund_pay_sumamt_fen"],
        "acct_pay_fen": -row["acct_pay_fen"], "psn_cash_pay_fen": -row["psn_cash_pay_fen"],
        "statement": json.dumps(stored, ensure_ascii=False), "change": json.dumps(Change().to_dict()), "msgid": msgid})
    freed = [ln["feedetl_sn"] for ln in repo.lines(conn, row["mdtrt_id"]) if ln["setl_id"] == setl_id]
    repo.mark_settled(conn, row["mdtrt_id"], freed, None)
    repo.put_position(conn, row["psn_no"], row["year"], after, version)
    return rev_id, stored


def open_year(conn: sa.Connection, year: int, rows: list[dict[str, Any]]) -> None:
    """Open the year's positions (psn_no, account, family in fen) before its first settlement; a
    person's year already opened is left as it is."""
    repo.set_opening(conn, [{**r, "year": year} for r in rows])


__all__ = ["LedgerError", "Region", "register", "own_encounter", "cancel", "describe", "discharge",
           "undo_discharge", "own_settlement", "upload", "line_scope", "withdraw", "price", "settle", "reverse", "open_year",
           "clr_type_of", "charge_type", "new_id", "settle_date"]
