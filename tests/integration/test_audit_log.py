"""The audit log: list and summary reads are recorded, rows are append-only for every
role (and not granted for change to the services' role), and chained by hash."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.common import db
from services.desk.store import audit
from services.desk.web import DESK
from tests.integration.test_bus import create_and_deliver
from tests.support import System

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_reads_are_audited_and_the_log_cannot_be_changed(system: System) -> None:
    # Given an investigator who created a request, looked at it and searched the outbox
    zj = system.desks["zj"]
    rid, token = await create_and_deliver(system)
    status, _ = await system.call("GET", zj.url("/v1/requests?box=outbox"), token)
    assert status == 200
    conn = await asyncpg.connect(zj.owner_dsn)
    try:
        who = await conn.fetchval("SELECT investigator_id FROM audit_log WHERE request_id = $1"
                                  " AND action = 'create'", uuid.UUID(rid))
        actions = [r["action"] for r in await conn.fetch(
            "SELECT action FROM audit_log WHERE investigator_id = $1 ORDER BY id", who)]
        assert "list_requests" in actions and "view" in actions
        # When anyone, even the table's owner, tries to alter or remove a row, it is refused
        for sql in ("UPDATE audit_log SET action = 'nothing' WHERE investigator_id = $1",
                    "DELETE FROM audit_log WHERE investigator_id = $1"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(sql, who)
        # and the services' role is not even granted it
        privileges = {p: await conn.fetchval(
            "SELECT has_table_privilege('xiecha_desk', 'audit_log', $1)", p)
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}
        assert privileges == {"SELECT": True, "INSERT": True, "UPDATE": False,
                              "DELETE": False, "TRUNCATE": False}
    finally:
        await conn.close()

    # Then each investigator's rows on a request chain intact
    pool = await db.open_pool(zj.owner_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as c:
            assert await audit.verify_chain(c, who, uuid.UUID(rid)) is None
            assert await audit.verify_chain(c, who, None) is None
            # and a row slipped past the trigger (by a superuser disabling it) shows
            async with c.transaction():
                await c.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
                await c.execute("UPDATE audit_log SET bureau = $1 WHERE request_id = $2"
                                " AND action = 'create'", "330106", uuid.UUID(rid))
                await c.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
            assert await audit.verify_chain(c, who, uuid.UUID(rid)) == 1
    finally:
        await pool.close()


async def test_the_service_role_may_not_change_the_audit_log_or_the_timeline(
    system: System,
) -> None:
    # Given a desk at work, logged in as its service role (as make run and compose run it)
    zj = system.desks["zj"]
    rid, _ = await create_and_deliver(system)
    async with zj.server.app[DESK].pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") == "xiecha_desk"
        assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname ="
                                       " current_user")
        # When it tries to alter or remove audit rows or timeline entries, or the schema
        for sql in ("UPDATE audit_log SET action = 'nothing' WHERE request_id = $1",
                    "DELETE FROM audit_log WHERE request_id = $1",
                    "UPDATE request_event SET actor = '别人' WHERE request_id = $1"):
            # Then PostgreSQL refuses it for want of the privilege (before any trigger)
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(sql, uuid.UUID(rid))
        for sql in ("TRUNCATE audit_log", "ALTER TABLE audit_log DISABLE TRIGGER"
                    " audit_log_no_change", "DROP TABLE request_event"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
        # and the rows are all still there
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE request_id = $1",
                                   uuid.UUID(rid)) >= 1
