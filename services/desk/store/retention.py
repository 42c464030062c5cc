"""Deleting requests whose retention has run out, with every copy the desk holds.

One statement per table, children first, for a batch of request ids, in the caller's
transaction: files and their chunks, bulk items, timeline, parked events, unsent outbox
messages, escalations and fired deadline rules, then the requests, then groups left
without children. The audit log keeps its rows (ids, no personal data); the hub's
statistics are counters kept elsewhere and are not touched.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from services.desk.domain.lifecycle import TERMINAL

_CHILDREN = (
    "DELETE FROM attachment_chunk WHERE attachment_id IN"
    " (SELECT id FROM attachment WHERE request_id = ANY($1))",
    "DELETE FROM attachment WHERE request_id = ANY($1)",
    "DELETE FROM bulk_item WHERE request_id = ANY($1)",
    "DELETE FROM request_event WHERE request_id = ANY($1)",
    "DELETE FROM parked_event WHERE request_id = ANY($1)",
    "DELETE FROM outbox WHERE request_id = ANY($1)",
    "DELETE FROM escalation WHERE request_id = ANY($1)",
    "DELETE FROM deadline_rule_fired WHERE request_id = ANY($1)",
)


async def expired(conn: asyncpg.Connection, ended_before: dt.datetime,
                  limit: int) -> list[uuid.UUID]:
    """Ids of requests that ended before ``ended_before``, oldest first, locked."""
    rows = await conn.fetch(
        "SELECT id FROM request WHERE state = ANY($1) AND updated_at < $2"
        " ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED",
        [str(s) for s in TERMINAL], ended_before, limit,
    )
    return [r["id"] for r in rows]


async def delete(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> int:
    """Delete the requests ``ids`` and everything kept with them; how many requests."""
    for statement in _CHILDREN:
        await conn.execute(statement, ids)
    groups = await conn.fetch("DELETE FROM request WHERE id = ANY($1) RETURNING group_id", ids)
    emptied = {g["group_id"] for g in groups if g["group_id"] is not None}
    if emptied:
        await conn.execute(
            "DELETE FROM request_group g WHERE id = ANY($1)"
            " AND NOT EXISTS (SELECT 1 FROM request r WHERE r.group_id = g.id)", list(emptied))
    return len(groups)
