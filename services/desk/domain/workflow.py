"""Deadline rules of a request beyond its state: China's days, clock stops, transfers.

Pure. The deciding desk applies them (``request.Request.decide``) and sends the outcome
along with the event, so every copy of the request ends up with the same due date.

Deadline rules (documented in the README):
- the due date is counted in working days of the official calendar from creation;
- while the recipient waits for information the clock stops; when it comes, the due
  date moves on by the working days the clock stood still;
- an agreed (proposed and accepted) due date replaces the current one;
- a transfer keeps the due date if at least ``TRANSFER_MIN_DAYS`` working days remain
  for the new recipient, else gives it that many working days from the transfer.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from protocol import workdays
from services.desk.domain import calendar, lifecycle

TRANSFER_MIN_DAYS = 5
CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def china_date(at: dt.datetime) -> dt.date:
    """The calendar day in China at instant ``at``: deadlines count in China's days."""
    return at.astimezone(CHINA).date()


def extend_for_stop(due: dt.date, stopped_on: dt.date, today: dt.date) -> dt.date:
    """The due date after the clock stood still from ``stopped_on`` to ``today``."""
    return calendar.extend(due, stopped_on, today)


def due_after_transfer(due: dt.date, today: dt.date) -> dt.date:
    """Keep ``due`` if the new recipient has ``TRANSFER_MIN_DAYS`` left, else give it those."""
    if workdays.working_days_between(today, due) < TRANSFER_MIN_DAYS:
        return workdays.add_working_days(today, TRANSFER_MIN_DAYS)
    return due


def is_overdue(state: str, due: dt.date, today: dt.date) -> bool:
    """Running (not waiting for information, not answered) past its due date."""
    return state in lifecycle.RUNNING and today > due
