"""Working days (工作日) for the statutory deadlines: Monday to Friday.

Public holidays and their make-up working days (调休) are not in the calendar: a region that needs them
passes its own ``holidays`` (dates that are not working days). Without them a deadline that spans 春节 or
国庆 falls earlier than the law's, never later, so a case is never let run past its real deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Collection

_ONE_DAY = dt.timedelta(days=1)


def is_working_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: dt.date, days: int, holidays: Collection[dt.date] = ()) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted): the last day a
    step due "within N working days of start" may be taken."""
    if days < 0:
        raise ValueError(f"working days to add must be ≥ 0, got {days}")
    day = start
    for _ in range(days):
        day += _ONE_DAY
        while not is_working_day(day, holidays):
            day += _ONE_DAY
    return day


__all__ = ["add_working_days", "is_working_day"]
