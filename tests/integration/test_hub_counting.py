"""The hub's counting under concurrency: exact, once per event, no deadlock."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid

import pytest

from protocol.v1.messages import EventRecordedBody
from services.common import db
from services.hub import counters
from tests.support import PG, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

BUREAUS = ("330110", "440106", "510107", "110105")


def event(rng: random.Random, at: dt.datetime) -> EventRecordedBody:
    requester, recipient = rng.sample(BUREAUS, 2)
    return EventRecordedBody(
        event_id=uuid.uuid4(), request_id=uuid.uuid4(),
        event_type=rng.choice(["created", "delivered", "accepted"]),
        requester=requester, recipient=recipient, occurred_at=at,
        kind="merchant_registration")


async def test_concurrent_events_and_repeats_are_counted_exactly_once() -> None:
    dsn = f"{PG}/{unique('xt_count')}"
    await db.ensure_database(dsn)
    try:
        await db.migrate(dsn, "hub")
        pool = await db.open_pool(dsn, min_size=8, max_size=8)
        # Given 400 events over four bureaus (so they share counter rows), 100 sent twice
        rng = random.Random(14)
        at = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
        events = [event(rng, at) for _ in range(400)]

        async def count(body: EventRecordedBody) -> bool:
            async with pool.acquire() as conn, conn.transaction():
                return await counters.count_event(conn, body)

        # When all are counted at once, eight transactions at a time (a deadlock would raise)
        firsts = await asyncio.gather(*(count(b) for b in events + events[:100]))
        # Then each event counted once, in every grain alike
        assert sum(firsts) == 400
        async with pool.acquire() as conn:
            grains = [
                {r["metric"]: int(r["n"]) for r in await conn.fetch(
                    f"SELECT metric, sum(n) AS n FROM {table} WHERE scope = 'all' GROUP BY 1")}
                for table in ("stat_day", "stat_month", "stat_total")]
        await pool.close()
        expected: dict[str, int] = {}
        for body in events:
            expected[body.event_type] = expected.get(body.event_type, 0) + 1
        assert grains[0] == grains[1] == grains[2]
        assert {metric: grains[2][metric] for metric in expected} == expected
    finally:
        await db.drop_database(dsn)
