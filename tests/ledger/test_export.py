"""``yibao lake export``: what the service settled becomes a lake that the batch settles to the same
fund amounts, with reversed settlements left out."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from typer.testing import CliRunner

from yibao.api import his as H
from yibao.api.service import Service
from yibao.cli import app
from yibao.lake.io import read_table
from yibao.settlement import settle_lake

DAY = "2025-03-01"


def _call(svc, his, infno, input_):
    answer = json.loads(svc.handle(his.body(infno, input_)))
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


def test_export_settles_again_to_the_same_fund_amounts(ledger, tmp_path):
    svc = Service(None, ledger.region, engine=ledger.engine)
    his = H.His(ledger.hospital, ledger.admdvs)
    with ledger.engine.begin() as c:
        people = [dict(r) for r in c.execute(sa.text(
            "SELECT p.psn_no, p.certno, p.name, e.insutype, e.psn_type FROM persons p JOIN enrollments e "
            "ON e.psn_no = p.psn_no ORDER BY p.psn_no")).mappings()]
    settled = []
    for i, p in enumerate(people):
        p["admdvs"] = ledger.admdvs
        md = _call(svc, his, "2201", H.register(p, f"{DAY} 09:00:00", f"OP{i}"))["data"]["mdtrt_id"]
        _call(svc, his, "2204", {"feedetail": [H.fee_line("1", md, p["psn_no"], "210200001a", "380.00", "1", f"{DAY} 09:10:00"),
                                               H.fee_line("2", md, p["psn_no"], "110200001", "8.00", "2", f"{DAY} 09:10:00")]})
        settled.append((p, md, _call(svc, his, "2207", H.settle(p, md, "396.00"))["setlinfo"]))
        ip = _call(svc, his, "2401", H.admit(p, f"{DAY} 08:00:00", f"IP{i}", "K35.800"))["result"]["mdtrt_id"]
        _call(svc, his, "2301", {"feedetail": [{**H.fee_line("1", ip, p["psn_no"], "210200001a", "380.00", "4",
                                                             "2025-03-02 10:00:00"), "med_type": "21"}]})
        _call(svc, his, "2402", H.discharge(p, ip, "2025-03-05 10:00:00", "K35.800"))
        _call(svc, his, "2304", H.settle(p, ip, "1520.00", inpatient=True))
    p, md, s = settled[0]
    _call(svc, his, "2208", H.cancel_settlement(s["setl_id"], md, p["psn_no"]))
    out = tmp_path / "lake"
    result = CliRunner().invoke(app, ["lake", "export", "--db", ledger.url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    claims = read_table(out, "claims").to_pandas()
    assert len(claims) == 2 * len(people) - 1 and s["setl_id"] not in set(claims["claim_id"])
    assert read_table(out, "claim_lines").num_rows == 2 * (len(people) - 1) + 1 * len(people)
    statements = pq.read_table(out / "statements.parquet").to_pandas().set_index("setl_id")
    batch, _ = settle_lake(out, "demo", accounts=False)
    for row in batch.to_dict("records"):
        ours = statements.loc[row["claim_id"]]
        for f in ("medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "hifob_pay", "hifmi_pay",
                  "maf_pay", "fund_pay_sumamt", "psn_part_amt"):
            assert int(row[f]) == int(ours[f]), (row["claim_id"], f)


def _exported(ledger, tmp_path):
    """The fixture's persons each with a settled outpatient visit, exported as a lake (the 职工 as
    灵活就业 at a base of 6,000 元; no contribution recorded, so the fund books the dues from the spells)."""
    svc = Service(None, ledger.region, engine=ledger.engine)
    his = H.His(ledger.hospital, ledger.admdvs)
    with ledger.engine.begin() as c:
        c.execute(sa.text("UPDATE enrollments SET contribution_base_fen = 600000, emp_kind = 'flexible' "
                          "WHERE insutype = '310'"))
        people = [dict(r) for r in c.execute(sa.text(
            "SELECT p.psn_no, p.certno, p.name, e.insutype, e.psn_type FROM persons p JOIN enrollments e "
            "ON e.psn_no = p.psn_no ORDER BY p.psn_no")).mappings()]
    for i, p in enumerate(people):
        p["admdvs"] = ledger.admdvs
        md = _call(svc, his, "2201", H.register(p, f"{DAY} 09:00:00", f"OP{i}"))["data"]["mdtrt_id"]
        _call(svc, his, "2204", {"feedetail": [H.fee_line("1", md, p["psn_no"], "210200001a", "380.00", "1", f"{DAY} 09:10:00")]})
        _call(svc, his, "2207", H.settle(p, md, "380.00"))
    out = tmp_path / "lake"
    result = CliRunner().invoke(app, ["lake", "export", "--db", ledger.url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_fund_books_what_the_service_settled(ledger, tmp_path, monkeypatch):
    from yibao.fund.cli import fund_year
    from yibao.settlement import batch

    out = _exported(ledger, tmp_path)
    monkeypatch.setattr(batch, "settle_lake", lambda *a, **k: (_ for _ in ()).throw(AssertionError("settled again")))
    year = fund_year(out, "demo", None)
    assert year.accounts.notes[0].startswith("statements: the service's own, 5 settlements")
    assert not (out / "contributions.parquet").exists()  # none recorded: not an empty table that books 0
    spent = year.accounts.funds.set_index("name")["spending_fen"]
    path = out / "statements.parquet"
    frame = pq.read_table(path).to_pandas()
    assert frame["claim_id"].tolist() == frame["setl_id"].tolist() and set(frame["insutype"]) == {"310", "390"}
    frame.loc[0, "hifp_pay"] += 100  # the fund must book what the file says, not a settlement worked out again
    frame.loc[0, "fund_pay_sumamt"] += 100
    frame.loc[0, "psn_cash_pay"] -= 100
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    again = fund_year(out, "demo", None).accounts.funds.set_index("name")["spending_fen"]
    assert int(again.sum() - spent.sum()) == 100


def test_service_statements_that_do_not_match_the_lake_are_refused(ledger, tmp_path):
    import pytest

    from yibao.errors import ValidationError
    from yibao.fund.settled import settled_year
    from yibao.policy import load_pack

    out = _exported(ledger, tmp_path)
    path = out / "statements.parquet"
    frame = pq.read_table(path).to_pandas()
    pq.write_table(pa.Table.from_pandas(frame.iloc[1:], preserve_index=False), path)
    with pytest.raises(ValidationError, match=f"claim {frame['claim_id'][0]}.*no statement in statements.parquet"):
        settled_year(out, load_pack("demo"))
    pq.write_table(pa.Table.from_pandas(frame.drop(columns=["psn_type", "level"]), preserve_index=False), path)
    with pytest.raises(ValidationError, match="psn_type, level.*export the lake again"):
        settled_year(out, load_pack("demo"))
