"""The admin commands the agency and the tests use: registry enroll, institution add (prints the
credential that then signs), audit-log verify (exit 1 on a tampered chain)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from yibao.api import his as H
from yibao.api.app import region_of
from yibao.api.keys import master_key
from yibao.api.service import Service
from yibao.cli import app
from yibao.ledger.db import ledger_engine

runner = CliRunner()


def _run(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_enroll_add_sign_and_verify(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBAO_KEY_FILE", str(tmp_path / "k"))
    db = f"sqlite:///{tmp_path / 'y.db'}"
    out = _run("registry", "enroll", "--certno", "370302198005060037", "--name", "张三", "--insutype", "310",
               "--psn-type", "11", "--admdvs", "370302", "--begin", "2025-01-01", "--account-balance", "500", "--db", db)
    assert "个人账户 500.00 yuan" in out and "缴费基数 not given" in out
    bad = runner.invoke(app, ["registry", "enroll", "--certno", "370302198005060038", "--name", "李四", "--insutype",
                              "390", "--psn-type", "1403", "--admdvs", "370302", "--begin", "2025-01-01", "--db", db])
    assert bad.exit_code == 1 and "GB 11643" in bad.output
    out = _run("institution", "add", "--code", "H37030200001", "--name", "测试医院", "--level", "3", "--admdvs", "370302",
               "--db", db)
    key = out.split("access key ")[1].split()[0]
    secret = out.split("secret ")[1].split()[0]
    engine = ledger_engine(db)
    with engine.connect() as c:
        psn = c.execute(sa.text("SELECT psn_no FROM persons")).scalar_one()
    svc = Service(db, region_of(engine, "demo"), master_key=master_key(db), engine=engine)
    his = H.His("H37030200001", "370302", access_key=key, secret=secret)
    body = his.body("1101", H.person_info("370302198005060037"))
    answer = json.loads(svc.handle(body, his.headers(body)))
    assert answer["infcode"] == 0 and answer["output"]["baseinfo"]["psn_no"] == psn
    assert answer["output"]["insuinfo"][0]["balc"] == 500.0
    assert "1 links, ok" in _run("audit-log", "verify", "--db", db)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE audit_log SET record = replace(record, '1101', '2207')"))
    broken = runner.invoke(app, ["audit-log", "verify", "--db", db])
    assert broken.exit_code == 1 and "BROKEN at 1 (edited)" in broken.output
    engine.dispose()
