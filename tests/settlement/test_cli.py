"""The ``yibao settle`` command, as the ``yibao`` app runs it."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from yibao.cli import app as yibao_app


def app():
    return yibao_app


CLAIM = {"claim_id": "C1", "person": {"insutype": "310", "psn_type": "11", "age": 45, "account_balance": 500},
         "institution": {"level": "3"}, "med_type": "21", "adm_date": "2024-03-01", "dscg_date": "2024-03-08",
         "lines": [{"class": "A", "amount": "10800"}]}


def test_settle_one_claim_prints_statement_and_trace(tmp_path):
    p = tmp_path / "claim.json"
    p.write_text(json.dumps(CLAIM), encoding="utf-8")
    r = CliRunner().invoke(app(), ["settle", "--pack", "demo", "--claim", str(p)], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "hifp_pay" in r.output and "8500.00" in r.output
    assert "trace" in r.output and "起付线" in r.output
    r = CliRunner().invoke(app(), ["settle", "--claim", str(p), "--fhir"])
    assert json.loads(r.output)["resourceType"] == "ExplanationOfBenefit"


def test_settle_many_claims_to_csv(tmp_path):
    second = {**CLAIM, "claim_id": "C2", "adm_date": "2024-06-01", "dscg_date": "2024-06-05"}
    p = tmp_path / "claims.json"
    p.write_text(json.dumps({"claims": [CLAIM, second]}), encoding="utf-8")
    out, acc = tmp_path / "out.csv", tmp_path / "acc.csv"
    r = CliRunner().invoke(app(), ["settle", "--pack", "demo", "--claims", str(p), "--out", str(out),
                                   "--accumulators-out", str(acc)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert df["hifp_pay"].tolist() == [850000, 884000]  # second stay: half the deductible
    assert df["acct_pay"].tolist() == [50000, 0]
    after = pd.read_csv(acc).set_index("key")["amount_fen"].to_dict()
    assert after == {"stays": 2, "cap:pooling": 850000 + 884000}


def test_settle_bad_claim_exits_with_the_field(tmp_path):
    p = tmp_path / "claim.json"
    p.write_text(json.dumps({**CLAIM, "dscg_date": "2024-01-01"}), encoding="utf-8")
    r = CliRunner().invoke(app(), ["settle", "--claim", str(p)], terminal_width=200)
    assert r.exit_code == 1
    assert "dscg_date" in r.output
