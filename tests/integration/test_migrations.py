"""Migrations apply in order, are idempotent, and upgrade data written by older versions."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest

from services.common import db
from tests.support import PG, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_upgrade_from_the_first_schema_keeps_old_requests() -> None:
    dsn = f"{PG}/{unique('xt_mig')}"
    await db.ensure_database(dsn)
    try:
        # Given a desk database at its first version, holding a request without a due date
        conn = await asyncpg.connect(dsn)
        first = [p for p in db.migration_files("desk") if p.name.startswith("001_")]
        for path in first:
            await conn.execute(path.read_text(encoding="utf-8"))
        await conn.execute("CREATE TABLE schema_migration (name text PRIMARY KEY,"
                           " applied_at timestamptz NOT NULL DEFAULT now())")
        await conn.executemany("INSERT INTO schema_migration (name) VALUES ($1)",
                               [(f"{p.parent.name}/{p.name}",) for p in first])
        rid = uuid.uuid4()
        await conn.execute(
            "INSERT INTO request (id, requester, recipient, kind, content, merchant_name, state,"
            " correlation_id, created_at, created_by, updated_at) VALUES ($1, '330110',"
            " '510107', 'merchant_registration', '{}', 'x', 'delivered', 'c',"
            " '2026-03-02T02:00:00Z', 'old', now())", rid,
        )
        # When the remaining migrations run (twice: the second run does nothing)
        applied = await db.migrate(dsn, "desk")
        assert applied and all(not name.endswith("/001_requests.sql") for name in applied)
        assert await db.migrate(dsn, "desk") == []
        # Then the old request is still there, with a due date a week after creation
        due = await conn.fetchval("SELECT due_date FROM request WHERE id = $1", rid)
        assert due == dt.date(2026, 3, 9)
        await conn.close()
    finally:
        await db.drop_database(dsn)
