"""Completed checks of a bulk request at the hub: its N answered items, not N + 1 (its
reply is no check of its own), whichever of the reply and the items the hub counts first,
and however often a message comes again."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from protocol import routing
from protocol.v1 import RequestEventRecorded
from tests.integration.test_bulk import credit_code
from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG = "330110"
DAY = dt.datetime(2026, 3, 2, 3, tzinfo=dt.UTC)


async def record(system: System, rid: uuid.UUID, recipient: str, event_type: str,
                 count: int = 1, event_id: uuid.UUID | None = None) -> uuid.UUID:
    """The recipient's desk tells the hub about one event of request ``rid``."""
    body: dict[str, Any] = {
        "event_id": event_id or uuid.uuid4(), "request_id": rid, "event_type": event_type,
        "requester": YUHANG, "recipient": recipient, "occurred_at": DAY, "count": count,
        "kind": "merchant_registration"}
    if event_type == "replied":
        body |= {"on_time": True, "turnaround_days": 3}
    msg = RequestEventRecorded(correlation_id="bulk", sender=recipient, recipient="hub",
                               body=body)
    await system.send(routing.HUB_EXCHANGE, routing.hub_key(recipient, msg.type),
                      msg.model_dump_json().encode(), str(msg.message_id))
    return uuid.UUID(str(body["event_id"]))


async def checks(system: System, recipient: str, replied: int, n: int) -> dict[str, Any]:
    """The recipient's figures of DAY once it shows ``replied`` replies and ``n`` checks."""
    async def probe() -> dict[str, Any] | None:
        _, stats = await system.call("GET", system.hub_url(
            f"/v1/stats?bureau={recipient}&from=2026-03-02&to=2026-03-02"))
        day: dict[str, Any] = stats["as_recipient"]["period"]
        return day if (day["replied"], day["completed_checks"]) == (replied, n) else None
    return await eventually(probe, what=f"{replied} replies and {n} checks of {recipient}")


async def test_items_then_reply_count_the_items_only(system: System) -> None:
    rid, wuhou = uuid.uuid4(), "510107"
    await record(system, rid, wuhou, "item_answered", count=3)
    await record(system, rid, wuhou, "item_answered", count=2)
    await checks(system, wuhou, 0, 5)
    await record(system, rid, wuhou, "replied")
    day = await checks(system, wuhou, 1, 5)  # was 6: the reply counted as a check too
    assert (day["replied"], day["item_answered"]) == (1, 5)


async def test_reply_then_items_count_the_items_only(system: System) -> None:
    rid, tianhe = uuid.uuid4(), "440106"
    reply = await record(system, rid, tianhe, "replied")
    await checks(system, tianhe, 1, 1)
    await record(system, rid, tianhe, "item_answered", count=4)
    await checks(system, tianhe, 1, 4)
    # a repeated reply and more items: each counted once, the reply still no check
    await record(system, rid, tianhe, "replied", event_id=reply)
    await record(system, rid, tianhe, "item_answered", count=2)
    day = await checks(system, tianhe, 1, 6)
    assert (day["replied"], day["item_answered"]) == (1, 6)


async def test_a_request_without_items_is_one_check(system: System) -> None:
    rid, xihu = uuid.uuid4(), "330106"
    await record(system, rid, xihu, "replied")
    await checks(system, xihu, 1, 1)


async def test_a_bulk_request_answered_and_replied_through_the_desks_is_n_checks(
    system: System
) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    jinjiang = "510104"  # no other test here counts for it
    a, b = await zj.investigator(YUHANG), await sc.investigator(jinjiang)
    # Given a request from Yuhang to Jinjiang with three merchants to check
    status, req = await system.call("POST", zj.url("/v1/requests"), a,
                                    json=new_request(jinjiang))
    assert status == 201, req
    items = f"/v1/requests/{req['id']}/items"

    async def delivered() -> bool:
        return (await system.call("GET", sc.url(f"/v1/requests/{req['id']}"), b))[0] == 200

    await eventually(delivered, what="delivered")
    status, added = await system.call("POST", zj.url(items), a,
                                      json=[{"credit_code": credit_code(n)} for n in (1, 2, 3)])
    assert status == 200 and added["accepted"] == 3, added

    async def arrived() -> bool:
        _, page = await system.call("GET", sc.url(items), b)
        return bool(page["counts"]["total"] == 3)

    await eventually(arrived, what="the items at Jinjiang's desk")
    # When Jinjiang accepts, answers the three and replies
    assert (await system.call("POST", sc.url(f"/v1/requests/{req['id']}/accept"), b))[0] == 200
    status, answered = await system.call("POST", sc.url(f"{items}/answers"), b, json=[
        {"idx": n, "result": "confirmed"} for n in (1, 2, 3)])
    assert status == 200 and answered["answered"] == 3, answered
    status, _ = await system.call("POST", sc.url(f"/v1/requests/{req['id']}/reply"), b,
                                  json={"findings": "已查明"})
    assert status == 200

    # Then the hub shows one reply and three completed checks (it showed four)
    async def counted() -> dict[str, Any] | None:
        _, stats = await system.call("GET", system.hub_url(f"/v1/stats?bureau={jinjiang}"))
        mine: dict[str, Any] = stats["as_recipient"]["all_time"]
        return mine if (mine["replied"], mine["item_answered"]) == (1, 3) else None

    figures = await eventually(counted, what="the reply and the items counted")
    assert figures["completed_checks"] == 3
