"""The requester's desk takes the outcome the deciding desk reports, even where its own
rules would have decided otherwise (the deciding desk may run newer rules)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import aio_pika
import pytest

from protocol import routing
from protocol.v1 import RequestEvent
from tests.integration.test_bus import WUHOU, YUHANG, create_and_deliver, dead_letters, fetch
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_outcome_local_rules_would_refuse_is_applied_not_parked(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given a request delivered at Wuhou (decided change #1 at home)
    rid, token = await create_and_deliver(system)
    now = dt.datetime.now(dt.UTC)
    due = dt.date(2027, 1, 29)
    facts = {"request_id": rid, "actor": "武侯 王五", "bureau": WUHOU, "due_date": due}
    # When the deciding desk reports a reply straight from 'delivered' (a step this desk's
    # table does not allow) and then the requester's closing, decided there
    replied = system.signed(RequestEvent(
        correlation_id="newer-rules", sender=WUHOU, recipient=YUHANG,
        body=facts | {"event_id": uuid.uuid4(), "seq": 2, "state": "replied",
                      "occurred_at": now,
                      "change": {"event": "replied", "reply": {"findings": "查无此户"}}}))
    closed = system.signed(RequestEvent(
        correlation_id="newer-rules", sender=WUHOU, recipient=YUHANG,
        body=facts | {"event_id": uuid.uuid4(), "seq": 3, "state": "closed",
                      "occurred_at": now + dt.timedelta(seconds=1),
                      "change": {"event": "closed", "rating": 4}}))
    for msg in (replied, closed):
        await system.send(routing.DESK_EXCHANGE, routing.desk_key(YUHANG, msg.type),
                          msg.model_dump_json().encode(), str(msg.message_id))
    zj = system.desks["zj"]

    async def closed_home() -> dict[str, Any] | None:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{rid}"), token)
        return r if r["state"] == "closed" else None

    # Then both are applied with the outcome they carry; nothing parked or dead-lettered
    home = await eventually(closed_home, what="the reported outcome applied")
    assert [e["type"] for e in home["timeline"]][-2:] == ["replied", "closed"]
    assert home["reply"]["findings"] == "查无此户" and home["rating"] == 4
    assert home["due_date"] == due.isoformat()
    assert await fetch(system, "zj", "SELECT * FROM parked_event") == []
    assert await dead_letters(channel, routing.desk_inbox_queue("zj")) == []
