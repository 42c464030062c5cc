"""Bus-level guarantees against the real broker: dead letters with reasons, duplicates
absorbed, out-of-order events resequenced, strays returned to their sender."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from urllib.parse import quote

import aio_pika
import asyncpg
import pytest

from protocol import routing
from protocol.v1 import RequestCommand, RequestEvent, RequestEventRecorded, RequestSubmitted
from services.common.rabbit_admin import RabbitAdmin
from tests.support import ADMIN, System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU, TIANHE = "330110", "510107", "440106"


async def publish(system: System, exchange: str, key: str, body: bytes,
                  message_id: str | None = None) -> None:
    """As the desk (or hub) that serves the message's sender, with its user-id."""
    await system.send(exchange, key, body, message_id)


async def dead_letters(ch: aio_pika.abc.AbstractChannel, queue: str) -> list[Any]:
    q = await ch.get_queue(routing.dead_letter_queue(queue), ensure=False)
    out = []
    while (m := await q.get(no_ack=True, fail=False)) is not None:
        out.append(m)
    return out


async def fetch(system: System, region: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(system.desks[region].settings.dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def create_and_deliver(system: System, recipient: str = WUHOU) -> tuple[str, str]:
    zj = system.desks["zj"]
    token = await zj.investigator(YUHANG)
    status, req = await system.call("POST", zj.url("/v1/requests"), token,
                                    json=new_request(recipient))
    assert status == 201, req

    async def delivered() -> bool:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{req['id']}"), token)
        return r["state"] == "delivered"

    await eventually(delivered, what="delivered")
    return req["id"], token


async def test_topology_is_durable_quorum_with_policies(system: System) -> None:
    admin = RabbitAdmin(ADMIN)
    vhost = system.scratch.vhost
    for name in (routing.desk_inbox_queue("zj"), routing.HUB_EVENTS_QUEUE):
        info: Any = await admin.get(f"queues/{vhost}/{name}")
        assert info["durable"] and info["type"] == "quorum"
        assert info["arguments"]["x-dead-letter-exchange"] == routing.DEAD_LETTER_EXCHANGE
    desk_ex: Any = await admin.get(f"exchanges/{vhost}/{routing.DESK_EXCHANGE}")
    assert desk_ex["arguments"]["alternate-exchange"] == routing.UNROUTABLE_EXCHANGE
    policies: Any = await admin.get(f"policies/{vhost}")
    assert "xiecha-dead-letters" in {p["name"] for p in policies}


@pytest.mark.parametrize("body", [b"\xff\xfe not json", b'{"type": "request.submitted"}',
                                  b'{"type": "who.knows", "x": 1}'])
async def test_bad_message_goes_to_dead_letters_with_its_reason(
    system: System, channel: aio_pika.abc.AbstractChannel, body: bytes
) -> None:
    queue = routing.desk_inbox_queue("sc")
    await publish(system, routing.DESK_EXCHANGE, routing.desk_key(WUHOU, "request.submitted"),
                  body)

    async def dead() -> list[Any]:
        return await dead_letters(channel, queue)

    [letter] = await eventually(dead, what="dead letter")
    assert letter.body == body
    assert letter.headers["x-xiecha-error-code"] == "undecodable_message"
    assert letter.headers["x-xiecha-error-reason"]
    # and the desk still works
    await create_and_deliver(system)


async def test_redelivered_request_is_delivered_once(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    rid, _ = await create_and_deliver(system)
    [row] = await fetch(system, "zj", "SELECT * FROM request WHERE id = $1", uuid.UUID(rid))
    copy = system.signed(RequestSubmitted(
        correlation_id=row["correlation_id"], sender=YUHANG, recipient=WUHOU,
        body={"request_id": row["id"], "event_id": uuid.uuid4(), "requester": YUHANG,
              "recipient": WUHOU, "created_at": row["created_at"],
              "created_by": row["created_by"], "content": json.loads(row["content"]),
              "due_date": row["due_date"]},
    ))
    for _ in range(3):  # a re-sent copy (new message id), then redelivered twice (same id)
        await publish(system, routing.DESK_EXCHANGE, routing.desk_key(WUHOU, copy.type),
                      copy.model_dump_json().encode(), str(copy.message_id))
    marker_id, _ = await create_and_deliver(system)  # queue order: copies before this one
    events = await fetch(system, "sc", "SELECT type FROM request_event WHERE request_id = $1",
                         uuid.UUID(rid))
    assert sorted(e["type"] for e in events) == ["created", "delivered"]
    assert marker_id != rid


async def test_hub_counts_a_repeated_event_once(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    event = {"event_id": uuid.uuid4(), "request_id": uuid.uuid4(), "event_type": "replied",
             "requester": "330106", "recipient": TIANHE,
             "occurred_at": dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)}
    copies = []
    for _ in range(3):  # different message ids, same event id
        msg = RequestEventRecorded(correlation_id="dup", sender=TIANHE, recipient="hub",
                                   body=event)
        copies.append(msg.message_id)
        await publish(system, routing.HUB_EXCHANGE, routing.hub_key(TIANHE, msg.type),
                      msg.model_dump_json().encode(), str(msg.message_id))

    async def counted() -> dict[str, Any] | None:
        _, s = await system.call("GET", system.hub_url(f"/v1/stats?bureau={TIANHE}"
                                                       "&from=2026-01-05&to=2026-01-05"))
        return s if s["as_recipient"]["period"]["replied"] else None

    await eventually(counted, what="event counted")

    async def all_consumed() -> bool:  # every copy's message id recorded by the hub
        conn = await asyncpg.connect(system.hub_dsn)
        try:
            n = await conn.fetchval("SELECT count(*) FROM processed_message"
                                    " WHERE message_id = ANY($1::uuid[])", copies)
        finally:
            await conn.close()
        return bool(n == 3)

    await eventually(all_consumed, what="all three copies consumed")
    _, stats = await system.call("GET", system.hub_url(f"/v1/stats?bureau={TIANHE}"
                                                       "&from=2026-01-05&to=2026-01-05"))
    assert stats["as_recipient"]["period"]["replied"] == 1


async def test_events_out_of_order_are_applied_in_order(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    rid, token = await create_and_deliver(system)
    now = dt.datetime.now(dt.UTC)
    [row] = await fetch(system, "zj", "SELECT due_date FROM request WHERE id = $1",
                        uuid.UUID(rid))
    facts = {"request_id": rid, "occurred_at": now, "actor": "武侯 王五", "bureau": WUHOU,
             "due_date": row["due_date"]}
    accepted = system.signed(RequestEvent(
        correlation_id="ooo", sender=WUHOU, recipient=YUHANG,
        body=facts | {"event_id": uuid.uuid4(), "seq": 2, "state": "accepted",
                      "change": {"event": "accepted"}}))
    replied = system.signed(RequestEvent(
        correlation_id="ooo", sender=WUHOU, recipient=YUHANG,
        body=facts | {"event_id": uuid.uuid4(), "seq": 3, "state": "replied",
                      "occurred_at": now + dt.timedelta(seconds=1),
                      "change": {"event": "replied", "reply": {"findings": "查无此户"}}}))
    # the reply overtakes the acceptance: it is parked (seen in the table) before #2 is sent
    await publish(system, routing.DESK_EXCHANGE, routing.desk_key(YUHANG, replied.type),
                  replied.model_dump_json().encode(), str(replied.message_id))

    async def parked() -> list[asyncpg.Record]:
        return await fetch(system, "zj", "SELECT seq FROM parked_event WHERE request_id = $1",
                           uuid.UUID(rid))

    assert [r["seq"] for r in await eventually(parked, what="reply parked")] == [3]
    [row] = await fetch(system, "zj", "SELECT state FROM request WHERE id = $1", uuid.UUID(rid))
    assert row["state"] == "delivered"
    await publish(system, routing.DESK_EXCHANGE, routing.desk_key(YUHANG, accepted.type),
                  accepted.model_dump_json().encode(), str(accepted.message_id))
    zj = system.desks["zj"]

    async def replied_home() -> dict[str, Any] | None:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{rid}"), token)
        return r if r["state"] == "replied" else None

    home = await eventually(replied_home, what="reply applied after acceptance")
    assert [e["type"] for e in home["timeline"]][-2:] == ["accepted", "replied"]
    assert home["reply"]["findings"] == "查无此户"
    assert await fetch(system, "zj", "SELECT * FROM parked_event") == []


async def test_event_from_a_bureau_not_party_is_dead_lettered(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    rid, _ = await create_and_deliver(system)
    # signed by Guangdong's desk, which serves the sender: the party check refuses it
    forged = system.signed(RequestEvent(
        correlation_id="forged", sender=TIANHE, recipient=YUHANG,
        body={"request_id": rid, "event_id": uuid.uuid4(), "seq": 2,
              "occurred_at": dt.datetime.now(dt.UTC), "actor": "冒充者", "bureau": TIANHE,
              "state": "accepted", "due_date": "2030-01-01", "change": {"event": "accepted"}}))
    await publish(system, routing.DESK_EXCHANGE, routing.desk_key(YUHANG, forged.type),
                  forged.model_dump_json().encode(), str(forged.message_id))

    async def dead() -> list[Any]:
        return await dead_letters(channel, routing.desk_inbox_queue("zj"))

    [letter] = await eventually(dead, what="forged event dead-lettered")
    assert letter.headers["x-xiecha-error-code"] == "forbidden"
    [row] = await fetch(system, "zj", "SELECT state FROM request WHERE id = $1", uuid.UUID(rid))
    assert row["state"] == "delivered"


async def test_request_no_desk_serves_comes_back_undeliverable(system: System) -> None:
    # Jiangsu (32) has signed partners but no desk in this system hosts it.
    zj = system.desks["zj"]
    token = await zj.investigator(YUHANG)
    status, req = await system.call("POST", zj.url("/v1/requests"), token,
                                    json=new_request("320100"))
    assert status == 201, req

    async def bounced() -> dict[str, Any] | None:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{req['id']}"), token)
        return r if r["state"] == "undeliverable" else None

    home = await eventually(bounced, what="undeliverable")
    last = home["timeline"][-1]
    assert last["type"] == "undeliverable" and "320100" in json.dumps(last["data"])


async def test_any_message_no_desk_takes_comes_back_to_the_timeline(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given a delivered request, and a command for it sent to a bureau no desk serves
    rid, token = await create_and_deliver(system)
    stray = RequestCommand(correlation_id="stray", sender=YUHANG, recipient="320100",
                           body={"request_id": rid, "command_id": uuid.uuid4(),
                                 "issued_at": dt.datetime.now(dt.UTC), "actor": "余杭",
                                 "change": {"event": "reminded", "rule": "manual"}})
    await publish(system, routing.DESK_EXCHANGE, routing.desk_key("320100", stray.type),
                  stray.model_dump_json().encode(), str(stray.message_id))
    zj = system.desks["zj"]

    # Then the requester's timeline says it came back, and the request is unchanged
    async def noted() -> dict[str, Any] | None:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{rid}"), token)
        return r if r["timeline"][-1]["type"] == "message_undeliverable" else None

    home = await eventually(noted, what="undeliverable note")
    assert home["state"] == "delivered"
    assert home["timeline"][-1]["data"]["message"] == "request.command"


async def test_service_channels_publish_persistent_and_confirmed(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given a probe queue that sees what desk-zj's relay publishes to Sichuan
    probe = await channel.declare_queue(exclusive=True)
    await probe.bind(routing.DESK_EXCHANGE, routing.desk_binding("51"))
    # When a request is created and delivered
    await create_and_deliver(system)
    # Then its message was persistent
    message = await eventually(lambda: probe.get(no_ack=True, fail=False), what="a copy")
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    await probe.delete(if_unused=False, if_empty=False)
    # and every channel the services opened is in confirm mode (hub and 3 desks: 2 each,
    # and this module's own); the broker's statistics catch up within seconds
    admin = RabbitAdmin(ADMIN)

    async def all_confirming() -> bool:
        found: Any = await admin.get(f"vhosts/{quote(system.scratch.vhost, safe='')}/channels")
        return len(found) >= 9 and all(c["confirm"] for c in found)

    await eventually(all_confirming, within=30, what="every channel in confirm mode")
