"""Reminders and escalation: fired by the requester's desk as time passes, once per rule,
shown on the recipient's inbox and timeline; escalations reach the coordinators."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services.desk.app import WATCH
from services.desk.requests.deadlines import DeadlineWatch
from tests.support import Clock, System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU, CHENGDU = "330110", "510107", "510100"
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 2 Nov 2026, 10:00 in China


async def test_reminders_and_escalation_fire_once(clocked_system: System, clock: Clock) -> None:
    zj, sc = clocked_system.desks["zj"], clocked_system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    coordinator = await sc.investigator(CHENGDU, "成都 协调员", role="coordinator")
    status, req = await clocked_system.call("POST", zj.url("/v1/requests"), a,
                                     json=new_request(WUHOU))
    assert status == 201 and req["due_date"] == "2026-11-09"
    rid = req["id"]
    watch: DeadlineWatch = zj.server.app[WATCH]

    async def away(check: Any) -> Any:
        async def probe() -> Any:
            s, r = await clocked_system.call("GET", sc.url(f"/v1/requests/{rid}"), b)
            return r if s == 200 and check(r) else None
        return await eventually(probe, what="recipient's view")

    async def home_delivered() -> Any:
        s, r = await clocked_system.call("GET", zj.url(f"/v1/requests/{rid}"), a)
        return r if s == 200 and r["state"] == "delivered" else None

    # the watch chases only requests its own desk knows to be delivered (clock running)
    await away(lambda r: r["state"] == "delivered")
    await eventually(home_delivered, what="delivery recorded at home")
    assert await watch.tick() == 0

    # Thursday 5 Nov: two working days left -> one reminder, however often we look
    clock.now = START + dt.timedelta(days=3)
    assert await watch.tick() == 1
    attempts = watch.attempts
    assert await watch.tick() == 0
    assert watch.attempts == attempts  # a rule that fired is not touched again
    assert await DeadlineWatch(watch.pool, clock, ["33"], zj.settings.hosts, 2, 3,
                               watch.signer).tick() == 0
    seen = await away(lambda r: r["reminders"] == 1)
    assert seen["timeline"][-1]["type"] == "reminded"
    assert seen["timeline"][-1]["data"]["rule"] == "before_due"
    _, inbox = await clocked_system.call("GET", sc.url("/v1/requests?box=inbox"), b)
    assert next(i for i in inbox["items"] if i["id"] == rid)["reminders"] == 1

    # a manual reminder (催办) as well, two hours later
    clock.advance(hours=2)
    status, _ = await clocked_system.call("POST", zj.url(f"/v1/requests/{rid}/remind"), a,
                                   json={"note": "请尽快回复"})
    assert status == 202
    await away(lambda r: r["reminders"] == 2)
    # and not a second one within the hour
    async def home_reminded() -> Any:
        _, r = await clocked_system.call("GET", zj.url(f"/v1/requests/{rid}"), a)
        return r if r["reminders"] == 2 else None

    await eventually(home_reminded, what="reminder recorded at home")
    status, body = await clocked_system.call("POST", zj.url(f"/v1/requests/{rid}/remind"), a)
    assert status == 429 and body["error"]["code"] == "too_soon"

    # Tuesday 10 Nov: overdue
    clock.now = START + dt.timedelta(days=8)
    assert await watch.tick() == 1
    late = await away(lambda r: r["reminders"] == 3)
    assert late["overdue"] is True

    # Sunday 15 Nov: more than 3 working days overdue -> escalated to Sichuan's coordinators
    clock.now = START + dt.timedelta(days=13)
    assert await watch.tick() == 1
    assert await watch.tick() == 0

    async def queued() -> Any:
        s, q = await clocked_system.call("GET", sc.url("/v1/escalations"), coordinator)
        return q if s == 200 and any(i["id"] == rid for i in q["items"]) else None

    queue = await eventually(queued, what="escalation queue")
    assert next(i for i in queue["items"] if i["id"] == rid)["escalated_at"]
    status, body = await clocked_system.call("GET", sc.url("/v1/escalations"), b)
    assert status == 403 and body["error"]["code"] == "forbidden"
    async def escalation_home() -> Any:
        home = (await clocked_system.call("GET", zj.url(f"/v1/requests/{rid}"), a))[1]
        return home if home["timeline"][-1]["type"] == "escalated" else None

    home = await eventually(escalation_home, what="escalation on the requester's timeline")
    assert [e["type"] for e in home["timeline"]].count("reminded") == 3


async def test_an_answered_request_is_not_chased_and_its_unanswered_twin_is(
    clocked_system: System, clock: Clock
) -> None:
    zj, sc = clocked_system.desks["zj"], clocked_system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    clock.now = START + dt.timedelta(days=21)  # Monday 23 Nov: due Monday 30 Nov
    watch: DeadlineWatch = zj.server.app[WATCH]
    # Given two requests made together, one answered, the other not
    ids = []
    for _ in range(2):
        status, req = await clocked_system.call("POST", zj.url("/v1/requests"), a,
                                                json=new_request(WUHOU))
        assert status == 201 and req["due_date"] == "2026-11-30", req
        ids.append(req["id"])
    answered, twin = ids

    async def at_home(rid: str, state: str) -> Any:
        s, r = await clocked_system.call("GET", zj.url(f"/v1/requests/{rid}"), a)
        return r if s == 200 and r["state"] == state else None

    for rid in ids:
        await eventually(lambda rid=rid: at_home(rid, "delivered"), what="delivered at home")
    base = sc.url(f"/v1/requests/{answered}")
    assert (await clocked_system.call("POST", f"{base}/accept", b))[0] == 200
    assert (await clocked_system.call("POST", f"{base}/reply", b,
                                      json={"findings": "已查明"}))[0] == 200
    await eventually(lambda: at_home(answered, "replied"), what="reply recorded at home")
    # When every rule's time has come (two days left, then far overdue)
    clock.advance(days=3)
    assert await watch.tick() == 1
    clock.advance(days=15)
    assert await watch.tick() >= 1
    # Then the unanswered twin was reminded and escalated (decided at Sichuan's desk)
    async def chased() -> bool:
        _, r = await clocked_system.call("GET", zj.url(f"/v1/requests/{twin}"), a)
        return {"reminded", "escalated"} <= {e["type"] for e in r["timeline"]}

    await eventually(chased, what="the twin reminded and escalated")
    # and the answered one was not
    _, r = await clocked_system.call("GET", zj.url(f"/v1/requests/{answered}"), a)
    assert not {"reminded", "escalated"} & {e["type"] for e in r["timeline"]}
