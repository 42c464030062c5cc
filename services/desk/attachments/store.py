"""Evidence files in the desk's database: metadata rows and 256 KiB bytea chunks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

_FIELDS = (
    "id, request_id, name, media_type, size, sha256, chunks, purpose, uploaded_by_bureau,"
    " uploaded_by, uploaded_at, complete, completed_at, failed_reason"
)


@dataclass(frozen=True)
class NewAttachment:
    id: uuid.UUID
    request_id: uuid.UUID
    name: str
    media_type: str
    size: int
    sha256: bytes
    chunks: int
    purpose: str
    uploaded_by_bureau: str
    uploaded_by: str
    uploaded_at: dt.datetime


async def insert(conn: asyncpg.Connection, a: NewAttachment,
                 completed_at: dt.datetime | None = None) -> bool:
    """Insert unless the id is taken; complete at once when ``completed_at`` is given."""
    inserted = await conn.fetchval(
        "INSERT INTO attachment (id, request_id, name, media_type, size, sha256, chunks,"
        " purpose, uploaded_by_bureau, uploaded_by, uploaded_at, complete, completed_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::timestamptz IS NOT NULL,$12)"
        " ON CONFLICT DO NOTHING RETURNING true",
        a.id, a.request_id, a.name, a.media_type, a.size, a.sha256, a.chunks, a.purpose,
        a.uploaded_by_bureau, a.uploaded_by, a.uploaded_at, completed_at,
    )
    return bool(inserted)


async def add_chunks(
    conn: asyncpg.Connection, attachment_id: uuid.UUID, parts: Sequence[bytes | memoryview]
) -> None:
    """Store chunks ``0..len(parts)-1``; a chunk already there stays as it was."""
    await conn.executemany(
        "INSERT INTO attachment_chunk (attachment_id, idx, data) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        [(attachment_id, idx, bytes(part)) for idx, part in enumerate(parts)],
    )


async def add_chunk(conn: asyncpg.Connection, attachment_id: uuid.UUID, idx: int,
                    data: bytes) -> bool:
    added = await conn.fetchval(
        "INSERT INTO attachment_chunk (attachment_id, idx, data) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true", attachment_id, idx, data,
    )
    return bool(added)


async def lock(conn: asyncpg.Connection, attachment_id: uuid.UUID) -> None:
    """Serialise the work on one file until the transaction ends (its row may not exist)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7041))",
                       str(attachment_id))


async def get(conn: asyncpg.Connection, attachment_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_FIELDS} FROM attachment WHERE id = $1", attachment_id)


async def of_request(conn: asyncpg.Connection, request_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        f"SELECT {_FIELDS} FROM attachment WHERE request_id = $1 ORDER BY uploaded_at, id",
        request_id,
    ))


async def count(conn: asyncpg.Connection, request_id: uuid.UUID) -> int:
    n: int = await conn.fetchval("SELECT count(*) FROM attachment WHERE request_id = $1",
                                 request_id)
    return n


async def chunks_present(conn: asyncpg.Connection, attachment_id: uuid.UUID, below: int) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM attachment_chunk WHERE attachment_id = $1 AND idx < $2",
        attachment_id, below,
    )
    return n


async def read_chunks(
    conn: asyncpg.Connection, attachment_id: uuid.UUID, below: int
) -> list[bytes]:
    """Chunks ``0..below-1`` in order (fewer if some are missing)."""
    rows = await conn.fetch(
        "SELECT data FROM attachment_chunk WHERE attachment_id = $1 AND idx < $2 ORDER BY idx",
        attachment_id, below,
    )
    return [r["data"] for r in rows]


async def settle(conn: asyncpg.Connection, attachment_id: uuid.UUID, at: dt.datetime,
                 failed_reason: str | None) -> None:
    """Mark a received file complete, or failed with the reason."""
    await conn.execute(
        "UPDATE attachment SET complete = $2::text IS NULL, failed_reason = $2,"
        " completed_at = CASE WHEN $2::text IS NULL THEN $3::timestamptz END WHERE id = $1",
        attachment_id, failed_reason, at,
    )
