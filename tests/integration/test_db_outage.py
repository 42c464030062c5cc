"""A desk whose database goes away: 503 with Retry-After and a health report naming the
database, never a 500; when it is back, the desk serves and delivers again by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.faults import TcpProxy, proxy_for
from tests.support import System, eventually, new_request, start_system

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU = "330110", "510107"
PROXIES: dict[str, TcpProxy] = {}


async def behind_proxy(region: str, dsn: str) -> str:
    if region != "zj":
        return dsn
    PROXIES[region], proxied = await proxy_for(dsn)
    return proxied


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def system() -> AsyncIterator[System]:
    s = await start_system({"zj": "33", "sc": "51"}, desk_dsn=behind_proxy)
    yield s
    await s.close()
    await PROXIES.pop("zj").cut()


async def test_database_outage_answers_503_and_recovers(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice = await zj.investigator(YUHANG)
    bob = await sc.investigator(WUHOU)
    status, _ = await system.call("GET", zj.url("/healthz"))
    assert status == 200
    # When zj's database connections are cut and new ones refused
    await PROXIES["zj"].cut()
    # Then creating and listing answer 503 with Retry-After, never 500
    for method, path, body in (("POST", "/v1/requests", new_request(WUHOU)),
                               ("GET", "/v1/requests", None)):
        async with system.http.request(method, zj.url(path), json=body, headers={
                "Authorization": f"Bearer {alice}"}) as resp:
            answer = await resp.json()
            assert resp.status == 503, answer
            assert resp.headers["Retry-After"] == "5"
            assert answer["error"]["code"] == "service_unavailable"
    # And /healthz says 503 and names the database (and the relay, once it noticed)
    status, health = await system.call("GET", zj.url("/healthz"))
    assert status == 503 and "database" in health["unhealthy"], health

    # When the database is reachable again
    await PROXIES["zj"].start()

    async def healthy() -> bool:
        return (await system.call("GET", zj.url("/healthz")))[0] == 200

    await eventually(healthy, within=40, what="zj healthy again")
    # Then a new request is accepted and delivered, with no restart of the desk
    status, created = await system.call("POST", zj.url("/v1/requests"), alice,
                                        json=new_request(WUHOU))
    assert status == 201, created

    async def delivered() -> bool:
        s, r = await system.call("GET", sc.url(f"/v1/requests/{created['id']}"), bob)
        return s == 200 and r["state"] == "delivered"

    await eventually(delivered, what="delivery after the outage")
