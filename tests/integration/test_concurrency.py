"""Rows many transactions write at once: the hub's counters (exact, once per event, no
deadlock) and a desk's hash chains (no gap, no repeat, each row linked to the one before;
migration 017's one-round-trip tails)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from protocol.v1.messages import EventRecordedBody
from services.common import db
from services.desk.store import audit
from services.desk.store.investigators import Investigator
from services.hub import counters
from tests.support import PG, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

BUREAUS = ("330110", "440106", "510107", "110105")


@contextlib.asynccontextmanager
async def fresh_pool(service: str) -> AsyncIterator[asyncpg.Pool]:
    """Eight connections to a fresh, migrated database of ``service``, dropped after."""
    dsn = f"{PG}/{unique('xt_conc')}"
    await db.ensure_database(dsn)
    try:
        await db.migrate(dsn, service)
        pool = await db.open_pool(dsn, min_size=8, max_size=8)
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        await db.drop_database(dsn)


def event(rng: random.Random, at: dt.datetime) -> EventRecordedBody:
    requester, recipient = rng.sample(BUREAUS, 2)
    return EventRecordedBody(
        event_id=uuid.uuid4(), request_id=uuid.uuid4(),
        event_type=rng.choice(["created", "delivered", "accepted"]),
        requester=requester, recipient=recipient, occurred_at=at,
        kind="merchant_registration")


async def test_concurrent_events_and_repeats_are_counted_exactly_once() -> None:
    async with fresh_pool("hub") as pool:
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
        expected: dict[str, int] = {}
        for body in events:
            expected[body.event_type] = expected.get(body.event_type, 0) + 1
        assert grains[0] == grains[1] == grains[2]
        assert {metric: grains[2][metric] for metric in expected} == expected


async def test_concurrent_audit_rows_form_one_unbroken_chain_each() -> None:
    async with fresh_pool("desk") as pool:
        who = Investigator(id=uuid.uuid4(), name="x", bureau="330110", role="investigator")
        request_id = uuid.uuid4()

        async def view(i: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await audit.record(conn, who, f"view {i}", request_id if i % 2 else None, "c")

        # When 60 rows are recorded at once, eight transactions at a time, on two chains
        await asyncio.gather(*(view(i) for i in range(60)))
        # Then each chain holds 30 rows at positions 1..30, each linked to the one before
        async with pool.acquire() as conn:
            for chain in (request_id, None):
                rows = await conn.fetch(
                    "SELECT chain_pos, prev_hash, hash FROM audit_log WHERE investigator_id = $1"
                    " AND request_id IS NOT DISTINCT FROM $2 ORDER BY chain_pos", who.id, chain)
                assert [r["chain_pos"] for r in rows] == list(range(1, 31))
                assert [r["prev_hash"] for r in rows] == [None] + [r["hash"] for r in rows[:-1]]
