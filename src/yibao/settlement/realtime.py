"""Real-time settlement (实时结算): one claim, the person's accumulators for the year, the home pack.

``settle(claim, pack, catalog)`` builds the claim's inputs with the same front-end as the batch
(:mod:`yibao.settlement.inputs`, a batch of one), runs the same vectorised core on arrays of length one
and returns a :class:`~yibao.settlement.model.Statement` with the accumulators after the claim and a
trace. 异地就医: ``catalog`` is the catalog of the place of treatment (a mapping admdvs → catalog is
accepted), ``pack`` the person's home pack (就医地目录、参保地政策).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from yibao.coded import Coded
from yibao.errors import ValidationError
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.engine import RealTime, settle_core
from yibao.settlement.inputs import IDENTIFIERS, Inputs, build_inputs
from yibao.settlement.model import Claim, Statement
from yibao.ids import validate_admdvs


# where each front-end column stands in a claim (the names a JSON claim or an API caller uses)
CLAIM_FIELDS = {"insutype": "person.insutype", "psn_type": "person.psn_type", "age": "person.age",
                "birth_date": "person.birth_date", "sex": "person.sex", "identities": "person.identities",
                "level": "institution.level", "tier": "person.resident_tier", "chronic_disease": "chronic_disease"}


def validate_claim(claim: Claim) -> None:
    """What only a single claim object can get wrong; everything a batch can get wrong too is
    checked by the shared front-end (:func:`yibao.settlement.inputs.check_claims`)."""
    rec = f"claim {claim.claim_id}"
    p = claim.person
    if p.account_balance < 0 or p.family_account_balance < 0:
        raise ValidationError("person.account_balance", "a balance cannot be negative", rec)
    for field, value in (("person.admdvs", p.admdvs), ("institution.admdvs", claim.institution.admdvs)):
        if value:
            try:
                validate_admdvs(value, field)
            except ValidationError as e:
                raise ValidationError(field, e.problem, rec) from None
    if not claim.lines:
        raise ValidationError("lines", "a claim needs at least one line", rec)
    for i, line in enumerate(claim.lines):
        if line.amount < 0:
            raise ValidationError(f"lines[{i}].amount", f"negative amount {line.amount} fen", rec)
        if line.qty is not None and line.qty < 0:
            raise ValidationError(f"lines[{i}].qty", f"negative quantity {line.qty}", rec)


def claim_columns(claim: Claim) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One claim as the front-end's claim and line columns (see :mod:`yibao.settlement.inputs`)."""
    p, inst = claim.person, claim.institution
    filing = (p.filing or "unfiled") if claim.out_of_region else ""
    one = {
        "claim_id": claim.claim_id, "psn_no": p.psn_no, "insutype": p.insutype, "psn_type": p.psn_type,
        "med_type": claim.med_type, "level": inst.level, "dscg_date": np.datetime64(claim.dscg_date, "D"),
        "adm_date": np.datetime64(claim.adm_date, "D"), "age": -1 if p.age is None else p.age,
        "birth_date": np.datetime64(p.birth_date, "D") if p.birth_date else np.datetime64("NaT", "D"),
        "identities": "|".join(p.identities), "tier": int(p.resident_tier or 0), "filing": filing,
        "chronic_disease": claim.chronic_disease or "", "civil_servant": bool(p.civil_servant),
        "diagnoses": "|".join(claim.diagnoses), "sex": p.sex or "", "supplementary": "|".join(p.supplementary),
        "enterprise_supplementary": bool(p.enterprise_supplementary), "inst_kind": inst.kind or "",
        "inst_admdvs": inst.admdvs or "", "acct_bal": p.account_balance, "fam_bal": p.family_account_balance,
    }
    claims = {k: (np.array([v], dtype=object) if k in IDENTIFIERS else _one_text(v)) if isinstance(v, str)
              else np.array([v]) for k, v in one.items()}
    ls = claim.lines
    lines = {
        "claim": np.zeros(len(ls), dtype=np.int64),
        "amount": np.array([ln.amount for ln in ls], dtype=np.int64),
        "qty_milli": np.array([round((ln.qty if ln.qty is not None else 1) * 1000) for ln in ls], dtype=np.int64),
        "item_code": _coded([ln.item_code if ln.item_class is None else None for ln in ls]),
        "preselfpay_ppm": np.array([-1 if ln.preselfpay_ppm is None else ln.preselfpay_ppm for ln in ls], dtype=np.int64),
        "price_cap": np.array([-1 if ln.price_cap is None else ln.price_cap for ln in ls], dtype=np.int64),
        "fund_rate": np.array([-1 if ln.fund_rate_ppm is None else ln.fund_rate_ppm for ln in ls], dtype=np.int64),
    }
    if any(ln.item_class is not None for ln in ls):  # ad-hoc lines (a class instead of a code)
        lines["item_class"] = np.array([ln.item_class for ln in ls], dtype=object)
    return claims, lines


_TEXTS: dict[str, Coded] = {}  # one claim's text values (险种, 医疗类别, levels, diagnoses …), each encoded once
MAX_TEXTS = 4096


def _one_text(value: str) -> Coded:
    """A one-claim text column, shared by the claims that carry the same value: read-only, so that no
    caller can change it under another (a bounded cache, emptied when full)."""
    hit = _TEXTS.get(value)
    if hit is None:
        hit = _coded([value])
        hit.codes.flags.writeable = hit.categories.flags.writeable = False
        if len(_TEXTS) >= MAX_TEXTS:
            _TEXTS.clear()
        _TEXTS[value] = hit
    return hit


def _coded(values: list) -> Coded:
    """A claim's few text values dictionary-encoded as the front-end keeps them (None: ''), without
    the array machinery a column of millions needs."""
    seen: dict[str, int] = {}
    codes = [seen.setdefault("" if v is None else v if isinstance(v, str) else str(v), len(seen)) for v in values]
    return Coded(np.array(codes, dtype=np.int64), np.array(list(seen) or [""], dtype=object))


def claim_inputs(claim: Claim, pack: Pack, catalog: Any = None, strict: bool = True,
                 each_line: bool = False) -> Inputs:
    """The claim's kind and scope sums, built by the front-end both speeds share (with ``each_line``,
    every line's scope too: what a 2204 upload answers)."""
    claims, lines = claim_columns(claim)
    try:
        return build_inputs(claims, lines, pack, catalog, strict=strict, trace=True, each_line=each_line)
    except ValidationError as e:
        if e.field in CLAIM_FIELDS:
            raise ValidationError(CLAIM_FIELDS[e.field], e.problem, e.record) from None
        raise


def settle(claim: Claim, pack: Pack | str, catalog: Any = None, *, strict: bool = True) -> Statement:
    """Settle one claim in real time; ``claim.person.accumulators`` are the year's totals so far."""
    from yibao.settlement.statement import build_statement

    pack = load_pack(pack) if isinstance(pack, str) else pack
    validate_claim(claim)
    inputs = claim_inputs(claim, pack, catalog, strict)
    res = inputs.kinds[0]
    plan = inputs.plans[int(inputs.period[0])]
    run = RealTime(claim.person.accumulators)
    out = settle_core(inputs.scope, res.arrays(), run, plan.rounding)
    out["_default_ratio_lines"] = inputs.scope["default_ratio_lines"]
    out["_own_scope"] = inputs.scope.get("own_scope", np.zeros(1, dtype=np.int64))
    statement = build_statement(claim, plan, res, {k: int(v[0]) for k, v in out.items()}, run.after)
    if inputs.warning:
        statement.warnings.append(inputs.warning)
    return statement


def warm(pack: Pack, catalog: Any, day: dt.date) -> None:
    """Settle one claim of a catalog item and a diagnosis, so what the first claim builds — the ICD-10
    code set, the catalog's look-ups, the pack's periods and its first kind — is built before a server
    takes its first message (and not by several of its threads at once); ``day`` is the claim's date
    (the server's today). A pack or catalog the made-up claim does not fit changes nothing: the first
    real claim builds the rest."""
    from yibao.errors import YibaoError
    from yibao.settlement.model import Institution, Line, Person
    from yibao.vocab import ACTIVE, EMPLOYEE, LEVEL_THREE, MED_OUTPATIENT

    codes = getattr(catalog, "codes", ())
    line = Line(amount=100, item_code=str(codes[0])) if len(codes) else Line(amount=100, item_class="A")
    claim = Claim(claim_id="warm-up", person=Person(psn_no="warm-up", insutype=EMPLOYEE, psn_type=ACTIVE, age=40),
                  institution=Institution("warm-up", LEVEL_THREE), med_type=MED_OUTPATIENT, adm_date=day, dscg_date=day,
                  lines=[line], diagnoses=("J06.900",))
    try:
        settle(claim, pack, catalog, strict=False)
    except YibaoError:
        pass


__all__ = ["settle", "claim_columns", "claim_inputs", "validate_claim", "warm"]
