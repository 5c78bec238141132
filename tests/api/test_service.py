"""The interface's transactions through the dispatcher, on SQLite and PostgreSQL: an outpatient visit
and an inpatient stay end to end, replays, 冲正, reconciliation, signatures, other institutions."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from yibao.api import his as H
from yibao.api import credentials
from yibao.api.service import Service
from yibao.ledger import audit, repository as repo

DAY = "2025-03-01"
MASTER = bytes(range(32))


@pytest.fixture
def svc(ledger):
    return Service(None, ledger.region, engine=ledger.engine)


@pytest.fixture
def person(ledger):
    with ledger.engine.begin() as c:
        row = dict(c.execute(sa.text("SELECT psn_no, certno, name FROM persons WHERE psn_no = 'P00001'")).mappings().one())
    return {**row, "insutype": "310", "psn_type": "11", "admdvs": ledger.admdvs}


class Client:
    def __init__(self, svc: Service, his: H.His):
        self.svc, self.his = svc, his

    def raw(self, infno: str, input_: dict, msgid: str | None = None) -> dict:
        body = self.his.body(infno, input_, msgid)
        return json.loads(self.svc.handle(body, self.his.headers(body)))

    def ok(self, infno: str, input_: dict, msgid: str | None = None) -> dict:
        answer = self.raw(infno, input_, msgid)
        assert answer["infcode"] == 0, answer["err_msg"]
        return answer["output"]

    def refused(self, infno: str, input_: dict, msgid: str | None = None) -> str:
        answer = self.raw(infno, input_, msgid)
        assert answer["infcode"] == -1 and answer["output"] == {}
        return answer["err_msg"]


@pytest.fixture
def his(svc, ledger):
    return Client(svc, H.His(ledger.hospital, ledger.admdvs))


def _visit(his: Client, person: dict, lines=(("210200001a", "380.00", "1"), ("110200001", "8.00", "1"))) -> str:
    md = his.ok("2201", H.register(person, f"{DAY} 09:00:00", "OP1"))["data"]["mdtrt_id"]
    his.ok("2203", H.describe(md, person["psn_no"], "11", "J06.900", f"{DAY} 09:00:00"))
    rows = [H.fee_line(str(i + 1), md, person["psn_no"], code, p, n, f"{DAY} 09:10:00") for i, (code, p, n) in enumerate(lines)]
    answer = his.ok("2204", {"feedetail": rows})["result"]
    assert [r["feedetl_sn"] for r in answer] == [r["feedetl_sn"] for r in rows]
    return md


def test_outpatient_visit_settles_and_reverses_exactly(his, person, ledger):
    with ledger.engine.begin() as c:
        before = repo.position(c, "P00001", 2025)
    md = _visit(his, person)
    pre = his.ok("2206", H.settle(person, md, "388.00"))["setlinfo"]
    with ledger.engine.begin() as c:
        assert repo.position(c, "P00001", 2025) == before  # 预结算 changes nothing
    out = his.ok("2207", H.settle(person, md, "388.00"))
    s = out["setlinfo"]
    assert {k: s[k] for k in ("medfee_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay")} == \
           {k: pre[k] for k in ("medfee_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay")}
    assert s["medfee_sumamt"] == 388.0
    assert round(s["fund_pay_sumamt"] + s["psn_part_amt"], 2) == 388.0
    assert out["setldetail"] and out["setldetail"][0]["fund_pay_type"]
    rev = his.ok("2208", H.cancel_settlement(s["setl_id"], md, "P00001"))["setlinfo"]
    assert rev["medfee_sumamt"] == -388.0 and rev["hifp_pay"] == -s["hifp_pay"]
    with ledger.engine.begin() as c:
        assert repo.position(c, "P00001", 2025) == before
    assert "已撤销" in his.refused("2208", H.cancel_settlement(s["setl_id"], md, "P00001"))


def test_inpatient_stay_with_mid_settlement(his, person, ledger):
    md = his.ok("2401", H.admit(person, f"{DAY} 08:00:00", "IP1", "K35.800"))["result"]["mdtrt_id"]
    his.ok("2301", {"feedetail": [{**H.fee_line("1", md, "P00001", "210200001a", "380.00", "2", f"{DAY} 10:00:00"),
                                   "med_type": "21"}]})
    assert "未办理出院" in his.refused("2304", H.settle(person, md, "760.00", inpatient=True))
    mid = his.ok("2304", H.settle(person, md, "760.00", inpatient=True, mid=True))["setlinfo"]
    his.ok("2301", {"feedetail": [{**H.fee_line("2", md, "P00001", "110200001", "8.00", "3", "2025-03-04 10:00:00"),
                                   "med_type": "21"}]})
    his.ok("2402", H.discharge(person, md, "2025-03-05 10:00:00", "K35.800"))
    pre = his.ok("2303", H.settle(person, md, "24.00", inpatient=True))["setlinfo"]
    final = his.ok("2304", H.settle(person, md, "24.00", inpatient=True))["setlinfo"]
    assert pre["hifp_pay"] == final["hifp_pay"] and mid["medfee_sumamt"] == 760.0
    assert "已出院结算" in his.refused("2405", {"data": {"mdtrt_id": md, "psn_no": "P00001"}})
    his.ok("2305", H.cancel_settlement(final["setl_id"], md, "P00001"))
    his.ok("2405", {"data": {"mdtrt_id": md, "psn_no": "P00001"}})


def test_a_replayed_msgid_answers_the_stored_response_and_a_changed_body_is_refused(his, person, ledger, svc):
    md = _visit(his, person)
    body = his.his.body("2207", H.settle(person, md, "388.00"), msgid="H37030200001202503010910000001")
    first = svc.handle(body)
    assert json.loads(first)["infcode"] == 0
    assert svc.handle(body) == first  # byte for byte, and settled once
    with ledger.engine.begin() as c:
        assert len(repo.settlements_of(c, md)) == 1
    other = his.his.body("2207", H.settle(person, md, "380.00"), msgid="H37030200001202503010910000001")
    assert "已用于另一笔" in json.loads(svc.handle(other))["err_msg"]


def test_undo_message_reverses_a_settlement_and_blocks_a_late_original(his, person, ledger):
    md = _visit(his, person)
    msgid = "H37030200001202503010911000001"
    his.ok("2207", H.settle(person, md, "388.00"), msgid=msgid)
    his.ok("2601", H.undo("P00001", msgid, "2207"))
    with ledger.engine.begin() as c:
        kinds = [r["kind"] for r in repo.settlements_of(c, md)]
    assert kinds == ["settlement", "reversal"]
    assert "已冲正" in his.refused("2601", H.undo("P00001", msgid, "2207"))
    # a message that timed out before arriving: 冲正 first, then the original arrives late
    late = "H37030200001202503010912000009"
    his.ok("2601", H.undo("P00001", late, "2207"))
    assert "已被冲正" in his.refused("2207", H.settle(person, md, "388.00"), msgid=late)


def test_reconciliation_totals_and_details_close_to_the_fen(his, person, ledger):
    md = _visit(his, person)
    s = his.ok("2207", H.settle(person, md, "388.00"))["setlinfo"]
    today = dt.date.today().isoformat()
    fund, acct = f"{s['fund_pay_sumamt']:.2f}", f"{s['acct_pay'] + s['acct_mulaid_pay']:.2f}"
    ok = his.ok("3201", H.totals("310", "11", today, today, "388.00", fund, acct, 1, "370300"))["stmtinfo"]
    assert ok["stmt_rslt"] == "0"
    bad = his.ok("3201", H.totals("310", "11", today, today, "388.01", fund, acct, 1, "370300"))["stmtinfo"]
    assert bad["stmt_rslt"] == "1" and "医疗费总额" in bad["stmt_rslt_dscr"]
    # 对明细账: the institution's file uploaded by 9101, the differences downloaded by 9102
    mine = f"{s['setl_id']}\t{md}\tP00001\t388.00\t{fund}\t{acct}\t0\nST-NOT-OURS\tX\tP00001\t1.00\t0.00\t0.00\t0\n"
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("detail.txt", mine)
    import base64

    up = his.ok("9101", {"fsUploadIn": {"in": base64.b64encode(packed.getvalue()).decode(), "filename": "detail.zip",
                                         "fixmedins_code": ledger.hospital}})
    info = his.ok("3202", {"data": {"setl_optins": "370300", "file_qury_no": up["file_qury_no"], "stmt_begndate": today,
                                    "stmt_enddate": today, "medfee_sumamt": "388.00", "fund_pay_sumamt": fund,
                                    "cash_payamt": "0", "fixmedins_setl_cnt": "1", "clr_type": "11",
                                    "fixmedins_refd_setl_flag": "0"}})["fileinfo"]
    body = his.his.body("9102", {"fsDownloadIn": {"file_qury_no": info["file_qury_no"], "filename": info["filename"],
                                                  "fixmedins_code": ledger.hospital}})
    report = bytes(his.svc.handle(body)).decode()
    assert report.splitlines()[0] == "中心1笔\t机构2笔\t不符1笔"
    assert "ST-NOT-OURS\t2\t机构有中心无" in report


def test_an_institution_cannot_touch_anothers_encounter(his, person, ledger, svc):
    md = _visit(his, person)
    s = his.ok("2207", H.settle(person, md, "388.00"))["setlinfo"]
    other = Client(svc, H.His(ledger.other, ledger.admdvs))
    assert "不属于本机构" in other.refused("2208", H.cancel_settlement(s["setl_id"], md, "P00001"))
    assert "不属于本机构" in other.refused("2204", {"feedetail": [H.fee_line("9", md, "P00001", "110200001", "8.00", "1",
                                                                          f"{DAY} 09:10:00")]})


def test_person_info_by_id_number(his, person):
    out = his.ok("1101", H.person_info(person["certno"]))
    assert out["baseinfo"]["psn_no"] == "P00001" and out["insuinfo"][0]["insutype"] == "310"
    assert "未参保" in his.refused("1101", H.person_info("110101199003074514"))


def test_person_info_gives_each_identity_by_its_national_code(his, person, ledger):
    from yibao.store.repositories import Store

    with Store(engine=ledger.engine).unit() as uow:
        for identity in ("dibao", "monitored"):  # 低保对象 2303; 防止返贫监测对象, a local extension 2360
            uow.identities.add({"psn_no": "P00001", "identity": identity, "start_date": dt.date(2024, 1, 1),
                                "end_date": None})
    out = his.ok("1101", H.person_info(person["certno"]) | {"begntime": f"{DAY} 09:00:00"})
    assert sorted(i["psn_idet_type"] for i in out["idetinfo"]) == ["2303", "2360"]


def test_business_refusals_name_the_field(his, person):
    md = _visit(his, person)
    assert his.refused("2207", H.settle(person, md, "388.01")).startswith("medfee_sumamt(医疗费总额)：")
    assert his.refused("2207", H.settle(person, "MDNOSUCH", "1.00")).startswith("mdtrt_id(就诊ID)：")
    assert "已上传" in his.refused("2204", {"feedetail": [H.fee_line("1", md, "P00001", "110200001", "8.00", "1",
                                                                   f"{DAY} 09:10:00")]})
    assert his.refused("2201", H.register({**person, "psn_no": "P09999"}, f"{DAY} 09:00:00", "OP2")).startswith("psn_no")


def test_an_unknown_institution_and_a_broken_body_are_refused(svc, ledger):
    stranger = Client(svc, H.His("H37030299999", ledger.admdvs))
    assert "不是本统筹区的定点医药机构" in stranger.refused("9001", {"signIn": {"opter_no": "1", "mac": "m", "ip": "1.1.1.1"}})
    assert json.loads(svc.handle(b"{not json"))["err_msg"].startswith("报文不是有效的JSON")


def test_signed_requests(ledger, person):
    with ledger.engine.begin() as c:
        key, secret = credentials.issue(c, ledger.hospital, MASTER, dt.datetime(2025, 1, 1))
        other_key, other_secret = credentials.issue(c, ledger.other, MASTER, dt.datetime(2025, 1, 1))
    svc = Service(None, ledger.region, engine=ledger.engine, master_key=MASTER)
    signed = Client(svc, H.His(ledger.hospital, ledger.admdvs, access_key=key, secret=secret))
    signed.ok("1101", H.person_info(person["certno"]))
    sm3 = Client(svc, H.His(ledger.hospital, ledger.admdvs, access_key=key, secret=secret, algorithm="HMAC-SM3"))
    sm3.ok("1101", H.person_info(person["certno"]))
    unsigned = Client(svc, H.His(ledger.hospital, ledger.admdvs))
    assert "_api_" in unsigned.refused("1101", H.person_info(person["certno"]))
    wrong = Client(svc, H.His(ledger.hospital, ledger.admdvs, access_key=key, secret=other_secret))
    assert wrong.refused("1101", H.person_info(person["certno"]))
    borrowed = Client(svc, H.His(ledger.hospital, ledger.admdvs, access_key=other_key, secret=other_secret))
    assert "不能以" in borrowed.refused("1101", H.person_info(person["certno"]))


def test_every_accepted_message_is_in_the_audit_chain(his, person, ledger):
    md = _visit(his, person)
    his.ok("2207", H.settle(person, md, "388.00"))
    with ledger.engine.begin() as c:
        reports = audit.verify(c)
        n = c.execute(sa.text("SELECT count(*) FROM messages")).scalar_one()
        assert sum(r.rows_checked for r in reports.values()) == n == 4 and all(r.ok for r in reports.values())
        c.execute(sa.text("UPDATE audit_log SET record = replace(record, '2207', '2208') WHERE seq = 4"))
        broken = audit.verify(c)[ledger.hospital]
    assert not broken.ok and broken.broken_seq == 4 and broken.kind == "edited"


def test_review_flags_a_restricted_item(his, ledger):
    order = {"rx_id": "R1", "rxno": "1", "long_drord_flag": "0", "hilist_type": "201", "chrg_type": "03",
             "drord_bhvr": "1", "hilist_code": "210103030", "hilist_name": "子宫造影", "hilist_lv": "1",
             "hilist_pric": "80.00", "hosplist_code": "210103030", "hosplist_name": "子宫造影", "cnt": "1",
             "pric": "80.00", "sumamt": "80.00", "ownpay_amt": "0", "selfpay_amt": "0", "spec": "次", "spec_unt": "次",
             "drord_begn_date": f"{DAY} 09:00:00", "drord_dept_codg": "01", "drord_dept_name": "妇科",
             "drord_dr_codg": "D1", "drord_dr_name": "医生", "drord_dr_profttl": "231", "curr_drord_flag": "1"}
    enc = {"mdtrt_id": "M1", "medins_id": ledger.hospital, "medins_name": "医院", "medins_admdvs": ledger.admdvs,
           "medins_type": "A1", "medins_lv": "2", "adm_date": f"{DAY} 09:00:00", "dscg_date": f"{DAY} 09:30:00",
           "dscg_main_dise_codg": "N97.900", "dscg_main_dise_name": "不孕", "dr_codg": "D1", "adm_dept_codg": "01",
           "adm_dept_name": "妇科", "dscg_dept_codg": "01", "dscg_dept_name": "妇科", "med_mdtrt_type": "1",
           "med_type": "11", "matn_stas": "1", "medfee_sumamt": "80.00", "ownpay_amt": "0", "selfpay_amt": "0",
           "setl_totlnum": "0", "insutype": "310", "reim_flag": "2", "out_setl_flag": "0", "fsi_order_dtos": [order],
           "fsi_diagnose_dtos": [{"dise_id": "1", "inout_dise_type": "1", "maindise_flag": "1", "dias_srt_no": "1",
                                  "dise_codg": "N97.900", "dise_name": "不孕", "dise_date": f"{DAY} 09:00:00"}]}
    patient = {"patn_id": "P00001", "patn_name": "参保人1", "gend": "1", "brdy": "1980-05-06", "poolarea": ledger.admdvs,
               "curr_mdtrt_id": "M1", "fsi_encounter_dtos": [enc]}
    hits = his.ok("3101", {"data": {"patient_dtos": [patient], "trig_scen": "1"}})["result"]
    assert {h["rule_id"] for h in hits} == {"SV-SEX-02", "SV-SEX-03"}
    assert all(h["vola_amt"] == 80.0 and h["sev_deg"] == "1" and "限女性" in h["vola_cont"] for h in hits)
    assert hits[0]["judge_result_detail_dtos"][0]["rx_id"] == "R1"
    female = {**patient, "gend": "2"}
    assert his.ok("3102", {"data": {"patient_dtos": [female], "trig_scen": "2"}})["result"] == []


def test_settle_list_is_kept_for_its_own_settlement(his, person, ledger):
    from yibao.api.examples import example_input

    md = _visit(his, person)
    s = his.ok("2207", H.settle(person, md, "388.00"))["setlinfo"]
    upload = example_input("4101A")
    upload["setlinfo"].update(psn_no="P00001", mdtrt_id=md, setl_id=s["setl_id"])
    assert len(his.ok("4101A", upload)["data"]["setl_list_id"]) == 9
    with ledger.engine.begin() as c:
        kept = repo.settle_lists(c)
    assert [k["setl_id"] for k in kept] == [s["setl_id"]] and json.loads(kept[0]["body"])["setlinfo"]["mdtrt_id"] == md
    other = example_input("4101A")
    other["setlinfo"].update(psn_no="P00001", mdtrt_id=md, setl_id="ST-NONE")
    assert "不存在" in his.refused("4101A", other)
