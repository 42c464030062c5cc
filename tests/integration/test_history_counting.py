"""The history loader counts through the live counting code: the same history, loaded in
bulk into one hub and counted event by event by ``counters.count_event`` (what the bus
consumer calls) into another, leaves the same rows in every table the figures read."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from services.common import db
from services.hub import counters
from services.hub.history import Plan, history
from services.hub.history_loader import load_history
from services.hub.registry_loader import load_registry
from services.hub.store import load_registry as registry_rows
from tests.support import PG, Scratch

pytestmark = pytest.mark.asyncio(loop_scope="session")

PLAN = Plan(600, dt.date(2024, 1, 1), dt.date(2025, 12, 31), seed=11)
TABLES = {
    "counted_event": "SELECT event_id, request_id, event_type, occurred_at FROM counted_event",
    "overdue_request": "SELECT * FROM overdue_request",
    "stat_day": "SELECT scope, metric, day, n FROM stat_day WHERE n <> 0",
    "stat_month": "SELECT scope, metric, month, n FROM stat_month WHERE n <> 0",
    "stat_total": "SELECT scope, metric, n FROM stat_total WHERE n <> 0",
}


@pytest_asyncio.fixture(loop_scope="session")
async def two_hubs() -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection]]:
    scratch, conns = Scratch(), []
    for name in ("bulk", "live"):
        dsn = scratch.dsn(f"hub_{name}")
        await db.ensure_database(dsn)
        await db.migrate(dsn, "hub")
        conns.append(await asyncpg.connect(dsn))
        await load_registry(conns[-1])
    yield conns[0], conns[1]
    for conn in conns:
        await conn.close()
    for name in scratch.databases:
        await db.drop_database(f"{PG}/{name}")


async def test_the_history_loads_as_its_events_would_be_counted_live(
    two_hubs: tuple[asyncpg.Connection, asyncpg.Connection],
) -> None:
    bulk, live = two_hubs
    loaded = await load_history(bulk, PLAN)
    _, bureaus = await registry_rows(live)
    counted = 0
    for events, _ in history(PLAN, [b for b in bureaus if b.status == "signed"]):
        for event in events:
            async with live.transaction():
                counted += await counters.count_event(live, event)
    assert counted == loaded.events > 500
    marks = await live.fetchval("SELECT n FROM stat_total WHERE scope = 'all'"
                                " AND metric = 'overdue_now'")
    assert marks and marks > 0  # some requests are still overdue at the end
    for table, sql in TABLES.items():
        assert sorted(await bulk.fetch(sql)) == sorted(await live.fetch(sql)), table
