"""What a change does to a request beyond its state: due dates, clock stops, transfers.

Pure: the deciding desk computes an ``Outcome`` here and sends it along with the
event, so every copy of the request ends up with the same due date.

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
from dataclasses import dataclass, replace
from typing import Any

from protocol.errors import ErrorCode
from protocol.v1 import events
from services.desk.domain import calendar, lifecycle
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import State, Transition

TRANSFER_MIN_DAYS = 5
CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def china_date(at: dt.datetime) -> dt.date:
    """The calendar day in China at instant ``at``: deadlines count in China's days."""
    return at.astimezone(CHINA).date()


@dataclass(frozen=True)
class Snapshot:
    """The facts of a request that changes read and write."""

    state: State
    recipient: str
    due_date: dt.date
    pending_due_date: dt.date | None = None
    clock_stopped_on: dt.date | None = None
    transferred_from: tuple[str, ...] = ()
    reply: dict[str, Any] | None = None
    rating: int | None = None


def decide(
    before: Snapshot, transition: Transition, change: events.Change | None, today: dt.date
) -> Snapshot:
    """The request after ``transition`` on ``today`` (China time); Refused if not allowed."""
    try:
        after = replace(before, state=lifecycle.apply(before.state, transition))
    except lifecycle.IllegalTransition as exc:
        raise Refused(ErrorCode.ILLEGAL_TRANSITION, str(exc)) from None
    return _effects(before, after, change, today)


def _effects(
    before: Snapshot, after: Snapshot, change: events.Change | None, today: dt.date
) -> Snapshot:
    match change:
        case events.Accepted(proposed_due_date=proposed) if proposed is not None:
            if proposed <= today:
                raise Refused(ErrorCode.VALIDATION_FAILED, "a proposed due date must be later")
            return replace(after, pending_due_date=proposed)
        case events.InfoRequested():
            return replace(after, clock_stopped_on=today)
        case events.InfoProvided():
            stopped = before.clock_stopped_on or today
            due = calendar.extend(before.due_date, stopped, today)
            return replace(after, due_date=due, clock_stopped_on=None)
        case events.Transferred(to=to):
            return _transferred(before, after, to, today)
        case events.PartiallyReplied(reply=reply) | events.Replied(reply=reply):
            return replace(after, reply=reply.model_dump(mode="json"))
        case events.Closed(rating=rating):
            return replace(after, rating=rating)
        case events.DueDateAgreed() | events.DueDateRefused():
            if before.pending_due_date is None:
                raise Refused(ErrorCode.ILLEGAL_TRANSITION, "no due date was proposed")
            agreed = isinstance(change, events.DueDateAgreed)
            due = before.pending_due_date if agreed else before.due_date
            return replace(after, due_date=due, pending_due_date=None)
    return after


def _transferred(before: Snapshot, after: Snapshot, to: str, today: dt.date) -> Snapshot:
    if to == before.recipient or to in before.transferred_from:
        raise Refused(ErrorCode.VALIDATION_FAILED, "transfer to a bureau that had it already")
    remaining = calendar.working_days_between(today, before.due_date)
    due = before.due_date
    if remaining < TRANSFER_MIN_DAYS:
        due = calendar.add_working_days(today, TRANSFER_MIN_DAYS)
    return replace(after, recipient=to, due_date=due, pending_due_date=None,
                   transferred_from=(*before.transferred_from, before.recipient))


def is_overdue(state: str, due: dt.date, today: dt.date) -> bool:
    """Running (not waiting for information, not answered) past its due date."""
    return state in lifecycle.RUNNING and today > due
