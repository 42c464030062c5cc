"""Working days of the official Chinese calendar: the days both sides count.

A desk sets deadlines in working days and the hub counts turnarounds in them, so both
read this one calendar. Days come from the ``chinese_calendar`` package (public holidays
off, adjusted working weekends 调休 on, as the State Council publishes them). It covers a
fixed range of years (2004..2026 in version 1.11.0); for a year outside it, Monday to
Friday count and the day is not ``is_covered``, so a deadline resting on it is marked
provisional until an upgraded package knows that year's holidays.

Pure: no I/O and no clock reads. Counting is a few look-ups in per-year running totals,
so the hub's history loader can afford one count per simulated reply.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from chinese_calendar.constants import holidays, workdays

_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=256)
def _year_covered(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_covered(day: dt.date) -> bool:
    """Whether official holiday data exists for ``day``'s year."""
    return _year_covered(day.year)


def is_working_day(day: dt.date) -> bool:
    """Official working day where covered (holidays off, 调休 weekends on); else Mon-Fri."""
    if _year_covered(day.year):
        # the package's tables, not its is_workday: that re-checks its range on every call
        return day in workdays or (day.weekday() < 5 and day not in holidays)
    return day.weekday() < 5


@lru_cache(maxsize=256)
def _running(year: int) -> tuple[int, ...]:
    """Working days of ``year`` up to and including each of its days."""
    day, seen, out = dt.date(year, 1, 1), 0, []
    while day.year == year:
        seen += is_working_day(day)
        out.append(seen)
        day += _DAY
    return tuple(out)


def _upto(day: dt.date) -> int:
    """Working days from 1 January of ``day``'s year to ``day`` (inclusive)."""
    return _running(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Number of working days d with a < d <= b (0 if b <= a)."""
    if b <= a:
        return 0
    whole_years = sum(_running(y)[-1] for y in range(a.year, b.year))
    return whole_years + _upto(b) - _upto(a)


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
