"""医保电子凭证: a token issued to a person reads that person in 1101 (就诊凭证类型 01) until it expires;
an unknown or expired token is refused naming mdtrt_cert_no. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from yibao.api import his as H
from yibao.api.service import Service
from yibao.cli import app
from yibao.errors import ValidationError
from yibao.registry import ecard

NOW = dt.datetime(2025, 3, 1, 9, 0, 0)


def _ask(ledger, token: str, at: dt.datetime, his: H.His | None = None) -> dict:
    svc = Service(None, ledger.region, engine=ledger.engine, clock=lambda: at)
    his = his or H.His(ledger.hospital, ledger.admdvs)
    body = his.body("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token, "psn_cert_type": "01"}})
    return json.loads(svc.handle(body, his.headers(body)))


def test_a_token_reads_its_holder_until_it_expires(ledger):
    with ledger.engine.begin() as c:
        token = ecard.issue(c, "P00001", NOW)["token"]
    his = H.His(ledger.hospital, ledger.admdvs)  # one client: each message its own msgid
    answer = _ask(ledger, token, NOW + dt.timedelta(minutes=4), his)
    assert answer["infcode"] == 0, answer["err_msg"]
    assert answer["output"]["baseinfo"]["psn_no"] == "P00001"
    late = _ask(ledger, token, NOW + ecard.LIFETIME, his)
    assert late["infcode"] == -1 and late["err_msg"].startswith("mdtrt_cert_no") and "已过期" in late["err_msg"]


def test_an_unknown_token_is_refused(ledger):
    answer = _ask(ledger, "0" * 32, NOW)
    assert answer["infcode"] == -1 and "电子凭证无效" in answer["err_msg"]


def test_a_token_s_lifetime_is_bounded(ledger):
    with ledger.engine.begin() as c, pytest.raises(ValidationError, match="1 to 1440 minutes"):
        ecard.issue(c, "P00001", NOW, minutes=0)


def test_registry_ecard_command_issues_a_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    run = CliRunner().invoke
    enrolled = run(app, ["registry", "enroll", "--certno", "370302198005060037", "--name", "张三", "--insutype", "390",
                         "--psn-type", "1401", "--admdvs", "370302", "--begin", "2025-01-01", "--db", url])
    assert enrolled.exit_code == 0, enrolled.output
    res = run(app, ["registry", "ecard", "--certno", "370302198005060037", "--minutes", "10", "--db", url])
    assert res.exit_code == 0, res.output
    token = res.output.split(": ")[1].split()[0]
    with sa.create_engine(url).begin() as c:
        row = c.execute(sa.text("SELECT issued_at, expires_at FROM ecard_tokens WHERE token = :t"), {"t": token}).one()
    assert (dt.datetime.fromisoformat(str(row[1])) - dt.datetime.fromisoformat(str(row[0]))).seconds == 600
    missing = run(app, ["registry", "ecard", "--certno", "110101199003074514", "--db", url])
    assert missing.exit_code == 1 and "not found" in missing.output
