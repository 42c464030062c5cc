"""Loading a simulated history into a fresh hub through the live counting code.

Each event goes through ``counting.increments`` as a live one does; the sums are
gathered in memory and written with COPY, one pass per counter table, instead of one
transaction per event. History events are synthetic and can never be redelivered, so
their ids are not recorded in ``counted_event``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from services.hub import store
from services.hub.counting import china_day, increments
from services.hub.history import Plan, history

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Loaded:
    requests: int
    events: int
    counter_rows: int
    seconds: float
    counting_seconds: float
    """Wall time of simulating and counting, before the writes."""


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
    days, requests, events, pending = Counter[tuple[str, str, dt.date]](), 0, 0, 0
    for request_events, completed in history(plan, partners):
        requests += 1
        pending += completed
        events += len(request_events)
        for body in request_events:
            day = china_day(body.occurred_at)
            for scope, metric, n in increments(body):
                days[(scope, metric, day)] += n
        if requests % 2000 == 0:
            progress(pending)
            pending = 0
    progress(pending)
    counted = time.perf_counter() - started
    rows = await _write(conn, days)
    return Loaded(requests, events, rows, time.perf_counter() - started, counted)


async def _write(conn: asyncpg.Connection, days: Counter[tuple[str, str, dt.date]]) -> int:
    """COPY the daily sums, then derive months and totals from them in the server; the
    keys are rebuilt once after the load instead of row by row (several times faster)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")  # in-memory key sorts
        for table in _KEYS:
            await conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        await conn.copy_records_to_table(
            "stat_day", records=((s, m, d, n) for (s, m, d), n in days.items()),
            columns=("scope", "metric", "day", "n"))
        await conn.execute(
            "INSERT INTO stat_month (scope, metric, month, n) SELECT scope, metric,"
            " date_trunc('month', day)::date, sum(n) FROM stat_day GROUP BY 1, 2, 3"
            " ORDER BY 1, 2, 3")  # in key order: a slice reads neighbouring pages
        await conn.execute("INSERT INTO stat_total (scope, metric, n) SELECT scope, metric,"
                           " sum(n) FROM stat_month GROUP BY 1, 2 ORDER BY 1, 2")
        for table, key in _KEYS.items():
            await conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
        rows: int = await conn.fetchval(
            "SELECT (SELECT count(*) FROM stat_day) + (SELECT count(*) FROM stat_month)"
            " + (SELECT count(*) FROM stat_total)")
    await conn.execute("VACUUM ANALYZE stat_day, stat_month, stat_total")  # fresh plans
    return rows


_KEYS = {"stat_day": "scope, metric, day", "stat_month": "scope, metric, month",
         "stat_total": "scope, metric"}
