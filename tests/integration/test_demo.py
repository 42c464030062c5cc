"""The demo of `make run` works against a real system (so the demo cannot rot), and its
desks serve every signed partner: a request to Beijing is delivered, not undeliverable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from services.common import db
from services.demo.__main__ import PROVINCES
from services.demo.traffic import DEMO_BUREAUS, Traffic, demo_token
from services.desk.store import investigators
from tests.support import System, eventually, new_request, start_system

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def system() -> AsyncIterator[System]:
    """The demo's desks: three regions' own and `rest` for every other province."""
    s = await start_system(desks=PROVINCES)
    yield s
    await s.close()


async def test_request_to_a_beijing_partner_is_delivered(system: System) -> None:
    # Given an investigator in Hangzhou and one at Beijing Chaoyang (a signed partner)
    yuhang = await system.desks["zj"].investigator("330110")
    chaoyang = await system.desks["rest"].investigator("110105")
    # When Yuhang sends a request to Chaoyang
    status, body = await system.call("POST", system.desks["zj"].url("/v1/requests"), yuhang,
                                     json=new_request("110105"))
    assert status == 201, body
    rid = body["id"]

    # Then it arrives at the rest desk and Yuhang sees it delivered
    async def delivered() -> bool:
        st, got = await system.call("GET", system.desks["zj"].url(f"/v1/requests/{rid}"), yuhang)
        return st == 200 and got["state"] == "delivered"

    await eventually(delivered, what="delivered to Beijing")
    status, got = await system.call("GET", system.desks["rest"].url(f"/v1/requests/{rid}"),
                                    chaoyang)
    assert status == 200 and got["recipient"]["code"] == "110105", got


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
    assert any(" -> 朝阳" in o or " -> 浦东" in o for o in outcomes), outcomes
