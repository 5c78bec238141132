"""Personal accounts (个人账户) of 职工医保 members: monthly accrual and 家庭共济.

Accrual (划入), per 国办发〔2021〕14号: an active member (在职, psn_type 11) receives each month a share
of their own contribution base (the base as clamped for contributions); a retiree (退休 12 / 离休 13)
a fixed monthly amount by age band (e.g. 100 元 under 70, 110 元 from 70). A month accrues when the
spell is in force on the month's last day (the same roll as contributions); the age band counts from
the month the person reaches the age; parameters are those in force on the month's first day.
Residents (390) have no personal account.

家庭共济: when the pack allows it, a member's account may pay the personal burden of a family
member who shares the household.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yibao import vocab
from yibao.errors import ValidationError
from yibao.money import Rounding, apply_rate, apply_rate_np, rate_to_ppm
from yibao.policy import Citation, Pack, Params
from yibao.registry._frames import (
    OPEN_END, as_frame, day_number, day_numbers, first_bad, group_sum, month_bounds,
)
from yibao.registry.contributions import RETIRED_TYPES, EmployeeTerms, clamp_base, employee_terms

ACCRUAL_COLUMNS = ["psn_no", "month", "amount_fen"]
SPELL_COLUMNS = ("spell_id", "psn_no", "insutype", "psn_type", "emp_kind", "start_date", "end_date",
                 "contribution_base_fen")


@dataclass(frozen=True)
class AccrualTerms:
    """Account terms in force in one month: the active share and the retirees' age bands."""

    active_ppm: int
    flexible_accrue: bool
    band_ages: tuple[int, ...]  # ascending lower bounds of the age bands
    band_amounts_fen: tuple[int, ...]
    base: EmployeeTerms  # floor and ceiling of the contribution base


def accrual_terms(params: Params, rounding: Rounding) -> AccrualTerms:
    a = params.node("account")
    bands = sorted(a["retiree_monthly"], key=lambda row: row["from_age"])
    if not bands or bands[0]["from_age"] != 0:
        raise ValidationError("account.retiree_monthly", "age bands must start at from_age 0",
                              record=f"pack {params.pack.name} on {params.date}")
    return AccrualTerms(rate_to_ppm(a["active_share_of_base"]), bool(a["flexible_workers_accrue"]),
                        tuple(int(b["from_age"]) for b in bands), tuple(int(b["amount"]) for b in bands),
                        employee_terms(params, rounding))


def age_at_month_end(birth: dt.date, year: int, month: int) -> int:
    """Completed years at the end of ``month`` (the band applies from the month the age is reached)."""
    return year - birth.year - (month < birth.month)


def retiree_amount(age: int, terms: AccrualTerms) -> int:
    i = int(np.searchsorted(np.array(terms.band_ages), age, side="right")) - 1
    return terms.band_amounts_fen[max(i, 0)]


def monthly_accrual(spell: Mapping[str, Any], birth_date: dt.date | None, terms: AccrualTerms, year: int,
                    month: int, rounding: Rounding) -> int:
    """The accrual (fen) of one 310 spell in force at the end of ``month`` (scalar form)."""
    psn_type = str(spell.get("psn_type"))
    rec = f"spell {spell.get('spell_id')}"
    if psn_type in RETIRED_TYPES:
        if birth_date is None:
            raise ValidationError("birth_date", "a retiree's accrual needs the birth date", record=rec)
        return retiree_amount(age_at_month_end(birth_date, year, month), terms)
    if psn_type != vocab.ACTIVE:
        raise ValidationError("psn_type", f"{psn_type!r} is not an employee type (11/12/13)", record=rec)
    if spell.get("emp_kind") == "flexible" and not terms.flexible_accrue:
        return 0
    return apply_rate(clamp_base(int(spell["contribution_base_fen"]), terms.base), terms.active_ppm, rounding)


def _terms_by_month(pack: Pack, year: int) -> list[AccrualTerms]:
    return [accrual_terms(pack.at(dt.date(year, m, 1)), pack.rounding) for m in range(1, 13)]


def spell_accruals(spell: Mapping[str, Any], birth_date: dt.date | None, pack: Pack, year: int) -> list[int]:
    """Twelve monthly accruals (fen) of one spell for ``year`` (0 where the spell is not in force)."""
    if str(spell.get("insutype")) != vocab.EMPLOYEE:
        return [0] * 12
    start = day_number(spell["start_date"])
    end = day_number(spell.get("end_date"), open_value=OPEN_END)
    _, lasts = month_bounds(year)
    return [monthly_accrual(spell, birth_date, t, year, m + 1, pack.rounding) if start <= lasts[m] <= end else 0
            for m, t in enumerate(_terms_by_month(pack, year))]


def account_accruals_for_year(enrollments: pd.DataFrame | pa.Table, persons: pd.DataFrame | pa.Table, pack: Pack,
                              year: int) -> pd.DataFrame:
    """Monthly accruals of every 职工医保 spell for ``year`` (vectorised): psn_no, month (1–12), amount_fen,
    summed per person and month; months with nothing to accrue are left out."""
    df = as_frame(enrollments, "enrollments", SPELL_COLUMNS)
    df = df[(df["insutype"] == vocab.EMPLOYEE).to_numpy()].reset_index(drop=True)
    people = as_frame(persons, "persons", ("psn_no", "birth_date"))
    first_bad(people["psn_no"].duplicated().to_numpy(), people["psn_no"], "psn_no", "listed twice", what="person")
    births = pd.to_datetime(people.set_index("psn_no")["birth_date"].reindex(df["psn_no"].to_numpy()))
    base = pd.to_numeric(df["contribution_base_fen"], errors="coerce")
    spells = _Spells(df["psn_type"].to_numpy(dtype=object), (df["emp_kind"] == "flexible").to_numpy(),
                     base.fillna(0).to_numpy(dtype=np.int64), base.isna().to_numpy(),
                     births.to_numpy(dtype="datetime64[D]"), day_numbers(df["start_date"]),
                     day_numbers(df["end_date"], open_value=OPEN_END), df["spell_id"])
    psn_code, psn_names = pd.factorize(df["psn_no"])
    keys, amounts = [], []
    for m, keep, amount in spells.monthly(pack, year):
        keys.append(psn_code[keep].astype(np.int64) * 12 + m)
        amounts.append(amount[keep])
    key = np.concatenate(keys)
    first, sums = group_sum(key, np.concatenate(amounts))  # per person and month
    key = key[first]
    return pd.DataFrame({"psn_no": np.asarray(psn_names, dtype=object)[key // 12],
                         "month": (key % 12 + 1).astype(np.int8), "amount_fen": sums[:, 0]})


def account_accrual_totals(enrollments: pa.Table, psn_no: pa.Array, birth: np.ndarray, pack: Pack,
                           year: int) -> np.ndarray:
    """The year's accruals (fen) of each person of ``psn_no`` (distinct; ``birth`` their birth dates as
    datetime64[D]): :func:`account_accruals_for_year` summed per person, computed on the Arrow columns
    without a frame (a region's million persons). Spells of persons not listed add nothing."""
    missing = [c for c in SPELL_COLUMNS if c not in enrollments.column_names]
    if missing:
        raise ValidationError(", ".join(missing), "missing column(s) in enrollments", record="enrollments")
    e = enrollments.filter(pc.equal(enrollments["insutype"], vocab.EMPLOYEE))
    person = pc.index_in(e["psn_no"], value_set=psn_no).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    births = np.where(person >= 0, birth[np.maximum(person, 0)] if len(birth) else np.datetime64("NaT"),
                      np.datetime64("NaT")).astype("datetime64[D]")
    base = e["contribution_base_fen"]
    spells = _Spells(e["psn_type"].to_numpy(zero_copy_only=False).astype(object),
                     pc.fill_null(pc.equal(e["emp_kind"], "flexible"), False).to_numpy(zero_copy_only=False),
                     base.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64),
                     base.is_null().to_numpy(zero_copy_only=False), births, _day_numbers(e["start_date"], -1),
                     _day_numbers(e["end_date"], OPEN_END), e["spell_id"])
    total = np.zeros(len(person), dtype=np.int64)
    for _, keep, amount in spells.monthly(pack, year):
        total += np.where(keep, amount, 0)
    out = np.zeros(len(psn_no), dtype=np.int64)
    listed = person >= 0
    np.add.at(out, person[listed], total[listed])
    return out


def _day_numbers(dates: pa.ChunkedArray, missing: int) -> np.ndarray:
    """Arrow dates → int64 days since 1970-01-01, nulls as ``missing``."""
    days = pc.fill_null(pc.cast(pc.cast(dates, pa.date32()), pa.int32()), missing)
    return days.to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class _Spells:
    """The 职工医保 spells of a year's accrual as arrays, checked on construction."""

    psn_type: np.ndarray
    flexible: np.ndarray
    base: np.ndarray
    no_base: np.ndarray
    birth: np.ndarray  # datetime64[D], NaT when unknown
    start: np.ndarray  # day numbers
    end: np.ndarray
    spell_id: Any  # for naming a bad record

    def __post_init__(self) -> None:
        kind = pd.Series(self.psn_type)
        self.retired = kind.isin(list(RETIRED_TYPES)).to_numpy()
        active = (kind == vocab.ACTIVE).to_numpy()
        for bad, field, problem in ((~(self.retired | active), "psn_type", "not an employee type (11/12/13)"),
                                    (self.retired & np.isnat(self.birth), "birth_date",
                                     "a retiree's accrual needs the birth date"),
                                    (active & self.no_base, "contribution_base_fen", "an active member needs a base")):
            if bad.any():
                first_bad(bad, pd.Series(np.asarray(self.spell_id, dtype=object)), field, problem)

    def monthly(self, pack: Pack, year: int):
        """(month index 0–11, the spells accruing that month, their amounts) for each month of ``year``."""
        known = ~np.isnat(self.birth)
        birth_year = np.where(known, self.birth.astype("datetime64[Y]").astype(np.int64) + 1970, 0)
        birth_month = np.where(known, self.birth.astype("datetime64[M]").astype(np.int64) % 12 + 1, 0)
        _, lasts = month_bounds(year)
        for m, t in enumerate(_terms_by_month(pack, year)):
            due = (self.start <= lasts[m]) & (self.end >= lasts[m])
            share = apply_rate_np(np.clip(self.base, t.base.floor_fen, t.base.ceiling_fen), t.active_ppm, pack.rounding)
            if not t.flexible_accrue:
                share = np.where(self.flexible, 0, share)
            age = year - birth_year - (m + 1 < birth_month)
            band = np.searchsorted(np.array(t.band_ages), age, side="right") - 1
            fixed = np.array(t.band_amounts_fen, dtype=np.int64)[np.maximum(band, 0)]
            amount = np.where(self.retired, fixed, share)
            yield m, due & (amount > 0), amount


# --- 家庭共济 ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MutualAidDecision:
    """Whether ``owner``'s account may pay ``beneficiary``'s personal burden, and why."""

    allowed: bool
    reason: str
    citation: Citation | None = None


def family_mutual_aid(pack: Pack, on: dt.date, owner: Mapping[str, Any], beneficiary: Mapping[str, Any]
                      ) -> MutualAidDecision:
    """家庭共济: the pack's ``account.family_mutual_aid`` on ``on`` and a shared household decide."""
    if owner.get("psn_no") == beneficiary.get("psn_no"):
        return MutualAidDecision(True, "own account")
    cite = pack.at(on).cite("account.family_mutual_aid")
    if not cite.value:
        return MutualAidDecision(False, f"pack {pack.name} does not allow 家庭共济 on {on}", cite)
    home, other = owner.get("household_id"), beneficiary.get("household_id")
    if not home or not other or home != other:
        return MutualAidDecision(
            False, f"{owner.get('psn_no')} (household {home or 'none'}) and {beneficiary.get('psn_no')} "
                   f"(household {other or 'none'}) do not share a household", cite)
    return MutualAidDecision(True, f"same household {home}; 家庭共济 allowed", cite)


__all__ = [
    "AccrualTerms", "MutualAidDecision", "account_accrual_totals", "account_accruals_for_year", "accrual_terms",
    "age_at_month_end",
    "family_mutual_aid", "monthly_accrual", "retiree_amount", "spell_accruals",
]
