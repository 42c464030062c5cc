"""The forgery matrix: every bus message type forged by the wrong desk, none accepted.

The attacker is the Guangdong desk, holding its own broker credentials; the victims are a
request from Yuhang (Zhejiang desk) to Wuhou (Sichuan desk). Each forgery is refused by
the broker (wrong user-id, routing key or exchange) or dead-lettered with its reason by
the consumer (sender not served by the publisher) or by the handler (body and parties
disagree). Afterwards no desk and not the hub has processed any of them, the request is
unchanged on both desks and the hub's statistics have not moved.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiormq
import asyncpg
import pytest
import pytest_asyncio

from protocol import routing
from protocol.v1 import Message
from protocol.v1 import messages as m
from services.common.trust import user_of
from services.hub import store as hub_store
from tests.integration.test_bus import create_and_deliver, dead_letters, fetch
from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU, TIANHE = "330110", "510107", "440106"
NOW = dt.datetime.now(dt.UTC)
BUREAUS = (YUHANG, WUHOU, TIANHE)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def admin(system: System) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """The admin's channel, to read dead letters."""
    conn = await aio_pika.connect(system.scratch.amqp_url)
    yield await conn.channel()
    await conn.close()


def forgeries(rid: str, sender: str, bureau: str) -> list[Message]:
    """One message of every type, from ``sender``, about request ``rid`` of Yuhang and Wuhou;
    ``bureau`` is the party the body names as acting."""
    ids = {"request_id": rid, "command_id": uuid.uuid4()}
    file = {"request_id": rid, "attachment_id": uuid.uuid4()}
    due = NOW.date() + dt.timedelta(days=30)
    return [
        m.RequestSubmitted(correlation_id="forged", sender=sender, recipient=WUHOU, body={
            "request_id": uuid.uuid4(), "event_id": uuid.uuid4(), "requester": YUHANG,
            "recipient": WUHOU, "created_at": NOW, "created_by": "冒充者",
            "content": new_request(), "due_date": due}),
        m.RequestEvent(correlation_id="forged", sender=sender, recipient=YUHANG, body={
            "request_id": rid, "event_id": uuid.uuid4(), "seq": 2, "occurred_at": NOW,
            "bureau": bureau, "actor": "冒充者", "state": "replied", "due_date": due,
            "change": {"event": "replied", "reply": {"findings": "伪造"}}}),
        m.RequestCommand(correlation_id="forged", sender=sender, recipient=WUHOU, body=ids | {
            "issued_at": NOW, "actor": "冒充者", "change": {"event": "withdrawn"}}),
        m.RequestCommandRefused(correlation_id="forged", sender=sender, recipient=YUHANG,
                                body=ids | {"event": "withdrawn", "reason": "伪造"}),
        m.RequestUndeliverable(correlation_id="forged", sender=sender, recipient=YUHANG, body={
            "request_id": rid, "original_message_id": uuid.uuid4(),
            "original_type": "request.submitted", "reason": "伪造"}),
        m.AttachmentOffered(correlation_id="forged", sender=sender, recipient=WUHOU,
                            body=file | {"name": "伪造.pdf", "media_type": "application/pdf",
                                         "size": 4, "sha256": "0" * 64, "chunks": 1,
                                         "purpose": "request", "uploaded_by": "冒充者",
                                         "uploaded_at": NOW}),
        m.AttachmentChunk(correlation_id="forged", sender=sender, recipient=WUHOU,
                          body=file | {"idx": 0, "data": "JVBERg=="}),
        m.BulkItems(correlation_id="forged", sender=sender, recipient=WUHOU, body={
            "request_id": rid, "batch_id": uuid.uuid4(), "first_idx": 1,
            "items": [{"kind": "complainant", "name": "张三", "id_number": "11010519491231002X"}]}),
        m.BulkAnswers(correlation_id="forged", sender=sender, recipient=YUHANG, body={
            "request_id": rid, "batch_id": uuid.uuid4(), "answered_at": NOW,
            "answered_by": "冒充者", "answers": [{"idx": 1, "result": "confirmed"}]}),
        m.RequestEventRecorded(correlation_id="forged", sender=sender, recipient="hub", body={
            "event_id": uuid.uuid4(), "request_id": rid, "event_type": "item_answered",
            "requester": YUHANG, "recipient": WUHOU, "occurred_at": NOW, "count": 10_000}),
        m.RegistryRequested(correlation_id="forged", sender=sender, recipient="hub",
                            body={"have_version": 0}),
        m.RegistryPublished(correlation_id="forged", sender=sender, recipient=routing.ALL_DESKS,
                            body={"version": 1_000_000, "bureaus": []}),
    ]


async def publish(system: System, who: str, msg: Message, *, user_id: str | None = None,
                  exchange: str | None = None, key: str | None = None) -> str:
    """Publish ``msg`` on a connection of ``who``; 'refused' if the broker refuses it."""
    route = routing.route(msg.sender, msg.recipient, msg.type)
    channel = await system.bus(who)
    ex = await channel.get_exchange(exchange if exchange is not None else route[0],
                                    ensure=False)
    amqp = aio_pika.Message(msg.model_dump_json().encode(), message_id=str(msg.message_id),
                            user_id=user_id or user_of(system.scratch.service_urls[who]),
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
    try:
        await ex.publish(amqp, key if key is not None else route[1])
    except (aiormq.exceptions.ChannelAccessRefused,
            aiormq.exceptions.ChannelPreconditionFailed):
        return "refused"
    await channel.close()
    return "published"


async def figures(system: System) -> list[Any]:
    out = []
    for bureau in BUREAUS:
        _, stats = await system.call("GET", system.hub_url(f"/v1/stats?bureau={bureau}"))
        out.append(stats)
    return out


async def letters(admin: aio_pika.abc.AbstractChannel) -> dict[str, str]:
    """Dead letters of every consumed queue: message id -> error code."""
    out = {}
    for queue in (routing.desk_inbox_queue("zj"), routing.desk_inbox_queue("sc"),
                  routing.desk_registry_queue("zj"), routing.HUB_EVENTS_QUEUE):
        for letter in await dead_letters(admin, queue):
            out[str(letter.message_id)] = str(letter.headers["x-xiecha-error-code"])
    return out


async def test_forgeries_from_the_wrong_desk_are_all_refused(
    system: System, admin: aio_pika.abc.AbstractChannel
) -> None:
    # Given a request from Yuhang delivered at Wuhou, and the hub's figures
    rid, _ = await create_and_deliver(system)
    await counted(system, rid)
    before = await figures(system)
    outcomes: dict[str, tuple[str, str]] = {}  # message id -> (case, broker outcome)

    # When the Guangdong desk forges every message type as Yuhang, Wuhou, the hub or
    # the Sichuan desk (wrong sender in the envelope) ...
    for victim in (YUHANG, WUHOU, "hub", "desk.sc"):
        for msg in forgeries(rid, victim, victim if victim.isdigit() else WUHOU):
            outcomes[str(msg.message_id)] = (f"as {victim}: {msg.type}",
                                             await publish(system, "gd", msg))
    # ... as one of its own bureaus, with a body naming the real parties (decided changes
    # signed with its own key, so the party check is what refuses them) ...
    for msg in forgeries(rid, TIANHE, WUHOU):
        if isinstance(msg, m.RequestEvent | m.RequestSubmitted):
            msg = system.signed(msg)
        if msg.type != "registry.requested":  # names no party: any desk may ask
            outcomes[str(msg.message_id)] = (f"body: {msg.type}",
                                             await publish(system, "gd", msg))
    # ... with another desk's user-id, under another desk's routing key, straight into
    # another desk's queue
    for msg in forgeries(rid, TIANHE, WUHOU)[:2]:
        outcomes[str(msg.message_id)] = (f"user-id: {msg.type}", await publish(
            system, "gd", msg, user_id=user_of(system.scratch.service_urls["sc"])))
    recorded = forgeries(rid, TIANHE, WUHOU)[9]
    outcomes[str(recorded.message_id)] = ("key", await publish(
        system, "gd", recorded, key=routing.hub_key(WUHOU, recorded.type)))
    event = forgeries(rid, TIANHE, WUHOU)[1]
    outcomes[str(event.message_id)] = ("default exchange", await publish(
        system, "gd", event, exchange="", key=routing.desk_inbox_queue("zj")))

    for sender in ("hub", TIANHE):  # a registry pushed into a desk's inbox
        registry = forgeries(rid, sender, WUHOU)[11]
        outcomes[str(registry.message_id)] = (f"registry in inbox as {sender}", await publish(
            system, "gd", registry, exchange=routing.DESK_EXCHANGE,
            key=routing.desk_key(YUHANG, registry.type)))

    # Then each is refused by the broker or dead-lettered with its reason
    published = {mid for mid, (_, how) in outcomes.items() if how == "published"}
    dead: dict[str, str] = {}

    async def all_dead() -> bool:
        dead.update(await letters(admin))
        return published <= set(dead)

    try:
        await eventually(all_dead, what="every published forgery dead-lettered")
    except AssertionError:
        raise AssertionError([outcomes[x] for x in published - set(dead)]) from None
    refused_by = {outcomes[mid][0]: code for mid, code in dead.items() if mid in outcomes}
    assert refused_by["as 510107: request.event"] == "sender_not_served"
    assert refused_by["registry in inbox as hub"] == "sender_not_served"
    assert refused_by[f"registry in inbox as {TIANHE}"] == "sender_not_served"
    assert refused_by["body: request.event"] == "forbidden"
    assert refused_by["body: bulk.answers"] == "forbidden"
    assert refused_by["body: event.recorded"] == "forbidden"
    assert refused_by["body: request.submitted"] == "handler_refused"
    for case in ("as 510107: event.recorded", "as desk.sc: registry.requested",
                 "as hub: registry.published", "body: registry.published",
                 "user-id: request.submitted", "key", "default exchange"):
        assert case in {c for c, how in outcomes.values() if how == "refused"}, case
    # and none was processed anywhere; the request and the figures did not move
    marker, _ = await create_and_deliver(system)  # a real request after them all
    await counted(system, marker)
    forged = [uuid.UUID(mid) for mid in outcomes]
    hub = await asyncpg.connect(system.hub_dsn)
    assert await hub.fetch("SELECT 1 FROM processed_message WHERE message_id = ANY($1)",
                           forged) == []
    await hub.close()
    for region in ("zj", "gd", "sc"):
        assert await fetch(system, region, "SELECT message_id FROM processed_message"
                           " WHERE message_id = ANY($1)", forged) == []
        rows = await fetch(system, region, "SELECT state FROM request WHERE id = $1",
                           uuid.UUID(rid))
        assert [r["state"] for r in rows] in ([], ["delivered"])
    marker = {"created": 1, "sent": 1, "delivered": 1, "requests": 1}  # the real request
    assert await figures(system) == [moved(before[0], "as_requester", marker),
                                     moved(before[1], "as_recipient", marker), before[2]]


async def counted(system: System, rid: str) -> None:
    """Wait until the hub counted a request's created, sent and delivered events."""
    async def three() -> bool:
        hub = await asyncpg.connect(system.hub_dsn)
        try:
            return bool(await hub.fetchval("SELECT count(*) FROM counted_event"
                                           " WHERE request_id = $1", uuid.UUID(rid)) == 3)
        finally:
            await hub.close()

    await eventually(three, what="the hub counted the request's steps")


def moved(stats: dict[str, Any], role: str, delta: dict[str, int]) -> dict[str, Any]:
    """``stats`` with ``delta`` added to the all-time figures of ``role``."""
    figures = dict(stats[role]["all_time"])
    for metric, n in delta.items():
        figures[metric] = figures.get(metric, 0) + n
    return stats | {role: stats[role] | {"all_time": figures}}


async def test_a_desk_cannot_read_other_desks_messages(system: System) -> None:
    # Given the Guangdong desk's own broker user
    channel = await system.bus("gd")
    # When it tries to bind a queue of its own to every desk's messages, it cannot make one
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await channel.declare_queue("spy", exclusive=True)
    # nor take messages from Zhejiang's inbox
    channel = await system.bus("gd")
    queue = await channel.declare_queue(routing.desk_inbox_queue("zj"), passive=True)
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await queue.get(no_ack=False, fail=False)


async def test_desks_refuse_stale_and_inflated_registry_versions(
    system: System, admin: aio_pika.abc.AbstractChannel
) -> None:
    # Given the hub's registry, installed at every desk
    hub = await asyncpg.connect(system.hub_dsn)
    try:
        version, bureaus = await hub_store.load_registry(hub)
    finally:
        await hub.close()

    def registry(v: int) -> m.RegistryPublished:
        return m.RegistryPublished(correlation_id="registry-test", sender="hub",
                                   recipient=routing.ALL_DESKS,
                                   body={"version": v, "bureaus": bureaus})

    # When the hub itself publishes the next version, then an older one and a huge one
    newer, stale, inflated = registry(version + 1), registry(version), registry(version + 5000)
    assert await publish(system, "hub", newer) == "published"

    async def installed() -> bool:
        for region in ("zj", "gd", "sc"):
            rows = await fetch(system, region, "SELECT version FROM registry_state")
            if [r["version"] for r in rows] != [version + 1]:
                return False
        return True

    await eventually(installed, what="the next version installed")
    for msg in (stale, inflated):
        assert await publish(system, "hub", msg) == "published"

    # Then every desk installs the next version and dead-letters the others with the reason
    for region in ("zj", "gd", "sc"):
        codes: set[str] = set()

        async def refused(queue: str = routing.desk_registry_queue(region),
                          codes: set[str] = codes) -> bool:
            codes.update(f"{x.message_id} {x.headers['x-xiecha-error-code']}"
                         for x in await dead_letters(admin, queue))
            return len(codes) >= 2

        await eventually(refused, what=f"{region} refused two registries")
        assert codes == {f"{stale.message_id} stale_registry",
                         f"{inflated.message_id} stale_registry"}
    assert await installed()
