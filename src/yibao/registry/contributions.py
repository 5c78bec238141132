"""Contributions (筹资): what each enrollment spell owes for a year, from the policy pack.

Employees (职工医保, insutype 310) owe monthly: the contribution base (缴费基数) clamped to
[average wage × floor share, average wage × ceiling share], times the employer rate (单位缴费) and
the employee rate (个人缴费); 灵活就业 (emp_kind ``flexible``) pay both shares themselves at the
flexible rate; retirees pay nothing when the pack exempts them. Each month uses the parameters in
force on its first day (费款所属期), so a policy change inside the year applies from its month on.

Residents (城乡居民医保, 390) owe the year's individual fee (个人缴费), matched by a fiscal subsidy
(财政补助). For persons with an assistance identity, 医疗救助 pays the pack's ``sponsored_share`` of
the individual fee (资助参保; the highest share when a person has several identities).

Months due (月末在册): a spell owes a month when it is in force on the month's last day, so a spell
that starts mid-month owes that month and one that ends mid-month does not — a change of spell
inside a month bills the month once, at the new spell's terms. A resident spell owes the annual fee
when it covers any day of the year; a person owes it once per year, to the earliest such spell.

Amounts are integer fen, each month's amount rounded once with the pack's rounding. In the output,
``individual_fen`` is what the person pays, ``sponsored_fen`` what 医疗救助 pays for them and
``subsidy_fen`` the fiscal subsidy; the total due is the sum of the four parts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from yibao import vocab
from yibao.errors import ValidationError
from yibao.lake.schema import TABLES
from yibao.money import Rounding, apply_rate, apply_rate_np, rate_to_ppm
from yibao.policy import Citation, Pack, Params
from yibao.registry._frames import (
    OPEN_END, as_frame, day_number, day_numbers, first_bad, group_sum, month_bounds,
)

RETIRED_TYPES = vocab.RETIRED_PSN_TYPES
SPELL_COLUMNS = ("spell_id", "psn_no", "insutype", "psn_type", "emp_kind", "start_date", "end_date",
                 "contribution_base_fen")
IDENTITY_COLUMNS = ("psn_no", "identity", "start_date", "end_date")
OUTPUT_COLUMNS = TABLES["contributions"].names
SPELL_OUTPUT_COLUMNS = ["spell_id", *OUTPUT_COLUMNS, "months"]


# --- parameters resolved for one month / one year --------------------------------------------------

@dataclass(frozen=True)
class EmployeeTerms:
    """职工医保 terms in force in one month, in fen and ppm."""

    floor_fen: int
    ceiling_fen: int
    employer_ppm: int
    employee_ppm: int
    flexible_ppm: int
    retirees_exempt: bool


@dataclass(frozen=True)
class ResidentTerms:
    """居民医保 terms of one year: individual fee, fiscal subsidy and 资助参保 shares by identity."""

    individual_fee_fen: int
    fiscal_subsidy_fen: int
    sponsored_ppm: Mapping[str, int]


def employee_terms(params: Params, rounding: Rounding) -> EmployeeTerms:
    e = params.node("contribution.employee")
    wage = int(e["average_wage"])
    return EmployeeTerms(
        floor_fen=apply_rate(wage, rate_to_ppm(e["base_floor_share"]), rounding),
        ceiling_fen=apply_rate(wage, rate_to_ppm(e["base_ceiling_share"]), rounding),
        employer_ppm=rate_to_ppm(e["employer_rate"]),
        employee_ppm=rate_to_ppm(e["employee_rate"]),
        flexible_ppm=rate_to_ppm(e["flexible_rate"]),
        retirees_exempt=bool(e["retirees_exempt"]),
    )


def resident_terms(params: Params) -> ResidentTerms:
    r = params.node("contribution.resident")
    shares = r["sponsored_share"]
    unknown = sorted(set(shares) - set(vocab.IDENTITIES))
    if unknown:
        raise ValidationError("contribution.resident.sponsored_share", f"unknown identity categories {unknown}",
                              record=f"pack {params.pack.name}")
    return ResidentTerms(int(r["individual_fee"]), int(r["fiscal_subsidy"]),
                         {k: rate_to_ppm(v) for k, v in shares.items()})


def monthly_terms(pack: Pack, year: int) -> list[EmployeeTerms]:
    """The employee terms of each month of ``year`` (index 0 = January)."""
    return [employee_terms(pack.at(dt.date(year, m, 1)), pack.rounding) for m in range(1, 13)]


# --- the residents' subsidy ratio check (KPI) ------------------------------------------------------

@dataclass(frozen=True)
class SubsidyRatioCheck:
    """财政补助 ÷ 个人缴费 against the pack's ceiling (e.g. 淄博 ≤ 2:1), with the figures behind it."""

    on: dt.date
    individual_fee_fen: int
    fiscal_subsidy_fen: int
    ratio: Decimal
    max_ratio: Decimal
    ok: bool
    citations: tuple[Citation, ...]

    @property
    def message(self) -> str:
        verdict = "within" if self.ok else "exceeds"
        return (f"fiscal subsidy {self.fiscal_subsidy_fen / 100:.2f} ÷ individual fee "
                f"{self.individual_fee_fen / 100:.2f} = {self.ratio:.4f}, {verdict} the limit {self.max_ratio}")


def subsidy_ratio_check(pack: Pack, on: dt.date | int) -> SubsidyRatioCheck:
    """Check the residents' subsidy : individual ratio in force on a date (a year means its 1 January)."""
    on = dt.date(on, 1, 1) if isinstance(on, int) else on
    p = pack.at(on)
    paths = ("individual_fee", "fiscal_subsidy", "max_subsidy_ratio")
    cites = tuple(p.cite(f"contribution.resident.{k}") for k in paths)
    fee, subsidy, limit = (c.value for c in cites)
    if fee <= 0:
        raise ValidationError("contribution.resident.individual_fee", "must be positive to form a ratio",
                              record=f"pack {pack.name} on {on}")
    ratio = Decimal(int(subsidy)) / Decimal(int(fee))
    return SubsidyRatioCheck(on, int(fee), int(subsidy), ratio, Decimal(limit), ratio <= Decimal(limit), cites)


# --- one spell (scalar) ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SpellContribution:
    """What one spell owes for one year."""

    spell_id: str
    psn_no: str
    year: int
    insutype: str
    employer_fen: int
    individual_fen: int
    subsidy_fen: int
    sponsored_fen: int
    months: int

    @property
    def total_fen(self) -> int:
        return self.employer_fen + self.individual_fen + self.subsidy_fen + self.sponsored_fen


def _get(spell: Mapping[str, Any], key: str) -> Any:
    v = spell.get(key)
    return None if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) else v


def _check_spell(spell: Mapping[str, Any]) -> None:
    rec = f"spell {spell.get('spell_id')}"
    insutype = str(spell.get("insutype"))
    if insutype not in (vocab.EMPLOYEE, vocab.RESIDENT):
        raise ValidationError("insutype", f"{insutype!r} is not 310 (职工) or 390 (居民)", record=rec)
    start, end = _get(spell, "start_date"), _get(spell, "end_date")
    if start is None:
        raise ValidationError("start_date", "missing", record=rec)
    if end is not None and day_number(end) < day_number(start):
        raise ValidationError("end_date", f"{end} is before start_date {start}", record=rec)
    if insutype == vocab.EMPLOYEE and spell.get("psn_type") not in RETIRED_TYPES:
        base = _get(spell, "contribution_base_fen")
        if base is None or int(base) < 0:
            raise ValidationError("contribution_base_fen", f"an employee spell needs a base ≥ 0, got {base!r}",
                                  record=rec)
        if spell.get("emp_kind") not in vocab.EMP_KINDS:
            raise ValidationError("emp_kind", f"{spell.get('emp_kind')!r} is not one of {sorted(vocab.EMP_KINDS)}",
                                  record=rec)


def clamp_base(base_fen: int, terms: EmployeeTerms) -> int:
    """缴费基数 within [floor, ceiling]."""
    return min(max(int(base_fen), terms.floor_fen), terms.ceiling_fen)


def employee_month(base_fen: int, emp_kind: str, psn_type: str, terms: EmployeeTerms,
                   rounding: Rounding) -> tuple[int, int]:
    """(employer fen, individual fen) one employee owes for one month."""
    if terms.retirees_exempt and psn_type in RETIRED_TYPES:
        return 0, 0
    base = clamp_base(base_fen, terms)
    if emp_kind == "flexible":
        return 0, apply_rate(base, terms.flexible_ppm, rounding)
    return apply_rate(base, terms.employer_ppm, rounding), apply_rate(base, terms.employee_ppm, rounding)


def sponsored_share_ppm(identities: Iterable[Mapping[str, Any]], terms: ResidentTerms,
                        first: int, last: int, psn_no: str) -> int:
    """The highest 资助参保 share among the person's identities in force some day in [first, last]."""
    best = 0
    for ident in identities:
        if str(ident.get("psn_no")) != str(psn_no):
            continue
        key = ident.get("identity")
        if key not in vocab.IDENTITIES:
            raise ValidationError("identity", f"{key!r} is not an identity category", record=f"person {psn_no}")
        start = day_number(_get(ident, "start_date"), open_value=-OPEN_END)
        end = day_number(_get(ident, "end_date"), open_value=OPEN_END)
        if start <= last and end >= first:
            best = max(best, terms.sponsored_ppm.get(key, 0))
    return best


def spell_contribution(spell: Mapping[str, Any], identities: Iterable[Mapping[str, Any]], pack: Pack,
                       year: int) -> SpellContribution:
    """What one spell (a lake ``enrollments`` row as a mapping) owes for ``year``."""
    _check_spell(spell)
    start = day_number(spell["start_date"])
    end = day_number(_get(spell, "end_date"), open_value=OPEN_END)
    firsts, lasts = month_bounds(year)
    insutype = str(spell["insutype"])
    employer = individual = subsidy = sponsored = months = 0
    if insutype == vocab.EMPLOYEE:
        for m in range(12):
            if start <= lasts[m] <= end:  # in force on the month's last day
                terms = employee_terms(pack.at(dt.date(year, m + 1, 1)), pack.rounding)
                base = _get(spell, "contribution_base_fen")
                if base is None and not terms.retirees_exempt:
                    raise ValidationError("contribution_base_fen", "retirees contribute under this pack, so "
                                          "their spell needs a base", record=f"spell {spell.get('spell_id')}")
                er, ind = employee_month(int(base or 0), spell.get("emp_kind"),
                                         str(spell.get("psn_type")), terms, pack.rounding)
                employer, individual, months = employer + er, individual + ind, months + 1
    elif start <= lasts[11] and end >= firsts[0]:
        terms = resident_terms(pack.at(dt.date(year, 1, 1)))
        share = sponsored_share_ppm(identities, terms, max(start, int(firsts[0])), min(end, int(lasts[11])),
                                    spell["psn_no"])
        sponsored = apply_rate(terms.individual_fee_fen, share, pack.rounding)
        individual = terms.individual_fee_fen - sponsored
        subsidy = terms.fiscal_subsidy_fen
        months = 12
    return SpellContribution(str(spell["spell_id"]), str(spell["psn_no"]), year, insutype, employer, individual,
                             subsidy, sponsored, months)


def person_contributions(spells: Iterable[Mapping[str, Any]], identities: Iterable[Mapping[str, Any]], pack: Pack,
                         year: int) -> list[dict[str, Any]]:
    """One person's contributions for ``year`` (scalar convenience): rows in the lake ``contributions``
    schema, 310 before 390 — employee months summed over the spells, the resident fee once."""
    identities = list(identities)
    rows: dict[str, dict[str, Any]] = {}
    for spell in sorted(spells, key=lambda s: day_number(s["start_date"])):
        c = spell_contribution(spell, identities, pack, year)
        if c.months == 0:
            continue
        row = rows.get(c.insutype)
        if row is None:
            rows[c.insutype] = {"psn_no": c.psn_no, "year": year, "insutype": c.insutype,
                                "employer_fen": c.employer_fen, "individual_fen": c.individual_fen,
                                "subsidy_fen": c.subsidy_fen, "sponsored_fen": c.sponsored_fen}
        elif c.insutype == vocab.EMPLOYEE:
            row["employer_fen"] += c.employer_fen
            row["individual_fen"] += c.individual_fen
    return [rows[k] for k in sorted(rows)]


# --- many spells (vectorised) ----------------------------------------------------------------------

def _validate_spells(df: pd.DataFrame) -> None:
    ids = df["spell_id"]
    insutype = df["insutype"].astype("string").to_numpy(dtype=object, na_value=None)
    emp = insutype == vocab.EMPLOYEE
    first_bad(~(emp | (insutype == vocab.RESIDENT)), ids, "insutype", "not 310 (职工) or 390 (居民)")
    first_bad(df["start_date"].isna().to_numpy(), ids, "start_date", "missing")
    start = day_numbers(df["start_date"])
    end = day_numbers(df["end_date"], open_value=OPEN_END)
    first_bad(end < start, ids, "end_date", "before start_date")
    base = pd.to_numeric(df["contribution_base_fen"], errors="coerce")
    first_bad(emp & (base.fillna(0).to_numpy() < 0), ids, "contribution_base_fen", "negative")
    # Retirees (退休/离休) may carry no base and no employer: they contribute only where a pack says so.
    working = emp & ~df["psn_type"].isin(list(RETIRED_TYPES)).to_numpy()
    first_bad(working & base.isna().to_numpy(), ids, "contribution_base_fen", "an employee spell needs a base")
    kind_ok = df["emp_kind"].isin(list(vocab.EMP_KINDS)).to_numpy()
    first_bad(working & ~kind_ok, ids, "emp_kind", f"not one of {sorted(vocab.EMP_KINDS)}")


def _employee_parts(df: pd.DataFrame, pack: Pack, year: int) -> tuple[np.ndarray, ...]:
    """Employer fen, individual fen and months due of each 310 row, month by month over the year."""
    n = len(df)
    start = day_numbers(df["start_date"])
    end = day_numbers(df["end_date"], open_value=OPEN_END)
    known = pd.to_numeric(df["contribution_base_fen"], errors="coerce")
    base = known.fillna(0).to_numpy(dtype=np.int64)
    flexible = (df["emp_kind"] == "flexible").to_numpy()
    retired = df["psn_type"].isin(list(RETIRED_TYPES)).to_numpy()
    _, lasts = month_bounds(year)
    employer, individual, months = (np.zeros(n, dtype=np.int64) for _ in range(3))
    for m, terms in enumerate(monthly_terms(pack, year)):
        due = (start <= lasts[m]) & (end >= lasts[m])
        if terms.retirees_exempt:
            pays = due & ~retired
        else:
            pays = due
            first_bad(due & known.isna().to_numpy(), df["spell_id"], "contribution_base_fen",
                      "retirees contribute under this pack, so their spell needs a base")
        clamped = np.clip(base, terms.floor_fen, terms.ceiling_fen)
        er = apply_rate_np(clamped, terms.employer_ppm, pack.rounding)
        ee = apply_rate_np(clamped, terms.employee_ppm, pack.rounding)
        fx = apply_rate_np(clamped, terms.flexible_ppm, pack.rounding)
        employer += np.where(pays & ~flexible, er, 0)
        individual += np.where(pays, np.where(flexible, fx, ee), 0)
        months += due
    return employer, individual, months


def _sponsored_ppm(df: pd.DataFrame, identities: pd.DataFrame, terms: ResidentTerms, year: int) -> np.ndarray:
    """The highest 资助参保 share (ppm) of each resident row, from identities in force during its year part."""
    out = np.zeros(len(df), dtype=np.int64)
    if len(identities) == 0 or len(df) == 0:
        return out
    bad = ~identities["identity"].isin(list(vocab.IDENTITIES)).to_numpy()
    first_bad(bad, identities["psn_no"], "identity", "not an identity category", what="person")
    firsts, lasts = month_bounds(year)
    rows = pd.DataFrame({
        "row": np.arange(len(df)),
        "psn_no": df["psn_no"].to_numpy(),
        "first": np.maximum(day_numbers(df["start_date"]), firsts[0]),
        "last": np.minimum(day_numbers(df["end_date"], open_value=OPEN_END), lasts[11]),
    })
    ids = pd.DataFrame({
        "psn_no": identities["psn_no"].to_numpy(),
        "share": identities["identity"].map(lambda k: terms.sponsored_ppm.get(k, 0)).to_numpy(dtype=np.int64),
        "i_start": day_numbers(identities["start_date"], open_value=-OPEN_END),
        "i_end": day_numbers(identities["end_date"], open_value=OPEN_END),
    })
    ids = ids[ids["share"] > 0]
    hit = rows.merge(ids, on="psn_no", how="inner")
    hit = hit[(hit["i_start"] <= hit["last"]) & (hit["i_end"] >= hit["first"])]
    best = hit.groupby("row")["share"].max()
    out[best.index.to_numpy()] = best.to_numpy()
    return out


def spell_contributions(enrollments: pd.DataFrame | pa.Table, identities: pd.DataFrame | pa.Table | None,
                        pack: Pack, year: int) -> pd.DataFrame:
    """What each spell owes for ``year`` (vectorised): the ``contributions`` columns plus spell_id and
    months, one row per spell that owes something in the year."""
    return _spell_frame(enrollments, identities, pack, year)[SPELL_OUTPUT_COLUMNS]


def _spell_frame(enrollments, identities, pack: Pack, year: int) -> pd.DataFrame:
    df = as_frame(enrollments, "enrollments", SPELL_COLUMNS).reset_index(drop=True)
    idf = (as_frame(identities, "identities", IDENTITY_COLUMNS) if identities is not None
           else pd.DataFrame(columns=list(IDENTITY_COLUMNS)))
    _validate_spells(df)
    emp_mask = (df["insutype"] == vocab.EMPLOYEE).to_numpy()
    psn_code = pd.factorize(df["psn_no"])[0]  # integer person keys: grouping on them is fast
    parts = []
    emp = df[emp_mask]
    if len(emp):
        er, ind, months = _employee_parts(emp, pack, year)
        parts.append(pd.DataFrame({
            "spell_id": emp["spell_id"].to_numpy(), "psn_no": emp["psn_no"].to_numpy(), "insutype": vocab.EMPLOYEE,
            "employer_fen": er, "individual_fen": ind, "subsidy_fen": 0, "sponsored_fen": 0, "months": months,
            "_start": day_numbers(emp["start_date"]), "_psn": psn_code[emp_mask],
        })[months > 0])
    res = df[~emp_mask]
    res_code = psn_code[~emp_mask]
    if len(res):
        firsts, lasts = month_bounds(year)
        start = day_numbers(res["start_date"])
        end = day_numbers(res["end_date"], open_value=OPEN_END)
        in_year = (start <= lasts[11]) & (end >= firsts[0])
        res, res_code = res[in_year], res_code[in_year]
    if len(res):
        terms = resident_terms(pack.at(dt.date(year, 1, 1)))
        share = _sponsored_ppm(res, idf, terms, year)
        sponsored = apply_rate_np(np.full(len(res), terms.individual_fee_fen, dtype=np.int64), share, pack.rounding)
        parts.append(pd.DataFrame({
            "spell_id": res["spell_id"].to_numpy(), "psn_no": res["psn_no"].to_numpy(), "insutype": vocab.RESIDENT,
            "employer_fen": np.zeros(len(res), dtype=np.int64),
            "individual_fen": terms.individual_fee_fen - sponsored,
            "subsidy_fen": np.full(len(res), terms.fiscal_subsidy_fen, dtype=np.int64),
            "sponsored_fen": sponsored, "months": 12, "_start": day_numbers(res["start_date"]),
            "_psn": res_code,
        }))
    extra = ["_start", "_psn"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*SPELL_OUTPUT_COLUMNS, *extra])
    out["year"] = year
    out = out[[*SPELL_OUTPUT_COLUMNS, *extra]]
    return out.astype({c: "int64" for c in ("employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen",
                                             "months", "_start", "_psn")} | {"year": "int16"})


def contributions_for_year(enrollments: pd.DataFrame | pa.Table, identities: pd.DataFrame | pa.Table | None,
                           pack: Pack, year: int) -> pd.DataFrame:
    """Contributions due for ``year`` in the lake ``contributions`` schema: one row per person and
    insutype — employee months summed over the person's spells, the resident fee once (earliest spell)."""
    spells = _spell_frame(enrollments, identities, pack, year)
    money = ["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"]
    resident = (spells["insutype"] == vocab.RESIDENT).to_numpy()
    res = spells[resident]
    order = np.lexsort((np.arange(len(res)), res["_start"].to_numpy(), res["_psn"].to_numpy()))
    code = res["_psn"].to_numpy()[order]
    res = res.iloc[order[np.r_[True, code[1:] != code[:-1]]] if len(res) else order]  # earliest spell per person
    emp = spells[~resident]
    first, sums = group_sum(emp["_psn"].to_numpy(), emp[money].to_numpy(dtype=np.int64))
    emp = pd.DataFrame({"psn_no": emp["psn_no"].to_numpy()[first], "year": year, "insutype": vocab.EMPLOYEE,
                        **{c: sums[:, i] for i, c in enumerate(money)}, "_psn": emp["_psn"].to_numpy()[first]})
    out = pd.concat([emp, res[[*OUTPUT_COLUMNS, "_psn"]]], ignore_index=True)
    order = np.lexsort((out["insutype"].to_numpy() != vocab.EMPLOYEE, out["_psn"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)  # by person (in input order), 310 before 390
    return out[list(OUTPUT_COLUMNS)].astype({c: "int64" for c in money} | {"year": "int16"})


def contributions_table(frame: pd.DataFrame) -> pa.Table:
    """A contributions frame as an Arrow table in the lake schema (for ``yibao.lake.io.write_table``)."""
    return pa.Table.from_pandas(frame[list(OUTPUT_COLUMNS)], schema=TABLES["contributions"], preserve_index=False)


@dataclass(frozen=True)
class PersonsBehind:
    """Persons behind a year's contribution rows. A person owes one row per scheme, so one who owes in
    both 职工 (310) and 居民 (390) counts in each scheme's persons: either a scheme switch during the
    year (spells one after the other: the employee months and the resident annual fee are both due),
    or spells of both schemes in force on the same day (重复参保, `yibao registry duplicates`). Some
    persons enrolled during the year owe nothing: a 职工 spell in force on no month's last day (月末在册),
    or a retiree where the pack exempts retirees."""

    year: int
    rows: int
    enrolled: int  # persons with a spell in force some day of the year
    owing: int
    switched: int
    concurrent: int

    @property
    def in_both(self) -> int:
        return self.switched + self.concurrent

    @property
    def message(self) -> str:
        text = f"{self.rows:,} rows for {self.owing:,} persons owing (of {self.enrolled:,} enrolled during {self.year})"
        if self.in_both:
            text += (f": {self.in_both:,} owe in both 310 and 390 — {self.switched:,} switched scheme during the "
                     f"year, {self.concurrent:,} were enrolled in both at once (重复参保: see `yibao registry "
                     "duplicates`)")
        if self.enrolled > self.owing:
            text += (f"; {self.enrolled - self.owing:,} owe nothing (in force on no month's last day, or retirees "
                     "exempt)")
        return text


def persons_behind(due: pd.DataFrame, enrollments: pd.DataFrame | pa.Table, year: int) -> PersonsBehind:
    """Count the persons behind ``due`` (rows of `contributions_for_year`) and sort those owing in both
    schemes into switches and concurrent enrolment, from their spells in force during ``year``."""
    spells = as_frame(enrollments, "enrollments", SPELL_COLUMNS)
    firsts, lasts = month_bounds(year)
    start = np.maximum(day_numbers(spells["start_date"]), firsts[0])
    end = np.minimum(day_numbers(spells["end_date"], open_value=OPEN_END), lasts[11])
    spans = pd.DataFrame({"psn_no": spells["psn_no"].to_numpy(), "insutype": spells["insutype"].to_numpy(),
                          "start": start, "end": end})[start <= end]
    schemes = due.groupby("psn_no", sort=False)["insutype"].nunique()
    both = spans[spans["psn_no"].isin(schemes.index[schemes.to_numpy() > 1])]
    pairs = both[both["insutype"] == vocab.EMPLOYEE].merge(both[both["insutype"] == vocab.RESIDENT],
                                                           on="psn_no", suffixes=("_e", "_r"))
    at_once = pairs[(pairs["start_e"] <= pairs["end_r"]) & (pairs["start_r"] <= pairs["end_e"])]["psn_no"].nunique()
    return PersonsBehind(year, len(due), spans["psn_no"].nunique(), len(schemes), both["psn_no"].nunique() - at_once,
                         at_once)


def due_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Contributions due by insutype (fen): the demo's and KPI pages' summary."""
    money = ["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"]
    out = frame.groupby("insutype")[money].sum()
    out["persons"] = frame.groupby("insutype")["psn_no"].nunique()
    out["total_fen"] = out[money].sum(axis=1)
    return out.reset_index()


__all__ = [
    "EmployeeTerms", "PersonsBehind", "ResidentTerms", "SpellContribution", "SubsidyRatioCheck", "clamp_base",
    "contributions_for_year", "contributions_table", "due_totals", "employee_month", "employee_terms",
    "monthly_terms", "person_contributions", "persons_behind", "resident_terms", "spell_contribution",
    "spell_contributions", "sponsored_share_ppm", "subsidy_ratio_check",
]
