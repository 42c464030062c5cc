"""A transfer to a signed partner no desk serves does not strand the request: the hub
returns the hand-over, the transferring desk takes the request back into its bureau's
inbox and tells the requester in that bureau's name (the only one its broker user may
speak for), so the requester can chase or withdraw it as before (issue 12)."""

from __future__ import annotations

from typing import Any

import aio_pika
import pytest

from protocol import routing
from tests.integration.test_bus import dead_letters
from tests.integration.test_workflow import WUHOU, new_case
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def unserved_partner(system: System) -> str:
    """A signed partner in Jiangsu, a province none of the running desks hosts."""
    _, registry = await system.call(
        "GET", system.hub_url("/v1/registry?status=signed&province=32"))
    code: str = registry["bureaus"][0]["code"]
    assert not any(d.settings.hosts(code) for d in system.desks.values())
    return code


async def test_a_hand_over_no_desk_takes_returns_to_the_transferring_bureau(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    nobody = await unserved_partner(system)
    case = await new_case(system)
    # When Wuhou transfers the request to a bureau no desk serves
    status, body = await case.b_does("transfer", {"to": nobody, "note": "转江苏"})
    assert status == 200, body

    # Then the hand-over comes back: both sides hold it delivered to Wuhou again, told why
    # (a view reads the request and its timeline one statement after the other: wait for
    # both to show the return)
    async def returned() -> tuple[Any, Any] | None:
        home, away = await case.home(), await case.away()
        done = [s for s in (home, away) if s["state"] == "delivered"
                and s["timeline"][-1]["type"] == "transfer_returned"]
        return (home, away) if len(done) == 2 else None

    home, away = await eventually(returned, what="the hand-over returned on both sides")
    for side in (home, away):
        assert side["recipient"]["code"] == WUHOU and side["transferred_from"] == [], side
        assert side["timeline"][-1]["data"]["unserved"] == nobody
    # nothing the requester's desk or the hub refused on the way
    for queue in (routing.desk_inbox_queue("zj"), routing.HUB_EVENTS_QUEUE):
        assert await dead_letters(channel, queue) == [], queue

    # And the requester can chase and withdraw it (decided by Wuhou's desk again)
    status, body = await case.a_does("remind", {"note": "请尽快办理"})
    assert status == 202, body
    status, body = await case.a_does("withdraw", {"note": "另行处理"})
    assert status == 202, body
    home, _ = await case.both_in("withdrawn")
    assert [e["type"] for e in home["timeline"]][-3:] == [
        "transfer_returned", "reminded", "withdrawn"]


async def test_the_hub_counts_the_return_for_the_transferring_bureau(system: System) -> None:
    nobody = await unserved_partner(system)
    case = await new_case(system)
    status, _ = await case.b_does("transfer", {"to": nobody})
    assert status == 200

    async def counted() -> Any:
        _, stats = await system.call(
            "GET", system.hub_url(f"/v1/stats?bureau={WUHOU}"))
        mine = stats["as_recipient"]["all_time"]
        return mine if mine.get("transfer_returned", 0) >= 1 else None

    await eventually(counted, what="the return counted at the hub")
