"""Working days of the official Chinese calendar, for turnarounds counted at the hub.

The same calendar as the desks' deadlines (``chinese-calendar``: public holidays off,
adjusted working weekends on; Monday to Friday for years the package does not cover yet).
The hub keeps its own copy because services never import each other; a unit test keeps
the two equal. Counting a turnaround is a few look-ups in per-year running totals, so
the history loader can afford one per simulated reply.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from chinese_calendar.constants import holidays, workdays

_DAY = dt.timedelta(days=1)


def _covered(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=256)
def _running(year: int) -> tuple[int, ...]:
    """Working days of ``year`` up to and including each of its days."""
    # the package's own look-up re-checks its range on every call: once a year is enough
    official = _covered(year)
    day, seen, out = dt.date(year, 1, 1), 0, []
    while day.year == year:
        if official:
            seen += day in workdays or (day.weekday() < 5 and day not in holidays)
        else:  # a year without official data: Monday to Friday
            seen += day.weekday() < 5
        out.append(seen)
        day += _DAY
    return tuple(out)


def _upto(day: dt.date) -> int:
    """Working days from 1 January of ``day``'s year to ``day`` (inclusive)."""
    return _running(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Number of working days d with a < d <= b (0 if b <= a), as the desks count."""
    if b <= a:
        return 0
    whole_years = sum(_running(y)[-1] for y in range(a.year, b.year))
    return whole_years + _upto(b) - _upto(a)
