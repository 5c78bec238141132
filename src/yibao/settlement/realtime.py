"""Real-time settlement (实时结算): one claim, the person's accumulators for the year, the home pack.

``settle(claim, pack, catalog)`` runs the same vectorised core as the batch on arrays of length one,
and returns a :class:`~yibao.settlement.model.Statement` with the accumulators after the claim and a
trace. 异地就医: ``catalog`` is the catalog of the place of treatment (a mapping admdvs → catalog is
accepted), ``pack`` the person's home pack (就医地目录、参保地政策).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from yibao.errors import ValidationError
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.engine import CLASS_B, RealTime, claim_sums, line_scope, settle_core
from yibao.settlement.model import Claim, Statement
from yibao.settlement.plan import Kind, Plan, Resolved, plan_for, ppm
from yibao.settlement.scope import CLASS_CODES, _field, lookup_one
from yibao.vocab import PSN_TYPES

_ARRAYS: dict[int, dict[str, np.ndarray]] = {}


def param_arrays(res: Resolved) -> dict[str, np.ndarray]:
    """The resolved parameters as length-1 int64 arrays (cached per resolved kind)."""
    arr = _ARRAYS.get(id(res))
    if arr is None or arr.get("_owner") is not res:
        arr = {k: np.array([v], dtype=np.int64) for k, v in res.values.items()}
        arr["_owner"] = res  # type: ignore[assignment]
        _ARRAYS[id(res)] = arr
    return arr


def validate_claim(claim: Claim) -> None:
    rec = f"claim {claim.claim_id}"
    p = claim.person
    if p.insutype not in ("310", "390"):
        raise ValidationError("person.insutype", f"{p.insutype!r} is not 310 (职工) or 390 (居民)", rec)
    if p.psn_type not in PSN_TYPES:
        raise ValidationError("person.psn_type", f"{p.psn_type!r} is not a national psn_type", rec)
    if p.birth_date is None and p.age is None:
        raise ValidationError("person.birth_date", "needs birth_date or age", rec)
    if p.account_balance < 0 or p.family_account_balance < 0:
        raise ValidationError("person.account_balance", "a balance cannot be negative", rec)
    if claim.dscg_date < claim.adm_date:
        raise ValidationError("dscg_date", f"discharge {claim.dscg_date} is before admission {claim.adm_date}", rec)
    if claim.institution.level not in ("3", "2", "1", "0"):
        raise ValidationError("institution.level", f"{claim.institution.level!r} is not 3, 2, 1 or 0", rec)
    if not claim.lines:
        raise ValidationError("lines", "a claim needs at least one line", rec)
    for i, line in enumerate(claim.lines):
        if line.amount < 0:
            raise ValidationError(f"lines[{i}].amount", f"negative amount {line.amount} fen", rec)
        if line.qty is not None and line.qty < 0:
            raise ValidationError(f"lines[{i}].qty", f"negative quantity {line.qty}", rec)


def kind_of(claim: Claim, plan: Plan) -> Kind:
    p = claim.person
    group = plan.med_group(claim.med_type, f"claim {claim.claim_id}")
    filing = ""
    if claim.out_of_region:
        filing = p.filing or "unfiled"
    return Kind(
        p.insutype, claim.med_type, claim.institution.level, p.psn_type, plan.age_key(p.age_on(claim.dscg_date)),
        plan.identity_of(p.identities), int(p.resident_tier or 0), filing,
        (claim.chronic_disease or "") if group == "chronic" else "", bool(p.civil_servant),
        plan.waiver_of(tuple(claim.diagnoses), tuple(p.identities)), "|".join(sorted(p.supplementary)),
        claim.institution.kind or "", bool(p.enterprise_supplementary),
    )


def _catalog_at(catalog: Any, claim: Claim) -> Any:
    if isinstance(catalog, Mapping):
        return catalog.get(claim.institution.admdvs) or catalog.get("*")
    return catalog


def line_arrays(claim: Claim, plan: Plan, catalog: Any = None, strict: bool = True) -> dict[str, np.ndarray]:
    """Class, 先行自付 ratio, price cap and restriction flag per line, from the catalog or the line."""
    cat = _catalog_at(catalog, claim)
    default_ppm = ppm(plan.get("scope.default_preselfpay", 0), "default_preselfpay")
    group = plan.med_group(claim.med_type)
    n = len(claim.lines)
    cls = np.empty(n, dtype=np.int64)
    rate = np.empty(n, dtype=np.int64)
    cap = np.empty(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    age = claim.person.age_on(claim.dscg_date)
    for i, line in enumerate(claim.lines):
        row = None
        if line.item_code and cat is not None:
            row = lookup_one(cat, line.item_code, claim.dscg_date)
        if line.item_code and row is None and line.item_class is None:
            if strict:
                raise ValidationError(f"lines[{i}].item_code", f"{line.item_code!r} is not in the catalog on {claim.dscg_date}",
                                      f"claim {claim.claim_id}")
            cls[i], rate[i], cap[i] = CLASS_CODES["C"], 0, -1  # 目录外: fully self-paid
            continue
        klass = line.item_class or _field(row, "item_class", "C")
        if klass not in CLASS_CODES:
            raise ValidationError(f"lines[{i}].item_class", f"{klass!r} is not A, B or C", f"claim {claim.claim_id}")
        cls[i] = CLASS_CODES[klass]
        if line.preselfpay_ppm is not None:  # an ad-hoc ratio is taken as given
            rate[i] = line.preselfpay_ppm
        else:  # 乙类 without its own ratio in the catalog takes the pack's default; 甲/丙 none
            r = int(_field(row, "preselfpay_ppm", 0) or 0)
            rate[i] = (r or default_ppm) if cls[i] == CLASS_B else 0
        c = line.price_cap if line.price_cap is not None else _field(row, "price_cap_fen", None)
        cap[i] = -1 if c is None else int(c)
        if row is not None:
            bad[i] = _violates(row, claim, age, group in plan.stay_groups or group == "day_surgery")
    return {"item_class": cls, "preselfpay_ppm": rate, "price_cap": cap, "out_of_scope": bad}


def _violates(row: Any, claim: Claim, age: int, inpatient: bool) -> bool:
    sex = _field(row, "restrict_sex", "")
    if sex and claim.person.sex and sex != claim.person.sex:
        return True
    lo, hi = _field(row, "restrict_min_age", None), _field(row, "restrict_max_age", None)
    if (lo is not None and age < int(lo)) or (hi is not None and age > int(hi)):
        return True
    if _field(row, "inpatient_only", False) and not inpatient:
        return True
    ml = _field(row, "restrict_min_level", "")
    if ml and str(ml).isdigit() and int(claim.institution.level) < int(ml):
        return True
    req = _field(row, "required_dx", "")
    if req and not any(d.startswith(tuple(str(req).split("|"))) for d in claim.diagnoses):
        return True
    return False


def scope_sums(claim: Claim, plan: Plan, catalog: Any = None, strict: bool = True) -> dict[str, np.ndarray]:
    la = line_arrays(claim, plan, catalog, strict)
    amount = np.array([ln.amount for ln in claim.lines], dtype=np.int64)
    qty = np.array([round((ln.qty if ln.qty is not None else 1) * 1000) for ln in claim.lines], dtype=np.int64)
    parts = line_scope(amount, qty, la["item_class"], la["preselfpay_ppm"], la["price_cap"], la["out_of_scope"], plan.rounding)
    starts, ends = np.array([0]), np.array([len(amount)])
    total, F, O, Pre, S = claim_sums(starts, ends, amount, *parts)
    p = claim.person
    return {"total": total, "fulamt": F, "overlmt": O, "presel": Pre, "inscope": S,
            "acct_bal": np.array([p.account_balance], dtype=np.int64),
            "fam_bal": np.array([p.family_account_balance], dtype=np.int64)}


def settle(claim: Claim, pack: Pack | str, catalog: Any = None, *, strict: bool = True) -> Statement:
    """Settle one claim in real time; ``claim.person.accumulators`` are the year's totals so far."""
    from yibao.settlement.statement import build_statement

    pack = load_pack(pack) if isinstance(pack, str) else pack
    validate_claim(claim)
    plan = plan_for(pack, claim.dscg_date)
    res = plan.resolve(kind_of(claim, plan))
    c = scope_sums(claim, plan, catalog, strict)
    run = RealTime(claim.person.accumulators)
    out = settle_core(c, param_arrays(res), run, plan.rounding)
    return build_statement(claim, plan, res, {k: int(v[0]) for k, v in out.items()}, run.after)


__all__ = ["settle", "kind_of", "scope_sums", "param_arrays", "validate_claim", "line_arrays"]
