"""The demo traffic of `make run` works against a real system (so the demo cannot rot)."""

from __future__ import annotations

import pytest

from services.common import db
from services.demo.traffic import DEMO_BUREAUS, Traffic, demo_token
from services.desk.store import investigators
from tests.support import System

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_demo_round_trips(system: System) -> None:
    for region, bureaus in DEMO_BUREAUS.items():
        pool = await db.open_pool(system.desks[region].settings.dsn, min_size=1, max_size=1)
        async with pool.acquire() as conn:
            for code, name in bureaus:
                await investigators.add(conn, name, code, token=demo_token(code))
        await pool.close()
    urls = {region: str(desk.server.make_url("")).rstrip("/")
            for region, desk in system.desks.items()}
    traffic = Traffic(system.http, urls, seed=3)
    outcomes = [await traffic.round_trip() for _ in range(12)]
    assert all((" replied" in o) or (" rejected" in o) for o in outcomes), outcomes
    assert any("info requested and given" in o for o in outcomes), outcomes
