"""Deadlines counted in working days by the official Chinese calendar.

Pure: no I/O and no clock reads; "today" is always a parameter. Working days
come from the ``chinese_calendar`` package, which knows each year's public
holidays and the adjusted working weekend days (调休) published by the State
Council. It covers a fixed range of years (2004..2026 in version 1.11.0) and
raises NotImplementedError outside it. For years it does not cover this module
falls back to Monday-Friday and marks deadlines that depend on such days as
provisional; the State Council publishes the next year's holidays around
November, and upgrading the package makes them official.

Known limitation of the fallback: public holidays of uncovered years are
unknown, so e.g. New Year's Day 2027 (a Friday) counts as a working day until
the package covers 2027.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import chinese_calendar

from protocol.v1.content import RequestKind

_DAY = dt.timedelta(days=1)

DEFAULT_LIMITS: Mapping[str, int] = MappingProxyType({
    RequestKind.MERCHANT_REGISTRATION: 5,
    RequestKind.COMPLAINANT_IDENTITY: 5,
    RequestKind.DOCUMENT_SERVICE: 10,
    RequestKind.EVIDENCE_COLLECTION: 15,
    RequestKind.CASE_LEAD_TRANSFER: 10,
})
"""Default time limit, in working days, per request kind (keys are the kinds' string values).
Read-only data: callers with other limits pass their own number to ``due_date``."""


@lru_cache(maxsize=64)
def _year_covered(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_covered(day: dt.date) -> bool:
    """Whether official holiday data exists for ``day``'s year."""
    return _year_covered(day.year)


@lru_cache(maxsize=8192)
def is_working_day(day: dt.date) -> bool:
    """Official working day where covered (holidays off, 调休 weekends on); else Mon-Fri."""
    if _year_covered(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start``; for n == 0, ``start`` itself if it is a working
    day, else the next working day."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    day = start
    if n == 0:
        while not is_working_day(day):
            day += _DAY
        return day
    while n:
        day += _DAY
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Number of working days d with a < d <= b (0 if b <= a)."""
    return sum(is_working_day(a + k * _DAY) for k in range(1, (b - a).days + 1))


@dataclass(frozen=True)
class Deadline:
    due: dt.date
    provisional: bool
    """True when a day counted lies in a year without official data (Mon-Fri fallback)."""


def due_date(created_on: dt.date, limit_days: int) -> Deadline:
    """Due date of a request created on ``created_on`` with ``limit_days`` working days."""
    due = add_working_days(created_on, limit_days)
    first = created_on if limit_days == 0 else created_on + _DAY
    provisional = not all(_year_covered(y) for y in range(first.year, due.year + 1))
    return Deadline(due, provisional)


def extend(due: dt.date, stopped_on: dt.date, resumed_on: dt.date) -> dt.date:
    """Due date after the clock stopped on ``stopped_on`` and resumed on ``resumed_on``: moved
    by the working days in between. A stop spanning no working day leaves ``due`` unchanged."""
    stopped = working_days_between(stopped_on, resumed_on)
    return add_working_days(due, stopped) if stopped else due
