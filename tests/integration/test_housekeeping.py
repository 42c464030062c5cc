"""Housekeeping prunes what only grows, after the retention window and not before."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.common import housekeeping
from services.desk.app import PRUNE as DESK_PRUNE
from services.hub.app import PRUNE as HUB_PRUNE
from tests.support import Scratch

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
OLD, RECENT = NOW - dt.timedelta(days=31), NOW - dt.timedelta(days=29)


async def test_desk_prunes_old_message_ids_and_dead_parked_rows() -> None:
    scratch = Scratch()
    pool = await scratch.pool("desk", "housekeeping")
    try:
        old, recent = uuid.uuid4(), uuid.uuid4()
        await pool.executemany("INSERT INTO processed_message VALUES ($1, $2)",
                               [(old, OLD), (recent, RECENT)])
        # a parked event its request already moved past, and one still awaited
        rid = uuid.uuid4()
        await pool.execute(
            "INSERT INTO request (id, requester, recipient, kind, content, due_date, state,"
            " correlation_id, created_at, created_by, updated_at, last_seq, merchant_name)"
            " VALUES ($1, '330110', '510107', 'merchant_registration', '{}', $2, 'accepted',"
            " 'c', $3, 'x', $3, 3, 'm')", rid, NOW.date(), NOW)
        await pool.executemany("INSERT INTO parked_event (request_id, seq, payload)"
                               " VALUES ($1, $2, '')", [(rid, 2), (rid, 5)])
        cut_off = NOW - housekeeping.RETENTION
        removed = await housekeeping.prune(pool, DESK_PRUNE, cut_off, batch=1)
        assert removed["processed_message"] == 1 and removed["parked_event"] == 1
        assert [r[0] for r in await pool.fetch("SELECT message_id FROM processed_message")] \
            == [recent]
        assert [r[0] for r in await pool.fetch("SELECT seq FROM parked_event")] == [5]
        # pruning again changes nothing
        assert not any((await housekeeping.prune(pool, DESK_PRUNE, cut_off)).values())
    finally:
        await pool.close()
        await scratch.close()


async def test_hub_forgets_counted_events_by_when_they_were_counted() -> None:
    scratch = Scratch()
    pool = await scratch.pool("hub", "housekeeping")
    try:
        long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # history loaded recently
        await pool.executemany(
            "INSERT INTO counted_event (event_id, request_id, event_type, occurred_at,"
            " counted_at) VALUES ($1, $2, 'replied', $3, $4)",
            [(uuid.uuid4(), uuid.uuid4(), long_ago, RECENT),
             (uuid.uuid4(), uuid.uuid4(), long_ago, OLD)])
        removed = await housekeeping.prune(pool, HUB_PRUNE, NOW - housekeeping.RETENTION)
        assert removed["counted_event"] == 1
        assert await pool.fetchval("SELECT count(*) FROM counted_event") == 1
    finally:
        await pool.close()
        await scratch.close()
