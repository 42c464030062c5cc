"""The access audit log: who did or saw what, on which request (and file), when."""

from __future__ import annotations

import uuid

import asyncpg

from services.desk.store.investigators import Investigator


async def record(
    conn: asyncpg.Connection, who: Investigator, action: str, request_id: uuid.UUID | None,
    correlation_id: str, attachment_id: uuid.UUID | None = None,
) -> None:
    """One ``audit_log`` row, in the caller's transaction (no action without its record)."""
    await conn.execute(
        "INSERT INTO audit_log (investigator_id, bureau, action, request_id, attachment_id,"
        " correlation_id) VALUES ($1, $2, $3, $4, $5, $6)",
        who.id, who.bureau, action, request_id, attachment_id, correlation_id,
    )
