"""What one event adds to the statistics: pure, shared by live counting and the history loader.

An event adds ``n`` to a (scope, metric) counter in each of its scopes, on the China
day it happened. Scopes: ``all``; ``req:<bureau>``/``rcp:<bureau>`` and
``reqp:<province>``/``rcpp:<province>`` by role; ``flow:<from>><to>`` between provinces;
``kind:<kind>`` when the desk told the kind. Flows and kinds are read by month and all
time only, so they have no daily rows.

What an event adds beyond its own count:
- a reply: the on-time count, the turnaround in calendar days (sum) and one bucket of the
  histogram of whole working days (``wd:<days>``), so medians and percentiles are exact
  without keeping requests; when its due date was agreed, the agreed and answered-by-it
  counts;
- an acceptance more than 7 days after creation (``accepted_after_7d``), or one that
  does not tell its days (``accepted_untimed``, older desks): the rest were within 7;
- a closing with a rating: its bucket (``rating:<1-5>``), whose counts give the average;
- the overdue gauge ``overdue_now``: +1 on the day the deadline watch marked a request
  overdue, -1 on that same day once it is replied, rejected, withdrawn or transferred
  (``overdue_delta``), so every period sums to the requests it marked still overdue.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Protocol

from protocol.workdays import working_days_between

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")
TAT_CAP = 250
"""Turnarounds of 250 working days (a year) or more share the last histogram bucket."""
ACCEPT_DAYS = 7
"""An acceptance this many calendar days after creation or sooner is 'within 7 days'."""

Increment = tuple[str, str, int]
"""(scope, metric, amount)"""


class Countable(Protocol):
    """What counting reads of an event: a live ``EventRecordedBody`` or a simulated one."""

    @property
    def event_type(self) -> str: ...
    @property
    def requester(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def kind(self) -> str | None: ...
    @property
    def count(self) -> int: ...
    @property
    def on_time(self) -> bool | None: ...
    @property
    def turnaround_days(self) -> int | None: ...
    @property
    def due_date_agreed(self) -> bool | None: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def overdue(self) -> bool | None: ...


class Counted(Countable, Protocol):
    """An event with the ids the hub records it by (live: uuids; history: hex strings)."""

    @property
    def event_id(self) -> uuid.UUID | str: ...
    @property
    def request_id(self) -> uuid.UUID | str: ...


@lru_cache(maxsize=4096)  # a history has a few thousand distinct instants, not a million
def china_day(at: dt.datetime) -> dt.date:
    return at.astimezone(CHINA).date()


def scopes(body: Countable) -> list[str]:
    """The scopes an event counts in; 'all' first (the lock order of live counting)."""
    return scopes_of(body.requester, body.recipient, body.kind)


def scopes_of(req: str, rcp: str, kind: str | None) -> list[str]:
    out = ["all", f"req:{req}", f"rcp:{rcp}", f"reqp:{req[:2]}", f"rcpp:{rcp[:2]}",
           f"flow:{req[:2]}>{rcp[:2]}"]
    if kind is not None:
        out.append(f"kind:{kind}")
    return out


def by_day(scope: str) -> bool:
    """Whether ``scope`` has daily counters (flows and kinds are read by month only)."""
    return not scope.startswith(("flow:", "kind:"))


def metrics(body: Countable) -> list[tuple[str, int]]:
    """What one event adds (see the module's docstring), the overdue gauge aside."""
    # an 'item_answered' event stands for ``count`` answered items of a bulk request
    n = body.count if body.event_type == "item_answered" else 1
    out: list[tuple[str, int]] = [(body.event_type, n)]
    days = body.turnaround_days
    if body.event_type == "replied":
        out += _reply(body, days or 0)
    elif body.event_type == "accepted":
        # the rare cases only (few rows): within 7 days = accepted - untimed - after
        if days is None:
            out.append(("accepted_untimed", 1))
        elif days > ACCEPT_DAYS:
            out.append(("accepted_after_7d", 1))
    elif body.event_type == "closed" and body.rating is not None:
        out.append((f"rating:{body.rating}", 1))
    return out


def _reply(body: Countable, days: int) -> list[tuple[str, int]]:
    answered_on = china_day(body.occurred_at)
    working = working_days_between(answered_on - dt.timedelta(days=days), answered_on)
    out = [("replied_on_time", int(bool(body.on_time))), ("turnaround_days", days),
           (f"wd:{min(working, TAT_CAP)}", 1)]
    if body.due_date_agreed:
        out += [("replied_agreed", 1), ("replied_agreed_on_time", int(bool(body.on_time)))]
    return out


def increments(body: Countable) -> list[Increment]:
    adds = metrics(body)
    return [(s, m, n) for s in scopes(body) for m, n in adds]


OVERDUE_ENDS = frozenset({"replied", "rejected", "withdrawn", "transferred"})


def overdue_change(body: Countable) -> str | None:
    """'mark' (the watch's overdue reminder), 'end' (an ending event of a request so
    reminded) or None: what the event does to the overdue gauge."""
    if not body.overdue:
        return None
    if body.event_type == "reminded":
        return "mark"
    return "end" if body.event_type in OVERDUE_ENDS else None


def overdue_pair_done(change: str, found: bool | None) -> bool:
    """Whether this event completes its request's pair (its row can go)."""
    return found is not None and found != (change == "mark")


def overdue_delta(change: str, found: bool | None) -> int:
    """The gauge's move for a 'mark' or 'end' of a request whose row was ``found`` open
    (True), as the other half's early arrival (False) or not at all (None). Events may
    arrive in any order: an end before its mark leaves a row that the mark cancels."""
    if change == "mark":
        return 1 if found is None else 0
    return -1 if found else 0


def percentile(histogram: Mapping[int, int], fraction: float) -> int | None:
    """The smallest value with at least ``fraction`` of the counts at or below it."""
    total = sum(histogram.values())
    if not total:
        return None
    need, seen = fraction * total, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= need:
            return value
    return max(histogram)


def histogram(counts: Mapping[str, int], prefix: str = "wd:") -> dict[int, int]:
    return {int(m[len(prefix):]): n for m, n in counts.items() if m.startswith(prefix) and n}


def months(since: dt.date, until: dt.date) -> Iterable[dt.date]:
    """First days of the months from ``since``'s to ``until``'s."""
    month = since.replace(day=1)
    while month <= until:
        yield month
        month = (month + dt.timedelta(days=32)).replace(day=1)
