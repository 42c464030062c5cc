"""Housekeeping prunes what only grows, after the retention window and not before."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
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


async def add_request(pool: asyncpg.Pool, state: str) -> uuid.UUID:
    rid = uuid.uuid4()
    await pool.execute(
        "INSERT INTO request (id, requester, recipient, kind, content, due_date, state,"
        " correlation_id, created_at, created_by, updated_at, last_seq, merchant_name)"
        " VALUES ($1, '330110', '510107', 'merchant_registration', '{}', $2, $3,"
        " 'c', $4, 'x', $4, 3, 'm')", rid, NOW.date(), state, NOW)
    return rid


async def test_desk_prunes_ended_escalations_and_orphan_file_chunks() -> None:
    scratch = Scratch()
    pool = await scratch.pool("desk", "housekeeping_orphans")
    try:
        # escalations: of an ended request long ago (gone), of an ended one lately and of
        # a running one long ago (both kept: the coordinators may still look)
        ended, lately, running = [await add_request(pool, s)
                                  for s in ("closed", "withdrawn", "accepted")]
        await pool.executemany("INSERT INTO escalation (request_id, province, escalated_at)"
                               " VALUES ($1, '51', $2)",
                               [(ended, OLD), (lately, RECENT), (running, OLD)])
        # chunks: of a file never offered here, long ago (gone) and lately (kept), and of
        # a known file long ago (kept)
        known = uuid.uuid4()
        await pool.execute(
            "INSERT INTO attachment (id, request_id, name, media_type, size, sha256, chunks,"
            " purpose, uploaded_by_bureau, uploaded_by, uploaded_at) VALUES ($1, $2, 'a.pdf',"
            " 'application/pdf', 1, $3, 1, 'request', '330110', 'x', $4)",
            known, running, bytes(32), OLD)
        stray, late = uuid.uuid4(), uuid.uuid4()
        await pool.executemany("INSERT INTO attachment_chunk (attachment_id, idx, data,"
                               " received_at) VALUES ($1, 0, 'x', $2)",
                               [(stray, OLD), (late, RECENT), (known, OLD)])
        cut_off = NOW - housekeeping.RETENTION
        removed = await housekeeping.prune(pool, DESK_PRUNE, cut_off)
        assert removed["escalation"] == 1 and removed["attachment_chunk"] == 1, removed
        assert {r[0] for r in await pool.fetch("SELECT request_id FROM escalation")} == {
            lately, running}
        assert {r[0] for r in await pool.fetch("SELECT attachment_id FROM attachment_chunk")
                } == {late, known}
    finally:
        await pool.close()
        await scratch.close()
