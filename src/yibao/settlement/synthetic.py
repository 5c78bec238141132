"""Random claim years for property tests and benchmarks.

``random_claims`` makes a few people's years as :class:`Claim` objects (for real time), with ad-hoc
lines or, given a catalog, lines naming its items (restricted ones included); ``claims_frames`` turns
them into the batch's settlement frame and lines. :func:`restricted_catalog` is a small catalog whose
items exercise every restriction and both kinds of 先行自付 ratio (none given, and 0).
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from yibao.settlement.model import Claim, Institution, Line, Person

MED_TYPES = ["11", "11", "11", "41", "13", "14", "21", "21", "2101", "28", "9901", "51", "52"]
CHRONIC = ["M03900", "M01600", "M00500", "M07800"]
IDENTITIES = ["", "", "", "tekun", "dibao", "fanpin", "dibao_edge", "monitored"]


def random_person(rng: random.Random, i: int) -> Person:
    insutype = rng.choice(["310", "390"])
    psn_type = rng.choice(["11", "12"]) if insutype == "310" else rng.choice(["15", "16", "1403"])
    ident = rng.choice(IDENTITIES)
    return Person(
        psn_no=f"P{i:05d}", insutype=insutype, psn_type=psn_type, age=rng.randint(0, 99),
        identities=(ident,) if ident else (), admdvs="419900",
        filing=rng.choice([None, "filed", "referred", "emergency", "unfiled"]), sex=rng.choice([None, "1", "2"]),
        civil_servant=insutype == "310" and rng.random() < 0.2, resident_tier=rng.choice([None, 1, 2, 3]),
        account_balance=rng.choice([0, 50_000, 300_000]) if insutype == "310" else 0,
        family_account_balance=rng.choice([0, 0, 100_000]) if insutype == "310" else 0,
        supplementary=rng.choice([(), (), ("huiminbao",), ("mutual_aid", "huiminbao")]),
        enterprise_supplementary=insutype == "310" and rng.random() < 0.3,
    )


def restricted_catalog() -> pd.DataFrame:
    """A catalog frame (lake ``catalog`` columns that matter to scope) with one item per restriction
    (sex, age, level, inpatient only, diagnosis), 乙类 items whose 先行自付 ratio is absent (the pack's
    default applies), 0 and 30%, and a capped price."""
    rows = [
        ("A-PLAIN", "A", None, None, {}), ("B-NONE", "B", None, None, {}), ("B-ZERO", "B", 0, None, {}),
        ("B-30", "B", 300_000, 5_000, {}), ("C-SELF", "C", None, None, {}),
        ("A-WOMEN", "A", None, None, {"restrict_sex": "2"}), ("B-MEN", "B", None, None, {"restrict_sex": "1"}),
        ("A-CHILD", "A", None, None, {"restrict_max_age": 17}), ("A-ADULT", "A", None, None, {"restrict_min_age": 18}),
        ("A-WARD", "A", None, None, {"inpatient_only": True}), ("B-L3", "B", None, None, {"restrict_min_level": "3"}),
        ("A-CANCER", "A", None, None, {"required_dx": "C34|C50"}),
    ]
    return pd.DataFrame([{"item_code": code, "item_class": klass, "preselfpay_ppm": pre, "price_cap_fen": cap, **extra}
                         for code, klass, pre, cap, extra in rows])


def random_claims(rng: random.Random, n_persons: int = 5, max_claims: int = 8, year: int = 2024,
                  big: bool = True, item_codes: list[str] | None = None) -> list[Claim]:
    """Claims sorted by (person, date, id); amounts span small visits to six-figure stays. With
    ``item_codes``, about half the lines name one of them instead of an ad-hoc class."""
    out: list[Claim] = []
    for i in range(n_persons):
        p = random_person(rng, i)
        days = sorted(rng.randint(0, 364) for _ in range(rng.randint(1, max_claims)))
        for k, d in enumerate(days):
            med = rng.choice(MED_TYPES)
            adm = dt.date(year, 1, 1) + dt.timedelta(days=d)
            dscg = adm + dt.timedelta(days=rng.randint(0, 12) if med in ("21", "28") else 0)
            scale = rng.choice([5_000, 50_000, 500_000, 5_000_000, 30_000_000 if big else 500_000])
            lines = [_line(rng, scale, item_codes) for _ in range(rng.randint(1, 5))]
            out.append(Claim(
                claim_id=f"C{i:05d}-{k:03d}", person=p,
                institution=Institution(code="H41990000001", level=rng.choice("3210"),
                                        admdvs=rng.choice(["419900", "419900", "420100"])),
                med_type=med, adm_date=adm, dscg_date=dscg, lines=lines,
                diagnoses=(rng.choice(["I10", "E11.9", "C34.9", "C50.9", "U07.1", "J18.9"]),),
                chronic_disease=rng.choice(CHRONIC) if med == "14" else None,
            ))
    out.sort(key=lambda c: (c.person.psn_no, c.dscg_date, c.claim_id))  # settlement order: discharge
    return out


def _line(rng: random.Random, scale: int, item_codes: list[str] | None) -> Line:
    amount, qty = rng.randint(0, scale), rng.choice([1, 2, 0.5])
    if item_codes and rng.random() < 0.5:
        return Line(amount=amount, qty=qty, item_code=rng.choice(item_codes))
    return Line(amount=amount, qty=qty, item_class=rng.choice("AAABBC"),
                preselfpay_ppm=rng.choice([None, 0, 100_000, 300_000]),
                price_cap=rng.choice([None, None, rng.randint(100, 200_000)]),
                fund_rate_ppm=rng.choice([None, None, None, 700_000, 0]))


def claims_frames(claims: list[Claim]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The batch's settlement frame and lines for these claims (balances as at each person's first claim)."""
    seen: set[str] = set()
    rows, lines = [], []
    for c in claims:
        p = c.person
        first = p.psn_no not in seen
        seen.add(p.psn_no)
        rows.append({
            "claim_id": c.claim_id, "psn_no": p.psn_no, "insutype": p.insutype, "psn_type": p.psn_type,
            "med_type": c.med_type, "level": c.institution.level, "adm_date": c.adm_date, "dscg_date": c.dscg_date,
            "age": p.age_on(c.dscg_date), "identities": "|".join(p.identities), "tier": p.resident_tier or 0,
            "filing": (p.filing or "unfiled") if c.out_of_region else "", "chronic_disease": c.chronic_disease or "",
            "civil_servant": p.civil_servant, "supplementary": "|".join(p.supplementary),
            "enterprise_supplementary": p.enterprise_supplementary,
            "inst_kind": c.institution.kind, "inst_admdvs": c.institution.admdvs, "diagnoses": "|".join(c.diagnoses), "sex": p.sex or "",
            "acct_bal": p.account_balance if first else 0, "fam_bal": p.family_account_balance if first else 0,
        })
        for j, ln in enumerate(c.lines):
            lines.append({"claim_id": c.claim_id, "line_no": j, "item_code": ln.item_code, "item_class": ln.item_class,
                          "preselfpay_ppm": ln.preselfpay_ppm, "price_cap_fen": ln.price_cap, "qty": ln.qty,
                          "amount_fen": ln.amount, "fund_rate_ppm": ln.fund_rate_ppm})
    f = pd.DataFrame(rows)
    # the batch reads a person's starting balances from every row: spread the first row's value
    for col in ("acct_bal", "fam_bal"):
        f[col] = f.groupby("psn_no")[col].transform("max")
    lf = pd.DataFrame(lines)
    for col in ("preselfpay_ppm", "price_cap_fen", "fund_rate_ppm"):
        lf[col] = lf[col].astype("Int64")
    return f, lf


__all__ = ["random_claims", "random_person", "claims_frames", "restricted_catalog"]
