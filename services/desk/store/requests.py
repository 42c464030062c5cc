"""Requests, their timelines and parked out-of-order events, in plain SQL.

Rows come back as the typed ``Request`` of the domain; a change is written as the
difference between the request before and after it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from protocol.v1.chain import canonical
from services.desk.domain import chain as domain_chain
from services.desk.domain.lifecycle import RUNNING, State
from services.desk.domain.request import Marks, Request
from services.desk.domain.seal import Sealer
from services.desk.store import chain

FIELDS = (
    "id, requester, recipient, kind, content, state, reply, correlation_id, created_at,"
    " created_by, updated_at, last_seq, due_date, content_sha256, due_provisional,"
    " pending_due_date, clock_stopped_on, transferred_from, rating, reminders,"
    " last_reminded_at, escalated_at, group_id"
)


def from_row(row: asyncpg.Record) -> Request:
    values = dict(row)
    values["state"] = State(values["state"])
    values["transferred_from"] = tuple(values["transferred_from"])
    return Request(**values)


async def insert(
    conn: asyncpg.Connection, r: Request, idempotency_key: str | None = None
) -> Request | None:
    """Insert unless the id, or the requester's idempotency key, is already taken."""
    subject = r.content["subject"]
    row = await conn.fetchrow(
        "INSERT INTO request (id, requester, recipient, kind, content, merchant_name,"
        " credit_code, due_date, state, correlation_id, created_at, created_by, updated_at,"
        " idempotency_key, content_sha256, due_provisional, group_id, transferred_from,"
        " last_seq)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$11,$13,$14,$15,$16,$17,$18)"
        f" ON CONFLICT DO NOTHING RETURNING {FIELDS}",
        r.id, r.requester, r.recipient, r.kind, r.content, subject["merchant_name"],
        subject.get("credit_code"), r.due_date, r.state, r.correlation_id, r.created_at,
        r.created_by, idempotency_key, r.content_sha256, r.due_provisional, r.group_id,
        list(r.transferred_from), r.last_seq,
    )
    return from_row(row) if row is not None else None


async def by_idempotency_key(
    conn: asyncpg.Connection, requester: str, key: str
) -> Request | None:
    row = await conn.fetchrow(
        f"SELECT {FIELDS} FROM request WHERE requester = $1 AND idempotency_key = $2",
        requester, key,
    )
    return from_row(row) if row is not None else None


async def get(
    conn: asyncpg.Connection, request_id: uuid.UUID, *, lock: bool = False
) -> Request | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(f"SELECT {FIELDS} FROM request WHERE id = $1{suffix}", request_id)
    return from_row(row) if row is not None else None


async def save(
    conn: asyncpg.Connection, after: Request, at: dt.datetime, *,
    reminded: bool = False, escalated: bool = False,
) -> None:
    """Write a request's facts after a change."""
    await conn.execute(
        "UPDATE request SET state = $2, recipient = $3, due_date = $4, pending_due_date = $5,"
        " clock_stopped_on = $6, transferred_from = $7, reply = $8, rating = $9,"
        " updated_at = greatest(updated_at, $10), last_seq = $11,"
        " reminders = reminders + CASE WHEN $12::boolean THEN 1 ELSE 0 END,"
        " last_reminded_at = CASE WHEN $12::boolean THEN $10 ELSE last_reminded_at END,"
        " escalated_at = CASE WHEN $13::boolean THEN coalesce(escalated_at, $10)"
        " ELSE escalated_at END"
        " WHERE id = $1",
        after.id, after.state, after.recipient, after.due_date, after.pending_due_date,
        after.clock_stopped_on, list(after.transferred_from), after.reply, after.rating, at,
        after.last_seq, reminded, escalated,
    )


async def add_event(
    conn: asyncpg.Connection, seal: Sealer, *, event_id: uuid.UUID, request_id: uuid.UUID,
    seq: int | None, type: str, bureau: str, actor: str, at: dt.datetime,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append to the timeline, chained by hash to the entry before and sealed by ``seal``
    (this desk's signature, or the deciding desk's that came with the change); False
    when this event id is already there."""
    data = data or None  # a change with no fields: the same entry on both desks
    entry = domain_chain.fields(event_id=event_id, request_id=request_id, seq=seq, type=type,
                                bureau=bureau, actor=actor, at=at, data=data)
    position, previous, digest, algorithm = await chain.link(conn, request_id, entry)
    sealed = seal(canonical(entry))
    added = await conn.fetchval(
        "INSERT INTO request_event (event_id, request_id, seq, type, bureau, actor,"
        " occurred_at, data, chain_pos, prev_hash, hash, hash_alg, signed, signature,"
        " signed_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
        " ON CONFLICT DO NOTHING RETURNING true",
        event_id, request_id, seq, type, bureau, actor, at, data, position, previous, digest,
        algorithm, sealed.statement.decode(), sealed.signature, sealed.by,
    )
    return bool(added)


async def marks_since_transfer(conn: asyncpg.Connection, request_id: uuid.UUID) -> Marks:
    """Whether the timeline holds, since the request's last transfer, the deadline watch's
    overdue reminder and an agreed due date (for the hub's figures)."""
    row = await conn.fetchrow(
        "SELECT coalesce(bool_or(type = 'reminded' AND data->>'rule' = 'overdue'), false)"
        " AS overdue, coalesce(bool_or(type = 'due_date_agreed'), false) AS agreed"
        " FROM request_event WHERE request_id = $1 AND seq > coalesce((SELECT max(seq)"
        " FROM request_event WHERE request_id = $1 AND type = 'transferred'), 0)",
        request_id,
    )
    assert row is not None
    return Marks(overdue=row["overdue"], due_date_agreed=row["agreed"])


async def has_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM request_event WHERE event_id = $1", event_id))


async def has_event_of_type(conn: asyncpg.Connection, request_id: uuid.UUID, type: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM request_event WHERE request_id = $1 AND type = $2 LIMIT 1",
        request_id, type,
    ))


async def transferred_at(
    conn: asyncpg.Connection, request_id: uuid.UUID, bureau: str
) -> dt.datetime | None:
    """When ``bureau`` transferred the request away, if it did."""
    at: dt.datetime | None = await conn.fetchval(
        "SELECT max(occurred_at) FROM request_event WHERE request_id = $1"
        " AND type = 'transferred' AND bureau = $2", request_id, bureau)
    return at


async def timeline(conn: asyncpg.Connection, request_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT event_id, seq, type, bureau, actor, occurred_at, data FROM request_event"
        " WHERE request_id = $1 ORDER BY occurred_at, seq NULLS FIRST, event_id",
        request_id,
    ))


async def park(conn: asyncpg.Connection, request_id: uuid.UUID, seq: int, payload: bytes) -> None:
    await conn.execute(
        "INSERT INTO parked_event (request_id, seq, payload) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING", request_id, seq, payload,
    )


async def unpark(conn: asyncpg.Connection, request_id: uuid.UUID, seq: int) -> bytes | None:
    payload: bytes | None = await conn.fetchval(
        "DELETE FROM parked_event WHERE request_id = $1 AND seq = $2 RETURNING payload",
        request_id, seq,
    )
    return payload


async def escalate(
    conn: asyncpg.Connection, request_id: uuid.UUID, province: str, at: dt.datetime
) -> None:
    await conn.execute(
        "INSERT INTO escalation (request_id, province, escalated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING", request_id, province, at,
    )


async def escalations(conn: asyncpg.Connection, province: str, limit: int) -> list[Request]:
    rows = await conn.fetch(
        f"SELECT {', '.join('r.' + f.strip() for f in FIELDS.split(','))}"
        " FROM escalation e JOIN request r ON r.id = e.request_id"
        " WHERE e.province = $1 AND e.resolved_at IS NULL AND r.state = ANY($3)"
        " ORDER BY e.escalated_at LIMIT $2", province, limit, list(RUNNING),
    )
    return [from_row(r) for r in rows]
