"""The shapes both speeds share: a claim as the real-time check sees it, its lines, the person's
history, the raw row a rule finds (:class:`Finding`) and the hit it becomes (:class:`Hit`).

A claim is checked with the person's earlier claims as ``history``: earlier means admitted before it
(``(adm_date, claim_id)`` order), because the national interface registers a stay at admission
(2401), so a real-time check knows a stay still running. A violation made of two claims (a
readmission, a visit during a stay) is therefore found on the later one, in batch as in real time.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import NamedTuple

from yibao import vocab
from yibao.errors import ValidationError

EPOCH = dt.date(1970, 1, 1).toordinal()
STAY_MED_TYPES = vocab.INPATIENT_MED_TYPES


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01 (DuckDB's ``epoch_days``): windows are integer arithmetic in both speeds."""
    return d.toordinal() - EPOCH


def whole_years(born: dt.date | None, on: dt.date) -> int | None:
    """Completed years of age on a date (None when the birth date is unknown)."""
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def base_code(item_code: str) -> str:
    """The 9-digit parent price-list code of an item (``110900001a`` → ``110900001``)."""
    return item_code[:9]


@dataclass(frozen=True)
class Line:
    """One 费用明细 line; money in fen."""

    line_no: int
    item_code: str
    kind: str  # drug / service / consumable
    service_date: dt.date
    qty: float
    price_fen: int
    amount_fen: int

    @functools.cached_property
    def day(self) -> int:
        return day_number(self.service_date)

    @functools.cached_property
    def base(self) -> str:
        return base_code(self.item_code)


@dataclass(frozen=True)
class Claim:
    """A claim with what the rules need of its person (sex, birth and death dates) and of its
    institution (level "3" / "2" / "1" / "0"); diagnoses and procedures principal first."""

    claim_id: str
    psn_no: str
    fixmedins_code: str
    insutype: str
    med_type: str
    adm_date: dt.date
    dscg_date: dt.date
    medfee_sumamt_fen: int
    diagnoses: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    los: int | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    death_date: dt.date | None = None
    level: str | None = None

    def __post_init__(self):
        if self.dscg_date < self.adm_date:
            raise ValidationError("dscg_date", f"{self.dscg_date} is before adm_date {self.adm_date}", self.claim_id)

    @functools.cached_property
    def is_stay(self) -> bool:
        return self.med_type in STAY_MED_TYPES

    @functools.cached_property
    def adm(self) -> int:
        return day_number(self.adm_date)

    @functools.cached_property
    def dscg(self) -> int:
        return day_number(self.dscg_date)

    @functools.cached_property
    def age(self) -> int | None:
        return whole_years(self.birth_date, self.adm_date)

    @functools.cached_property
    def stay_days(self) -> int:
        """Days a stay may bill by the day: its length of stay, at least 1 (a visit: 1)."""
        if not self.is_stay:
            return 1
        los = self.los if self.los is not None else self.dscg - self.adm
        return max(1, los)

    @functools.cached_property
    def level_int(self) -> int | None:
        return int(self.level) if self.level and self.level.isdigit() else None

    @property
    def order(self) -> tuple[int, str]:
        return (self.adm, self.claim_id)


@dataclass(frozen=True)
class Visit:
    """A claim with its lines: one entry of a person's history."""

    claim: Claim
    lines: tuple[Line, ...] = ()


class Finding(NamedTuple):
    """What a rule finds, the same row from the Ibis query and from the per-claim check."""

    claim_id: str
    line_nos: tuple[int, ...]
    item_code: str | None
    observed: float | None
    limit: float | None
    vola_amt: int
    ref_claim_id: str | None
    detail: str | None = None  # JSON of a kind's own evidence, merged into ``vola_evid``


@dataclass(frozen=True)
class Hit:
    """A rule hit: the claim, the rule, the text (``vola_cont``), the fen at stake (``vola_amt``), the
    evidence (``vola_evid``: the lines and history claims that made it) and the rule's citation."""

    claim_id: str
    rule_id: str
    rule_name: str
    kind: str
    sev_deg: int
    vola_cont: str
    vola_amt: int
    vola_evid: dict = field(hash=False, compare=False)
    ref: str
    related_claim_id: str | None = None

    def key(self) -> tuple:
        """What two speeds must agree on."""
        return (self.claim_id, self.rule_id, tuple(self.vola_evid.get("lines", ())), self.vola_amt,
                self.related_claim_id, self.vola_evid.get("item_code"))


def half_up(x: float) -> int:
    """Round to the fen, half up (the batch query writes the same ``floor(x + 0.5)``)."""
    import math

    return int(math.floor(x + 0.5))


__all__ = ["Claim", "Finding", "Hit", "Line", "Visit", "base_code", "day_number", "half_up", "whole_years"]
