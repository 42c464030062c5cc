"""Checking a request's timeline chain on this desk: ``python -m services.desk verify``."""

from __future__ import annotations

import uuid

import asyncpg

from services.desk.domain import chain
from services.desk.store import chain as chain_store


async def verify_request(conn: asyncpg.Connection, request_id: uuid.UUID) -> tuple[bool, str]:
    """(intact, verdict); the verdict names the first entry that does not chain."""
    entries = await chain_store.stored(conn, request_id)
    if not entries:
        return False, f"request {request_id}: no chained timeline on this desk"
    broken = chain.verify(entries)
    if broken is None:
        algorithms = ", ".join(sorted({e.algorithm for e in entries}))
        return True, f"request {request_id}: {len(entries)} entries, chain intact ({algorithms})"
    return False, (f"request {request_id}: entry {broken.position} ({broken.type},"
                   f" event {broken.event_id}) fails: {broken.why}")
