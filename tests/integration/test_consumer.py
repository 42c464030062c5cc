"""The consumer wrapper against the real broker: a failing message waits out its back-off
without holding a concurrency slot, and is still there afterwards (never lost); a redelivery
is recognised by its message id; a message that never succeeds is dead-lettered by the
queue's delivery limit."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator

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
                        observers=[lambda _q, outcome, _t: outcomes.append(outcome)],
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
                        observers=[lambda _q, outcome, _t: outcomes.append(outcome)],
                        backoff=lambda _count: 0.0)
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
