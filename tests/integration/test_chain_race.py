"""Chained rows linked concurrently (migration 017's one-round-trip tails): no gap, no
repeat, each row's previous hash the hash of the row before it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from services.common import db
from services.desk.store import audit
from services.desk.store.investigators import Investigator
from tests.support import PG, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_concurrent_audit_rows_form_one_unbroken_chain_each() -> None:
    dsn = f"{PG}/{unique('xt_chain')}"
    await db.ensure_database(dsn)
    try:
        await db.migrate(dsn, "desk")
        pool = await db.open_pool(dsn, min_size=8, max_size=8)
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
        await pool.close()
    finally:
        await db.drop_database(dsn)
