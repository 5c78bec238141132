"""Policy cases a policy officer can read: tests/settlement/cases/*.yaml.

Each file holds a list of cases. A case names a pack and a person, then one or more claims settled in
order (each claim carries the accumulators and account balances the previous one left); ``expect``
gives statement fields in yuan, ``expect_funds`` setldetail payments by fund_pay_type in yuan,
``expect_accumulators`` running totals in fen; ``reform`` overrides pack parameters for the case;
``catalog: restricted`` settles lines naming the items of ``restricted_catalog()``; ``expect_error``
names the field a refused claim is refused for, at both speeds. Allowance cases
(``maternity``, ``ltc``) check the cash benefits. Every claim case is also settled as a batch, which
must give the same fen.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from yibao.errors import ValidationError
from yibao.money import yuan_to_fen
from yibao.policy import load_pack
from yibao.settlement import claim_from, settle, settle_frame
from yibao.settlement.allowances import ltc_benefit, maternity_allowance
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.settlement.synthetic import claims_frames, restricted_catalog

CASES_DIR = Path(__file__).parent / "cases"


def load_cases():
    out = []
    for file in sorted(CASES_DIR.glob("*.yaml")):
        for i, case in enumerate(yaml.safe_load(file.read_text(encoding="utf-8"))):
            out.append(pytest.param(case, id=f"{file.stem}:{i}:{case['name']}"))
    return out


CASES = load_cases()


def test_enough_cases():
    assert len(CASES) >= 40


def _claims(case):
    person = dict(case["person"])
    claims = []
    for k, c in enumerate(case["claims"]):
        c = dict(c)
        date = str(c.pop("date"))
        doc = {"claim_id": f"{case['name']}#{k + 1}", "person": person, "adm_date": c.pop("adm_date", date),
               "dscg_date": date, **c}
        doc.pop("expect", None)
        doc.pop("expect_accumulators", None)
        doc.pop("expect_funds", None)
        claims.append(claim_from(doc, "case"))
    return claims


def _check(expected: dict, statement, where: str):
    for field, value in (expected or {}).items():
        if field == "pool_prop_selfpay":
            assert statement[field] == int(round(float(value) * 1_000_000)), where
        else:
            assert statement[field] == yuan_to_fen(value, field), f"{where}: {field} = {statement[field] / 100:.2f}, expected {value}"


@pytest.mark.parametrize("case", CASES)
def test_policy_case(case):
    pack = load_pack(case["pack"])
    if case.get("reform"):
        pack = pack.reform(case["reform"], name=f"{pack.name}+case")
    if "maternity" in case:
        m = case["maternity"]
        got = maternity_allowance(pack, dt.date.fromisoformat(str(m["date"])), yuan_to_fen(m["monthly_wage"]),
                                  m.get("birth", "normal"), m.get("extra_babies", 0))
        assert got.days == case["expect"]["days"]
        assert got.amount == yuan_to_fen(case["expect"]["amount"])
        return
    if "ltc" in case:
        c = dict(case["ltc"])
        on = dt.date.fromisoformat(str(c.pop("date")))
        billed = yuan_to_fen(c.pop("billed", 0))
        got = ltc_benefit(pack, on, billed=billed, **c)
        assert got.amount == yuan_to_fen(case["expect"]["amount"])
        return
    claims = _claims(case)
    catalog = {"restricted": restricted_catalog(), None: None}[case.get("catalog")]
    if case.get("expect_error"):
        frame, lines = claims_frames(claims)
        for attempt in (lambda: settle(claims[0], pack, catalog), lambda: settle_frame(frame, lines, pack, catalog, strict=True)):
            with pytest.raises(ValidationError) as e:
                attempt()
            assert e.value.field == case["expect_error"], e.value
        return
    acc, balance, family = {}, None, None
    statements = []
    for claim, spec in zip(claims, case["claims"]):
        c = copy.deepcopy(claim)
        c.person.accumulators = {**c.person.accumulators, **acc}
        if balance is not None:
            c.person.account_balance, c.person.family_account_balance = balance, family
        s = settle(c, pack, catalog)
        statements.append(s)
        _check(spec.get("expect"), s, claim.claim_id)
        funds = {d.fund_pay_type: d.fund_payamt for d in s.setldetail}
        for code, value in (spec.get("expect_funds") or {}).items():
            assert funds.get(str(code), 0) == yuan_to_fen(value), f"{claim.claim_id}: fund {code}"
        for key, value in (spec.get("expect_accumulators") or {}).items():
            assert s.accumulators.get(key, 0) == value, f"{claim.claim_id}: accumulator {key}"
        acc, balance = s.accumulators, s["balc"]
        family = c.person.family_account_balance - s["acct_mulaid_pay"]
    # the same claims as a batch give the same fen, starting from the person's accumulators
    frame, lines = claims_frames(claims)
    opening = pd.DataFrame([{"psn_no": claims[0].person.psn_no, "year": claims[0].dscg_date.year, "key": k, "amount_fen": v}
                            for k, v in claims[0].person.accumulators.items()])
    batch = settle_frame(frame, lines, pack, catalog, opening=opening if len(opening) else None).set_index("claim_id")
    for s in statements:
        assert {k: int(batch.loc[s.claim_id, k]) for k in SETLINFO_FIELDS} == s.setlinfo, s.claim_id
