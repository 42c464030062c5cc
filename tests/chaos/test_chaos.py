"""The short chaos run inside ``make test``: a few hundred requests under every kind of
fault (fewer kills, a 10 s pause), on private servers; the same accounting as ``make chaos``.
"""

from __future__ import annotations

import os
import random

import aiohttp
import asyncpg
import pytest

from tests.chaos.accounting import account
from tests.chaos.harness import Result, run
from tests.chaos.injector import Scale
from tests.chaos.installation import Installation, region_of

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.e2e]

SHORT = Scale(requests=300, desk_kills=2, hub_kills=1, relay_kills=1, pause_seconds=10,
              create_seconds=60)


async def execute(dsn: str, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def tamper_and_account(inst: Installation, session: aiohttp.ClientSession,
                             result: Result) -> None:
    """The accounting is not blind: one reply undone at home, one timeline entry doubled
    at the recipient, one request no client made, one hub count dropped; each is reported."""
    if not result.ok:
        return  # the run's own assertions report it
    victim, planned = next(iter(result.ledger.accepted.items()))
    home = inst.dsns[region_of(planned.requester)]
    there = inst.dsns[region_of(planned.recipient)]
    await execute(home, "UPDATE request SET state = 'accepted' WHERE id = $1", victim)
    await execute(there, "INSERT INTO request_event (event_id, request_id, type, bureau,"
                         " actor, occurred_at) SELECT gen_random_uuid(), request_id, type,"
                         " bureau, actor, occurred_at FROM request_event"
                         " WHERE request_id = $1 AND type = 'accepted'", victim)
    await execute(there, f"CREATE TEMP TABLE copy AS SELECT * FROM request WHERE id = '{victim}';"
                         " UPDATE copy SET id = gen_random_uuid(), idempotency_key = NULL;"
                         " INSERT INTO request SELECT * FROM copy")
    await execute(inst.dsns["hub"], "DELETE FROM counted_event WHERE event_id ="
                  " (SELECT event_id FROM counted_event WHERE request_id = $1 LIMIT 1)", victim)
    found = await account(inst, session, result.ledger.accepted)
    assert [x.split()[:2] for x in found.lost] == [[victim, "accepted"]], found.lost
    assert len(found.duplicated) == 2 and all(
        "accepted x2" in x or "unaccounted" in x for x in found.duplicated), found.duplicated
    assert any(x.startswith("hub counted") for x in found.leftovers), found.leftovers


async def test_nothing_lost_nor_doubled_under_chaos() -> None:
    seed = int(os.environ.get("XIECHA_CHAOS_SEED", "0")) or random.randrange(1, 10**6)
    result = await run(SHORT, seed, drain_within=240, afterwards=tamper_and_account)
    print("\n".join(result.lines()))
    assert result.accounts.lost == [], result.lines()
    assert result.accounts.duplicated == [], result.lines()
    assert result.accounts.leftovers == [], result.lines()
    assert not result.ledger.anomalies and not result.unexpected_exits, result.lines()
    assert result.requests == SHORT.requests
    assert sum(result.faults.values()) == 7, result.faults
