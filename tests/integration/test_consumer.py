"""The consumer wrapper against the real broker: a failing message waits out its back-off
without holding a concurrency slot, and is still there afterwards (never lost); a redelivery
is recognised by its message id; a message that never succeeds is dead-lettered by the
queue's delivery limit (a backstop: consumers retry in time, through the broker's delay
tiers, and dead-letter when the retry window is over); a newer protocol version is kept."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import json
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from protocol import routing
from protocol import topology as declared
from protocol.v1 import AnyMessage, RegistryRequested
from services.common import topology
from services.common.consumer import Consumer, Outcome
from services.common.handling import Handler
from services.common.retry import RetryPolicy
from tests.faults import broker_outage
from tests.support import Scratch, eventually, unique, until

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def scratch() -> AsyncIterator[tuple[Scratch, asyncpg.Pool]]:
    s = Scratch()
    await s.open()
    pool = await s.pool("hub", "consumer")
    yield s, pool
    await pool.close()
    await s.close()


def probe(name: str) -> RegistryRequested:
    return RegistryRequested(correlation_id=name, sender="desk.t", recipient="hub",
                             body={"have_version": 0})


async def test_a_message_backing_off_frees_its_slot_and_is_kept(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch
    connection = await aio_pika.connect(s.amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=8)
    await topology.declare_exchanges(channel)
    [spec] = [q for q in topology.queues_for("hub") if q.name.endswith(".events")]
    queue = await topology.declare_queue(channel, spec)
    handled: list[str] = []
    outcomes: list[Outcome] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        if message.correlation_id == "fails":
            raise ConnectionError("the database went away")
        handled.append(message.correlation_id)

    # Given one slot, and a back-off far longer than the test
    consumer = Consumer(pool, channel, queue, handler, concurrency=1,
                        observers=[lambda _q, _type, outcome, _t: outcomes.append(outcome)],
                        backoff=lambda _count: 3600.0)
    await consumer.start()
    exchange = channel.default_exchange
    for name in ("fails", "works"):
        await exchange.publish(aio_pika.Message(probe(name).model_dump_json().encode()),
                               spec.name)
    # When the first fails: then the second is handled while the first waits
    # (the outcome is reported after the handler's commit: wait for it, not the handler)
    await eventually(until(lambda: len(outcomes) == 2), what="second handled")
    assert outcomes == [Outcome.FAILED, Outcome.HANDLED] and handled == ["works"]
    # and stopping does not wait out the back-off; the failed message is still queued
    await asyncio.wait_for(consumer.stop(), 30)
    await connection.close()
    connection = await aio_pika.connect(s.amqp_url)
    channel = await connection.channel()

    async def requeued() -> bool:
        q = await channel.declare_queue(spec.name, passive=True)
        return q.declaration_result.message_count == 1

    await eventually(requeued, what="the failed message back in its queue")
    await connection.close()


async def consuming(s: Scratch, pool: asyncpg.Pool, handler: Handler, outcomes: list[Outcome],
                    ) -> tuple[aio_pika.abc.AbstractConnection, Consumer, str]:
    """A consumer of a fresh hub events queue, reporting each delivery's outcome."""
    connection = await aio_pika.connect(s.amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await topology.declare_exchanges(channel)
    [spec] = [q for q in topology.queues_for("hub") if q.name.endswith(".events")]
    spec = dataclasses.replace(spec, name=unique("xiecha.v1.probe"))
    await topology.declare_queue(channel, spec)
    queue = await channel.get_queue(spec.name)
    consumer = Consumer(pool, channel, queue, handler, concurrency=1,
                        observers=[lambda _q, _type, outcome, _t: outcomes.append(outcome)],
                        backoff=lambda _count: 0.0,
                        retry=RetryPolicy(in_place=1_000))  # never the delay tiers
    await consumer.start()
    return connection, consumer, spec.name


async def test_a_redelivered_message_is_handled_once(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch
    handled: list[str] = []
    outcomes: list[Outcome] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        handled.append(message.correlation_id)

    connection, consumer, name = await consuming(s, pool, handler, outcomes)
    # Given the same message (same message id) delivered twice
    body = probe("twice").model_dump_json().encode()
    channel = await connection.channel()
    for _ in range(2):
        await channel.default_exchange.publish(aio_pika.Message(body), name)
    # Then the second delivery is recognised by its id and changes nothing
    await eventually(until(lambda: len(outcomes) == 2), what="both deliveries")
    assert outcomes == [Outcome.HANDLED, Outcome.DUPLICATE]
    assert handled == ["twice"]
    await consumer.stop()
    await connection.close()


async def test_a_message_that_keeps_failing_is_dead_lettered_by_the_delivery_limit(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch
    outcomes: list[Outcome] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        raise ConnectionError("never works")

    connection, consumer, name = await consuming(s, pool, handler, outcomes)
    channel = await connection.channel()
    await channel.default_exchange.publish(
        aio_pika.Message(probe("doomed").model_dump_json().encode()), name)
    # Then after the queue's delivery limit the broker moves it to the dead letters
    dlq = await channel.get_queue(routing.dead_letter_queue(name), ensure=False)
    letter = await eventually(lambda: dlq.get(no_ack=True, fail=False), within=30,
                              what="dead-lettered by the delivery limit")
    assert letter.headers["x-first-death-reason"] == "delivery_limit"
    assert json.loads(letter.body)["correlation_id"] == "doomed"
    limit = declared.QUEUE_ARGUMENTS["x-delivery-limit"]
    assert outcomes.count(Outcome.FAILED) == limit + 1 and set(outcomes) == {Outcome.FAILED}
    await consumer.stop()
    await connection.close()


async def consuming_with_tiers(
    s: Scratch, pool: asyncpg.Pool, handler: Handler, retry: RetryPolicy
) -> tuple[aio_pika.abc.AbstractConnection, aio_pika.abc.AbstractChannel, str, Consumer]:
    """A consumer of the hub's events queue on a fresh channel, delay tiers declared."""
    connection = await aio_pika.connect(s.amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await topology.declare_exchanges(channel)
    await topology.declare_delay_queues(channel)
    [spec] = [q for q in topology.queues_for("hub") if q.name.endswith(".events")]
    queue = await topology.declare_queue(channel, spec)
    await queue.purge()
    consumer = Consumer(pool, channel, queue, handler, backoff=lambda _count: 0.0, retry=retry)
    await consumer.start()
    return connection, channel, spec.name, consumer


async def dead_letter(channel: aio_pika.abc.AbstractChannel, queue: str) -> dict[str, Any]:
    dlq = await channel.get_queue(routing.dead_letter_queue(queue))

    async def got() -> aio_pika.abc.AbstractIncomingMessage | None:
        return await dlq.get(no_ack=True, fail=False)

    message = await eventually(got, what="a dead letter")
    return dict(message.headers or {})


async def test_an_infrastructure_failure_is_retried_through_the_delay_tiers(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch
    calls: list[int] = []
    seen: list[dict[str, Any]] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise ConnectionError("the database went away")
        seen.append({"ok": True})

    # Given a handler that fails twice: once retried in place, then through a delay tier
    connection, channel, name, consumer = await consuming_with_tiers(s, pool, handler,
                                                          RetryPolicy(in_place=1))
    await channel.default_exchange.publish(
        aio_pika.Message(probe("retried").model_dump_json().encode()), name)
    # Then it is handled once it came back from the 1 s tier, and nothing is dead-lettered
    await eventually(lambda: asyncio.sleep(0, bool(seen)), within=20, what="handled at last")
    assert len(calls) == 3
    dlq = await channel.get_queue(routing.dead_letter_queue(name))
    assert await dlq.get(no_ack=True, fail=False) is None
    await consumer.stop()
    await connection.close()


async def test_after_the_retry_window_a_message_is_dead_lettered_with_the_reason(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        raise ConnectionError("the database went away")

    connection, channel, name, consumer = await consuming_with_tiers(
        s, pool, handler, RetryPolicy(in_place=0, give_up_after=dt.timedelta(0)))
    await channel.default_exchange.publish(
        aio_pika.Message(probe("given-up").model_dump_json().encode()), name)
    headers = await dead_letter(channel, name)
    assert headers["x-xiecha-error-code"] == "retries_exhausted"
    await consumer.stop()
    await connection.close()


async def test_a_newer_protocol_version_is_kept_not_dropped(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch
    handled: list[AnyMessage] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        handled.append(message)

    connection, channel, name, consumer = await consuming_with_tiers(
        s, pool, handler, RetryPolicy())
    newer = json.loads(probe("from-the-future").model_dump_json()) | {"schema_version": 2}
    await channel.default_exchange.publish(aio_pika.Message(json.dumps(newer).encode()), name)
    headers = await dead_letter(channel, name)
    assert headers["x-xiecha-error-code"] == "newer_protocol_version"
    assert not handled
    await consumer.stop()
    await connection.close()


async def test_a_message_in_hand_when_the_channel_closes_is_left_to_the_broker(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    s, pool = scratch
    outcomes: list[Outcome] = []
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    channels: list[aio_pika.abc.AbstractChannel] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        await channels[0].close()  # as a broker restart does, while the message is in hand

    try:
        connection, consumer, name = await consuming(s, pool, handler, outcomes)
        channels.append(consumer._channel)
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(probe("in-hand").model_dump_json().encode()), name)
        # When the handler's work is done but the ack cannot be sent
        await eventually(until(lambda: outcomes == [Outcome.HANDLED] and not consumer.busy),
                         what="the delivery handled and its task ended")
        gc.collect()
        # Then no task ended with an exception nobody retrieves, and the message is back
        assert unretrieved == []
        queue = await channel.declare_queue(name, passive=True)
        assert queue.declaration_result.message_count == 1
    finally:
        loop.set_exception_handler(previous)
    await connection.close()


async def test_a_consumer_stops_cleanly_while_its_broker_is_away(
    scratch: tuple[Scratch, asyncpg.Pool]
) -> None:
    # Given a consumer on a robust connection, as the services run it
    s, pool = scratch
    connection = await aio_pika.connect_robust(s.amqp_url)
    channel = await connection.channel()
    await topology.declare_exchanges(channel)
    [spec] = [q for q in topology.queues_for("hub") if q.name.endswith(".events")]
    spec = dataclasses.replace(spec, name=unique("xiecha.v1.probe"))
    await topology.declare_queue(channel, spec)
    consumer = Consumer(pool, channel, await channel.get_queue(spec.name),
                        _never_called, concurrency=1)
    await consumer.start()
    try:
        # When the service shuts down while the broker has dropped it (not yet reconnected)
        async with broker_outage(s.vhost, 1):
            await eventually(until(lambda: not consumer.consuming), what="channel lost")
            # Then stopping neither hangs nor raises (the shutdown goes on)
            await asyncio.wait_for(consumer.stop(), 10)
        assert not consumer.busy
    finally:
        await connection.close()


async def _never_called(conn: asyncpg.Connection, message: AnyMessage) -> None:
    raise AssertionError("no message was published")
