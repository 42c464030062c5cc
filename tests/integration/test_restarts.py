"""Nothing lost, nothing doubled when a desk is down, restarts, or two replies race."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from services.desk.app import create_app as create_desk
from tests.faults import broker_outage
from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, TIANHE, NANSHAN = "330110", "440106", "440305"


async def hub_figures(system: System, bureau: str) -> dict[str, int]:
    _, stats = await system.call("GET", system.hub_url(f"/v1/stats?bureau={bureau}"))
    figures: dict[str, int] = stats["as_recipient"]["all_time"]
    return figures


async def test_after_the_broker_drops_every_connection_the_services_carry_on(
    system: System,
) -> None:
    zj, gd = system.desks["zj"], system.desks["gd"]
    alice, nanshan = await zj.investigator(YUHANG), await gd.investigator(NANSHAN)
    # Given a broker outage (hub and three desks lose their connections)
    async with broker_outage(system.scratch.vhost, 4):
        # When a request is made meanwhile
        status, req = await system.call("POST", zj.url("/v1/requests"), alice,
                                        json=new_request(NANSHAN))
        assert status == 201, req
        # Then it waits in the outbox
        conn = await asyncpg.connect(zj.settings.dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM outbox WHERE request_id = $1",
                                       uuid.UUID(req["id"])) > 0
        finally:
            await conn.close()

    # and arrives once the services are back (reconnected, consuming)
    async def arrived() -> bool:
        s, r = await system.call("GET", gd.url(f"/v1/requests/{req['id']}"), nanshan)
        return s == 200 and r["state"] == "delivered"

    await eventually(arrived, within=60, what="delivered after reconnecting")

    async def told() -> Any:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{req['id']}"), alice)
        return r if r["state"] == "delivered" else None

    home = await eventually(told, what="delivery recorded at home")
    assert [e["type"] for e in home["timeline"]] == ["created", "sent", "delivered"]


async def test_requests_sent_while_a_desk_is_down_arrive_once_it_is_back(
    system: System,
) -> None:
    zj, gd = system.desks["zj"], system.desks["gd"]
    alice = await zj.investigator(YUHANG)
    before = await hub_figures(system, NANSHAN)

    # Given the Guangdong desk is down
    await gd.server.close()
    ids = []
    for _ in range(5):
        status, req = await system.call("POST", zj.url("/v1/requests"), alice,
                                        json=new_request(NANSHAN))
        assert status == 201
        ids.append(req["id"])

    async def all_sent() -> bool:
        states = [(await system.call("GET", zj.url(f"/v1/requests/{i}"), alice))[1]["state"]
                  for i in ids]
        return all(s == "sent" for s in states)

    # they leave Zhejiang (confirmed by the broker) and wait in Guangdong's queue
    await eventually(all_sent, what="sent while recipient is down")

    # When the desk comes back on the same database
    gd.server = TestServer(create_desk(gd.settings))
    await gd.server.start_server()
    bob = await gd.investigator(NANSHAN)

    async def delivered() -> list[Any] | None:
        _, page = await system.call("GET", gd.url("/v1/requests?box=inbox&limit=200"), bob)
        mine = [r for r in page["items"] if r["id"] in ids]
        return mine if len(mine) == len(ids) else None

    # Then every request is delivered exactly once and counted once
    items = await eventually(delivered, what="delivery after restart")
    assert {r["state"] for r in items} == {"delivered"}

    async def counted() -> dict[str, int] | None:
        # the hub's own record of these requests' events (the bureau's totals may still
        # move by an earlier test's request to the same bureau)
        hub = await asyncpg.connect(system.hub_dsn)
        try:
            rows = await hub.fetch(
                "SELECT event_type, count(*) AS n FROM counted_event"
                " WHERE request_id = ANY($1) GROUP BY event_type", [uuid.UUID(i) for i in ids])
        finally:
            await hub.close()
        got = {r["event_type"]: r["n"] for r in rows}
        return got if got.get("delivered", 0) >= 5 else None

    got = await eventually(counted, what="hub counts deliveries")
    assert (got["created"], got["delivered"]) == (5, 5)
    now = await hub_figures(system, NANSHAN)
    assert now["delivered"] - before.get("delivered", 0) >= 5


async def test_two_racing_replies_exactly_one_wins(system: System) -> None:
    zj, gd = system.desks["zj"], system.desks["gd"]
    alice = await zj.investigator(YUHANG)
    bob, carol = await gd.investigator(TIANHE, "天河 甲"), await gd.investigator(TIANHE, "天河 乙")
    _, req = await system.call("POST", zj.url("/v1/requests"), alice, json=new_request(TIANHE))
    rid = req["id"]

    async def in_inbox() -> bool:
        status, r = await system.call("GET", gd.url(f"/v1/requests/{rid}"), bob)
        return status == 200 and r["state"] == "delivered"

    await eventually(in_inbox, what="delivered")
    assert (await system.call("POST", gd.url(f"/v1/requests/{rid}/accept"), bob))[0] == 200

    reply = {"findings": "结论", "answers": []}
    results = await asyncio.gather(*[
        system.call("POST", gd.url(f"/v1/requests/{rid}/reply"), who,
                    json=reply | {"findings": f"结论 {i}"})
        for i, who in enumerate([bob, carol, bob, carol])
    ])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409]
    assert all(body["error"]["code"] == "illegal_transition"
               for status, body in results if status == 409)
    _, final = await system.call("GET", gd.url(f"/v1/requests/{rid}"), bob)
    assert [e["type"] for e in final["timeline"]].count("replied") == 1
