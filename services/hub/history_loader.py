"""Loading a simulated history into a fresh hub through the live counting code.

Each event goes through what ``counters.count_event`` does for a live one: its id into
``counted_event``, ``counting.increments`` into the counters, the overdue gauge through
``counting.overdue_change``/``overdue_delta``. Only the writing differs: the sums are
gathered in memory and written with COPY, one pass per table (and the event ids with
one COPY), instead of one transaction per event.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import asyncpg

from services.hub import counting, store
from services.hub.history import Plan, SimEvent, history

Progress = Callable[[int], None]
Key = tuple[str, str, dt.date]


@dataclass(frozen=True)
class Loaded:
    requests: int
    events: int
    counter_rows: int
    seconds: float
    counting_seconds: float
    """Wall time of simulating and counting, before the writes."""


@dataclass
class Tally:
    """Counting in memory, event by event, as ``counters.count_event`` counts in SQL."""

    days: defaultdict[Key, int] = field(default_factory=lambda: defaultdict(int))
    """Sums by (scope, metric, day): a defaultdict adds to a new key in C, a Counter in
    Python (a quarter of the loader's time at 1.2 million events)."""
    counted: list[tuple[str, str, str, dt.datetime]] = field(default_factory=list)
    overdue: dict[str, tuple[bool, str, str, str | None, dt.date]] = field(
        default_factory=dict)
    """``overdue_request`` in memory: request -> (open, requester, recipient, kind, day)."""

    def count(self, body: SimEvent) -> None:
        self.counted.append((body.event_id, body.request_id, body.event_type,
                             body.occurred_at))
        day, days = counting.china_day(body.occurred_at), self.days
        for scope, metric, n in counting.increments(body):
            days[(scope, metric, day)] += n
        if (change := counting.overdue_change(body)) is not None:
            self._overdue(body, change, day)

    def _overdue(self, body: SimEvent, change: str, day: dt.date) -> None:
        row = self.overdue.get(body.request_id)
        found = None if row is None else row[0]
        if row is None:
            row = (change == "mark", body.requester, body.recipient, body.kind, day)
            self.overdue[body.request_id] = row
        elif counting.overdue_pair_done(change, found):
            del self.overdue[body.request_id]
        if delta := counting.overdue_delta(change, found):
            for scope in counting.scopes_of(row[1], row[2], row[3]):
                self.days[(scope, "overdue_now", row[4])] += delta


async def load_history(conn: asyncpg.Connection, plan: Plan,
                       progress: Progress = lambda n: None) -> Loaded:
    """Count ``plan``'s history into the empty counters of a hub with a registry."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM stat_total)"):
        raise ValueError("the counters are not empty: history goes into a fresh installation")
    _, bureaus = await store.load_registry(conn)
    partners = [b for b in bureaus if b.status == "signed"]
    if not partners:
        raise ValueError("no signed partners: load the registry first")
    started = time.perf_counter()
    tally, requests, pending = Tally(), 0, 0
    for request_events, completed in history(plan, partners):
        requests += 1
        pending += completed
        for body in request_events:
            tally.count(body)
        if requests % 2000 == 0:
            progress(pending)
            pending = 0
    progress(pending)
    counted = time.perf_counter() - started
    rows = await _write(conn, tally)
    return Loaded(requests, len(tally.counted), rows, time.perf_counter() - started, counted)


async def _write(conn: asyncpg.Connection, tally: Tally) -> int:
    """COPY the event ids, the open overdue rows and the sums at each grain; the keys are
    rebuilt once after the load instead of row by row (several times faster)."""
    month_of: dict[dt.date, dt.date] = {}  # a few thousand days, millions of sums
    months: defaultdict[Key, int] = defaultdict(int)
    for (s, m, d), n in tally.days.items():
        if (month := month_of.get(d)) is None:
            month = month_of[d] = d.replace(day=1)
        months[(s, m, month)] += n
    async with conn.transaction():
        await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")  # in-memory key sorts
        for table in _KEYS:
            await conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        await _copy(conn, "counted_event", tally.counted,
                    ("event_id", "request_id", "event_type", "occurred_at"))
        await _copy(conn, "overdue_request",
                    ((rid, *row[1:], row[0]) for rid, row in tally.overdue.items()),
                    ("requester", "recipient", "kind", "marked_on", "open"), "request_id")
        day_rows = [(s, m, d, n) for (s, m, d), n in tally.days.items() if n and counting.by_day(s)]
        # in key order: a slice reads each scope's months together, from a few pages
        month_rows = sorted((s, m, d, n) for (s, m, d), n in months.items() if n)
        await _copy(conn, "stat_day", day_rows, ("scope", "metric", "day", "n"))
        await _copy(conn, "stat_month", month_rows, ("scope", "metric", "month", "n"))
        status = await conn.execute("INSERT INTO stat_total (scope, metric, n)"
                                    " SELECT scope, metric, sum(n) FROM stat_month"
                                    " GROUP BY 1, 2 ORDER BY 1, 2")
        for table, key in _KEYS.items():
            await conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
    await conn.execute("ANALYZE counted_event, stat_day, stat_month, stat_total")
    return len(day_rows) + len(month_rows) + int(status.rsplit(" ", 1)[1])


async def _copy(conn: asyncpg.Connection, table: str, records: Iterable[tuple[object, ...]],
                columns: tuple[str, ...], first: str | None = None) -> None:
    await conn.copy_records_to_table(
        table, records=records, columns=((first,) if first else ()) + columns)


_KEYS = {"counted_event": "event_id", "stat_day": "scope, metric, day",
         "stat_month": "scope, metric, month", "stat_total": "scope, metric"}
