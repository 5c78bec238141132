"""The rule kinds: each a :class:`~yibao.supervision.common.Kind` with its parameters, its Ibis
query over a year and its check of one claim. ``KINDS`` by name; ``PARAMS`` their parameter specs
(what the rule loader checks ``params`` against)."""

from __future__ import annotations

from yibao.supervision.coding import Upcoding
from yibao.supervision.common import Kind
from yibao.supervision.counts import Duplicate, Frequency, LosUnits, Pair
from yibao.supervision.history import Course, Interval, Oversupply, PeriodCount, RepeatDrug
from yibao.supervision.items import (Age, Diagnosis, Level, OutOfCatalog, PriceCap, Scheme, Setting, Sex,
                                           Unsupported)
from yibao.supervision.stays import AfterDeath, BedHanging, Overlap, SplitStay

KINDS: dict[str, Kind] = {k.name: k for k in (
    Sex(), Age(), Diagnosis(), Level(), Setting(), Scheme(), PriceCap(), OutOfCatalog(), Unsupported(),
    Frequency(), LosUnits(), Duplicate(), Pair(),
    PeriodCount(), Course(), Interval(), RepeatDrug(), Oversupply(),
    SplitStay(), BedHanging(), Overlap(), AfterDeath(), Upcoding(),
)}
PARAMS = {name: kind.params for name, kind in KINDS.items()}

__all__ = ["KINDS", "Kind", "PARAMS"]
