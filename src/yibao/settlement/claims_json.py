"""Claims as JSON (for ``yibao settle --claim`` and the policy cases).

One claim::

    {"claim_id": "C1",
     "person": {"psn_no": "P1", "insutype": "310", "psn_type": "11", "birth_date": "1970-05-01" | "age": 54,
                "sex": "1", "identities": ["dibao"], "admdvs": "419900", "filing": "filed",
                "civil_servant": false, "resident_tier": 2, "account_balance": "800.00",
                "family_account_balance": 0, "supplementary": ["huiminbao"], "enterprise_supplementary": false, "accumulators": {"stays": 1, "cap:pooling": 1234500}},
     "institution": {"code": "H41990000001", "level": "3", "admdvs": "419900"},
     "med_type": "21", "adm_date": "2024-03-01", "dscg_date": "2024-03-08",
     "diagnoses": ["I21.0"], "chronic_disease": null,
     "lines": [{"item_code": "XA01…", "qty": 2, "price": "10.50", "amount": "21.00"},
               {"class": "B", "preselfpay": "10%", "price_cap": "8.00", "qty": 1, "amount": 12}]}

Amounts are yuan (strings or numbers, at most two decimals) and become fen; accumulators are fen
(integers, as the statement prints them). A line names a catalog ``item_code`` or carries ``class``
(A/B/C), ``preselfpay`` (rate) and ``price_cap`` (yuan per unit). ``filing`` (filed / referred /
emergency / unfiled) matters when the institution's admdvs differs from the person's. A file may
hold one claim, a list of claims, or ``{"claims": [...]}`` (one person's claims in date order).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from yibao.errors import ValidationError
from yibao.money import MAX_AMOUNT_FEN, rate_to_ppm, yuan_to_fen
from yibao.settlement.model import Claim, Institution, Line, Person

# The keys each object may carry: anything else is a misspelling and is refused, never ignored.
CLAIM_KEYS = ("claim_id", "person", "institution", "med_type", "adm_date", "dscg_date", "diagnoses",
              "chronic_disease", "lines", "medfee_sumamt")
PERSON_KEYS = ("psn_no", "insutype", "psn_type", "birth_date", "age", "sex", "identities", "admdvs", "filing",
               "civil_servant", "resident_tier", "household_id", "account_balance", "family_account_balance",
               "supplementary", "enterprise_supplementary", "accumulators")
INSTITUTION_KEYS = ("code", "level", "admdvs", "kind")
LINE_KEYS = ("item_code", "class", "preselfpay", "price_cap", "qty", "price", "amount", "fund_rate")


def _known_keys(d: dict, allowed: tuple[str, ...], prefix: str, rec: str) -> None:
    import difflib

    for key in d:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(allowed)})"
            raise ValidationError(f"{prefix}{key}", f"unknown field{hint}", rec)


def _req(d: dict, key: str, rec: str, prefix: str = "") -> Any:
    if not isinstance(d, dict) or d.get(key) in (None, ""):
        raise ValidationError(f"{prefix}{key}", "missing", rec)
    return d[key]


def _date(v: Any, field: str, rec: str) -> dt.date:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValidationError(field, f"{v!r} is not a date (YYYY-MM-DD)", rec) from None


def _fen(v: Any, field: str, rec: str) -> int:
    try:
        fen = yuan_to_fen(v, field)
    except ValidationError as e:
        raise ValidationError(field, e.problem, rec) from None
    if fen < 0:
        raise ValidationError(field, f"negative amount {v!r}", rec)
    if fen > MAX_AMOUNT_FEN:
        raise ValidationError(field, f"{v!r} yuan is above the largest amount a bill may carry "
                              f"({MAX_AMOUNT_FEN // 100:,} yuan)", rec)
    return fen


def person_from(d: Any, rec: str) -> Person:
    if not isinstance(d, dict):
        raise ValidationError("person", "missing or not an object", rec)
    _known_keys(d, PERSON_KEYS, "person.", rec)
    birth = _date(d["birth_date"], "person.birth_date", rec) if d.get("birth_date") else None
    age = d.get("age")
    if birth is None and age is None:
        raise ValidationError("person.birth_date", "needs birth_date or age", rec)
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 0):
        raise ValidationError("person.age", f"{age!r} is not a whole number of years", rec)
    idents = d.get("identities") or []
    if isinstance(idents, str):
        idents = [idents]
    acc = d.get("accumulators") or {}
    if not isinstance(acc, dict) or any(not isinstance(v, int) or v < 0 for v in acc.values()):
        raise ValidationError("person.accumulators", "must map names to non-negative fen integers", rec)
    tier = d.get("resident_tier")
    return Person(
        psn_no=str(d.get("psn_no") or "P"),
        insutype=str(_req(d, "insutype", rec, "person.")),
        psn_type=str(_req(d, "psn_type", rec, "person.")),
        birth_date=birth, age=age, identities=tuple(str(i) for i in idents),
        admdvs=str(d.get("admdvs") or ""), filing=d.get("filing"), civil_servant=bool(d.get("civil_servant", False)),
        resident_tier=int(tier) if tier is not None else None, household_id=d.get("household_id"),
        account_balance=_fen(d.get("account_balance", 0), "person.account_balance", rec),
        family_account_balance=_fen(d.get("family_account_balance", 0), "person.family_account_balance", rec),
        sex=str(d["sex"]) if d.get("sex") is not None else None, accumulators=dict(acc),
        supplementary=tuple(str(x) for x in (d.get("supplementary") or [])),
        enterprise_supplementary=_flag(d, "enterprise_supplementary", rec),
    )


def _flag(d: dict, key: str, rec: str) -> bool:
    v = d.get(key, False)
    if not isinstance(v, bool):
        raise ValidationError(f"person.{key}", f"{v!r} is not true or false", rec)
    return v


def line_from(d: Any, i: int, rec: str) -> Line:
    f = f"lines[{i}]."
    if not isinstance(d, dict):
        raise ValidationError(f"lines[{i}]", "not an object", rec)
    _known_keys(d, LINE_KEYS, f, rec)
    qty = d.get("qty", 1)
    try:
        qty = float(qty)
    except (TypeError, ValueError):
        raise ValidationError(f + "qty", f"not a number: {qty!r}", rec) from None
    if not 0 <= qty < 1e9:
        raise ValidationError(f + "qty", f"quantity {qty} is negative or not a real count", rec)
    price = _fen(d["price"], f + "price", rec) if d.get("price") is not None else None
    if d.get("amount") is None:
        if price is None:
            raise ValidationError(f + "amount", "missing (give amount, or price and qty)", rec)
        amount = _fen(round(price * qty) / 100, f + "amount", rec)
    else:
        amount = _fen(d["amount"], f + "amount", rec)
        if price is not None and amount != round(price * qty):
            raise ValidationError(f + "amount", f"{amount / 100:.2f} yuan is not price × qty "
                                  f"({price / 100:.2f} × {qty:g} = {round(price * qty) / 100:.2f})", rec)
    klass = d.get("class")
    if d.get("item_code") in (None, "") and klass is None:
        raise ValidationError(f + "item_code", "missing (give a catalog code or an ad-hoc class)", rec)
    if klass is not None and str(klass) not in ("A", "B", "C"):
        raise ValidationError(f + "class", f"{klass!r} is not A, B or C", rec)
    cap = _fen(d["price_cap"], f + "price_cap", rec) if d.get("price_cap") is not None else None
    return Line(amount=amount, qty=qty, price=price, item_code=d.get("item_code") or None,
                item_class=str(klass) if klass is not None else None,
                preselfpay_ppm=_share_ppm(d.get("preselfpay"), f + "preselfpay", rec), price_cap=cap,
                fund_rate_ppm=_share_ppm(d.get("fund_rate"), f + "fund_rate", rec))


def _share_ppm(value: Any, field: str, rec: str) -> int | None:
    """A rate (0.7, "70%") as ppm between 0 and 100%, or None when not given."""
    if value is None:
        return None
    try:
        out = rate_to_ppm(value, field)
    except ValidationError as e:
        raise ValidationError(field, e.problem, rec) from None
    if not 0 <= out <= 1_000_000:
        raise ValidationError(field, f"{value!r} is not between 0 and 100%", rec)
    return out


def claim_from(d: Any, where: str = "claim") -> Claim:
    if not isinstance(d, dict):
        raise ValidationError("claim", "not an object", where)
    rec = f"{where} {d.get('claim_id', '')}".strip()
    _known_keys(d, CLAIM_KEYS, "", rec)
    inst = d.get("institution")
    if not isinstance(inst, dict):
        raise ValidationError("institution", "missing or not an object", rec)
    _known_keys(inst, INSTITUTION_KEYS, "institution.", rec)
    institution = Institution(code=str(inst.get("code") or ""), level=str(_req(inst, "level", rec, "institution.")),
                              admdvs=str(inst.get("admdvs") or ""), kind=str(inst.get("kind") or "hospital"))
    lines = d.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationError("lines", "missing or empty", rec)
    adm = _date(_req(d, "adm_date", rec), "adm_date", rec)
    dscg = _date(d.get("dscg_date") or adm, "dscg_date", rec)
    if dscg < adm:
        raise ValidationError("dscg_date", f"discharge {dscg} is before admission {adm}", rec)
    dx = d.get("diagnoses") or []
    claim = Claim(
        claim_id=str(d.get("claim_id") or "claim"), person=person_from(d.get("person"), rec), institution=institution,
        med_type=str(_req(d, "med_type", rec)), adm_date=adm, dscg_date=dscg,
        lines=[line_from(x, i, rec) for i, x in enumerate(lines)],
        diagnoses=tuple([dx] if isinstance(dx, str) else dx), chronic_disease=d.get("chronic_disease"),
    )
    if d.get("medfee_sumamt") is not None:
        total = _fen(d["medfee_sumamt"], "medfee_sumamt", rec)
        lines_total = sum(ln.amount for ln in claim.lines)
        if total != lines_total:
            raise ValidationError("medfee_sumamt", f"{total / 100:.2f} yuan is not the sum of the lines "
                                  f"({lines_total / 100:.2f})", rec)
    return claim


def read_claims(path: str | Path) -> list[Claim]:
    """Claims from a JSON file: one claim, a list, or {"claims": [...]} (errors name file and claim)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as e:
        raise ValidationError("path", f"cannot read: {e.strerror}", str(path)) from None
    except UnicodeDecodeError as e:
        raise ValidationError("encoding", f"not UTF-8 text (byte {e.start}: {e.object[e.start:e.start + 1]!r}); "
                              "save the file as UTF-8", str(path)) from None
    except json.JSONDecodeError as e:
        raise ValidationError("json", f"line {e.lineno}: {e.msg}", str(path)) from None
    items = doc.get("claims") if isinstance(doc, dict) and "claims" in doc else doc
    items = items if isinstance(items, list) else [items]
    claims = [claim_from(x, f"{path} claim #{i + 1}") for i, x in enumerate(items)]
    check_one_person(claims, str(path))
    return claims


def check_one_person(claims: list[Claim], where: str) -> None:
    """A claims file is one person's claims in date order with unique ids: a second person would
    inherit the first's running totals, a duplicate would count as a second stay."""
    seen: set[str] = set()
    for i, c in enumerate(claims):
        rec = f"{where} claim #{i + 1} {c.claim_id}"
        if c.person.psn_no != claims[0].person.psn_no:
            raise ValidationError("person.psn_no", f"{c.person.psn_no!r} is not {claims[0].person.psn_no!r}: a file "
                                  "holds one person's claims", rec)
        if c.claim_id in seen:
            raise ValidationError("claim_id", f"{c.claim_id!r} is given twice", rec)
        seen.add(c.claim_id)
        if i and (c.dscg_date, c.claim_id) < (claims[i - 1].dscg_date, claims[i - 1].claim_id):
            raise ValidationError("dscg_date", f"{c.dscg_date} comes before the previous claim's "
                                  f"{claims[i - 1].dscg_date}: claims go in date order", rec)


__all__ = ["claim_from", "person_from", "line_from", "read_claims", "check_one_person"]
