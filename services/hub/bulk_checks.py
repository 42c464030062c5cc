"""Completed checks of a bulk request are its answered items, not its reply as well.

Each answered item of a bulk request is one completed check (``item_answered`` carries
how many). The request's final reply is then no check of its own, so the hub takes it
back out with a ``bulk_replied`` correction (``completed_checks = replied + item_answered
- bulk_replied``), on the reply's day and in its scopes. Whichever of the reply and the
first answered items is counted second makes the correction; it is counted once, under
an event id derived from the reply's, and a per-request lock keeps two concurrent
transactions from each missing the other's row.
"""

from __future__ import annotations

import uuid

import asyncpg

from protocol.v1.messages import EventRecordedBody
from services.hub import counters

BULK_REPLIED = "bulk_replied"


async def correct(conn: asyncpg.Connection, body: EventRecordedBody) -> None:
    """After ``body`` was counted: take a bulk request's reply out of completed checks."""
    if body.event_type not in ("replied", "item_answered"):
        return
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                       str(body.request_id))
    if body.event_type == "replied":
        if not await _counted(conn, body.request_id, "item_answered"):
            return
        reply_id, replied_at = body.event_id, body.occurred_at
    else:
        row = await _counted(conn, body.request_id, "replied")
        if row is None:
            return
        reply_id, replied_at = row["event_id"], row["occurred_at"]
    # a bulk request is never transferred: the items' parties and kind are the reply's
    await counters.count_event(conn, body.model_copy(update={
        "event_id": uuid.uuid5(reply_id, BULK_REPLIED), "event_type": BULK_REPLIED,
        "occurred_at": replied_at, "count": 1, "on_time": None, "turnaround_days": None}))


async def _counted(conn: asyncpg.Connection, request_id: uuid.UUID,
                   event_type: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT event_id, occurred_at FROM counted_event WHERE request_id = $1"
        " AND event_type = $2 LIMIT 1", request_id, event_type)
    return row
