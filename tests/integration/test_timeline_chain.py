"""The timeline of a request is a hash chain on both desks; a stored row altered, removed
or reordered is found and named, by the function and by ``python -m services.desk verify``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from services.common import db
from services.desk.verify import verify_request
from tests.integration.test_bus import WUHOU, create_and_deliver
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def check(system: System, region: str, rid: str) -> tuple[bool, str]:
    pool = await db.open_pool(system.desks[region].settings.dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await verify_request(conn, uuid.UUID(rid))
    finally:
        await pool.close()


def cli_verify(system: System, region: str, rid: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"XIECHA_DESK_DATABASE_URL": system.desks[region].settings.dsn}
    # this desk's chain only: the comparison with the other desk is test_signatures.py's
    return subprocess.run([sys.executable, "-m", "services.desk", "verify", rid,
                           "--no-compare"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_both_desks_chain_the_timeline_and_an_altered_entry_is_named(
    system: System,
) -> None:
    # Given a request delivered and accepted (entries on both desks)
    rid, _ = await create_and_deliver(system)
    sc = system.desks["sc"]
    token = await sc.investigator(WUHOU)
    status, _ = await system.call("POST", sc.url(f"/v1/requests/{rid}/accept"), token)
    assert status == 200

    async def accepted_home() -> bool:
        ok, verdict = await check(system, "zj", rid)
        return ok and "4 entries" in verdict  # created, sent, delivered, accepted

    await eventually(accepted_home, what="the accepted step chained at home")
    ok, verdict = await check(system, "sc", rid)
    assert ok and "(sm3)" in verdict, verdict
    assert cli_verify(system, "zj", rid).returncode == 0

    # When someone with database access rewrites who accepted it at the requester's desk
    conn = await asyncpg.connect(system.desks["zj"].owner_dsn)
    try:
        event_id = await conn.fetchval(
            "UPDATE request_event SET actor = '别人' WHERE request_id = $1 AND type = 'accepted'"
            " RETURNING event_id", uuid.UUID(rid))
    finally:
        await conn.close()

    # Then the check fails and names that entry; the other desk's chain is still intact
    ok, verdict = await check(system, "zj", rid)
    assert not ok and f"event {event_id}" in verdict and "altered" in verdict, verdict
    run = cli_verify(system, "zj", rid)
    assert run.returncode == 1 and str(event_id) in run.stdout, run.stdout + run.stderr
    assert (await check(system, "sc", rid))[0]


async def test_a_removed_entry_breaks_the_chain(system: System) -> None:
    rid, _ = await create_and_deliver(system)
    conn = await asyncpg.connect(system.desks["sc"].owner_dsn)
    try:
        await conn.execute("DELETE FROM request_event WHERE request_id = $1 AND chain_pos = 1",
                           uuid.UUID(rid))
    finally:
        await conn.close()
    ok, verdict = await check(system, "sc", rid)
    assert not ok and "entry 2" in verdict and "missing" in verdict, verdict
