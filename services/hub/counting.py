"""What one event adds to the statistics: pure, shared by live counting and the history loader.

An event adds ``n`` to a (scope, metric) counter in each of its scopes, on the China
day it happened. Scopes: ``all``; ``req:<bureau>``/``rcp:<bureau>`` and
``reqp:<province>``/``rcpp:<province>`` by role; ``flow:<from>><to>`` between provinces;
``kind:<kind>`` when the desk told the kind. A reply also adds to the on-time count,
the turnaround sum and one bucket of the turnaround histogram (``tat:<days>``), so
medians and percentiles are exact without keeping requests.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Protocol

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")
TAT_CAP = 60
"""Turnarounds of 60 days or more share the last histogram bucket."""

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


def china_day(at: dt.datetime) -> dt.date:
    return at.astimezone(CHINA).date()


def scopes(body: Countable) -> list[str]:
    """The scopes an event counts in; 'all' first (the lock order of live counting)."""
    req, rcp = body.requester, body.recipient
    out = ["all", f"req:{req}", f"rcp:{rcp}", f"reqp:{req[:2]}", f"rcpp:{rcp[:2]}",
           f"flow:{req[:2]}>{rcp[:2]}"]
    if body.kind is not None:
        out.append(f"kind:{body.kind}")
    return out


def metrics(body: Countable) -> list[tuple[str, int]]:
    """What one event adds: its own count, and for replies on-time, turnaround, histogram."""
    # an 'item_answered' event stands for ``count`` answered items of a bulk request
    n = body.count if body.event_type == "item_answered" else 1
    out: list[tuple[str, int]] = [(body.event_type, n)]
    if body.event_type == "replied":
        days = body.turnaround_days or 0
        out.append(("replied_on_time", 1 if body.on_time else 0))
        out.append(("turnaround_days", days))
        out.append((f"tat:{min(days, TAT_CAP)}", 1))
    return out


def increments(body: Countable) -> list[Increment]:
    adds = metrics(body)
    return [(s, m, n) for s in scopes(body) for m, n in adds]


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


def histogram(counts: Mapping[str, int]) -> dict[int, int]:
    return {int(m[4:]): n for m, n in counts.items() if m.startswith("tat:") and n}


def months(since: dt.date, until: dt.date) -> Iterable[dt.date]:
    """First days of the months from ``since``'s to ``until``'s."""
    month = since.replace(day=1)
    while month <= until:
        yield month
        month = (month + dt.timedelta(days=32)).replace(day=1)
