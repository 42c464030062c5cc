"""Deadlines counted in working days of the official Chinese calendar (``protocol.workdays``,
the days the hub counts turnarounds in too).

Pure: no I/O and no clock reads; "today" is always a parameter. A deadline that rests
on a year the calendar package does not cover yet counts Monday to Friday there and is
marked provisional; the State Council publishes the next year's holidays around
November, and upgrading the package makes them official.

Known limitation of the fallback: public holidays of uncovered years are
unknown, so e.g. New Year's Day 2027 (a Friday) counts as a working day until
the package covers 2027.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from protocol.v1.content import RequestKind
from protocol.workdays import add_working_days, is_covered, working_days_between

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


@dataclass(frozen=True)
class Deadline:
    due: dt.date
    provisional: bool
    """True when a day counted lies in a year without official data (Mon-Fri fallback)."""


def due_date(created_on: dt.date, limit_days: int) -> Deadline:
    """Due date of a request created on ``created_on`` with ``limit_days`` working days."""
    due = add_working_days(created_on, limit_days)
    first = created_on if limit_days == 0 else created_on + _DAY
    provisional = not all(is_covered(dt.date(y, 1, 1)) for y in range(first.year, due.year + 1))
    return Deadline(due, provisional)


def extend(due: dt.date, stopped_on: dt.date, resumed_on: dt.date) -> dt.date:
    """Due date after the clock stopped on ``stopped_on`` and resumed on ``resumed_on``: moved
    by the working days in between. A stop spanning no working day leaves ``due`` unchanged."""
    stopped = working_days_between(stopped_on, resumed_on)
    return add_working_days(due, stopped) if stopped else due
