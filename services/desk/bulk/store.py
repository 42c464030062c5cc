"""Bulk items and their answers (table ``bulk_item``), in plain SQL.

Writes are idempotent: an item is stored once per (request, number); an answer is
written only to an item still pending, and the numbers actually answered are
returned, so a repeated batch changes nothing and counts nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from protocol.v1.bulk import AnyItem, ItemAnswer, item_key
from services.desk.bulk.parse import answer_data

_COLUMNS = "idx, kind, data, status, answer, answered_at, answered_by"


def item_data(item: AnyItem) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude={"kind"}, exclude_none=True)


async def insert(
    conn: asyncpg.Connection, request_id: uuid.UUID, first_idx: int,
    items: Sequence[AnyItem], at: dt.datetime,
) -> int:
    """Store items numbered from ``first_idx``; those already there are left alone."""
    status = await conn.execute(
        "INSERT INTO bulk_item (request_id, idx, kind, key, data, added_at)"
        " SELECT $1, t.idx, t.kind, t.key, t.data::jsonb, $6"
        " FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS t(idx, kind, key, data)"
        " ON CONFLICT DO NOTHING",
        request_id, list(range(first_idx, first_idx + len(items))),
        [i.kind for i in items], [item_key(i) for i in items],
        [json.dumps(item_data(i), ensure_ascii=False) for i in items], at,
    )
    return int(status.split()[-1])


async def keys(conn: asyncpg.Connection, request_id: uuid.UUID) -> dict[str, int]:
    """Key -> number of every item of the request."""
    rows = await conn.fetch("SELECT key, idx FROM bulk_item WHERE request_id = $1", request_id)
    return {r["key"]: r["idx"] for r in rows}


async def answers(conn: asyncpg.Connection, request_id: uuid.UUID) -> dict[int, Any]:
    """Number -> answer (None while pending) of every item of the request."""
    rows = await conn.fetch("SELECT idx, answer FROM bulk_item WHERE request_id = $1",
                            request_id)
    return {r["idx"]: r["answer"] for r in rows}


async def answer(
    conn: asyncpg.Connection, request_id: uuid.UUID, given: Sequence[ItemAnswer],
    at: dt.datetime, by: str,
) -> list[int]:
    """Answer the pending ones among ``given``; the numbers newly answered."""
    rows = await conn.fetch(
        "UPDATE bulk_item b SET status = 'answered', answer = t.answer::jsonb,"
        " answered_at = $4, answered_by = $5"
        " FROM unnest($2::int[], $3::text[]) AS t(idx, answer)"
        " WHERE b.request_id = $1 AND b.idx = t.idx AND b.status = 'pending'"
        " RETURNING b.idx",
        request_id, [a.idx for a in given],
        [json.dumps(answer_data(a), ensure_ascii=False) for a in given], at, by,
    )
    return sorted(r["idx"] for r in rows)


async def counts(conn: asyncpg.Connection, request_id: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT status, count(*) AS n FROM bulk_item WHERE request_id = $1 GROUP BY status",
        request_id,
    )
    found = {r["status"]: int(r["n"]) for r in rows}
    pending, answered = found.get("pending", 0), found.get("answered", 0)
    return {"total": pending + answered, "pending": pending, "answered": answered}


async def page(
    conn: asyncpg.Connection, request_id: uuid.UUID, *, status: str | None, after: int,
    limit: int | None,
) -> list[asyncpg.Record]:
    """Items in number order after ``after``, optionally of one status."""
    return list(await conn.fetch(
        f"SELECT {_COLUMNS} FROM bulk_item WHERE request_id = $1"
        " AND ($2::text IS NULL OR status = $2) AND idx > $3 ORDER BY idx LIMIT $4",
        request_id, status, after, limit,
    ))


async def has_items(conn: asyncpg.Connection, request_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM bulk_item WHERE request_id = $1 LIMIT 1",
                                    request_id))
