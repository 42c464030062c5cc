"""The consumer wrapper against the real broker: a failing message waits out its back-off
without holding a concurrency slot, and is still there afterwards (never lost)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from protocol.v1 import AnyMessage, RegistryRequested
from services.common import topology
from services.common.consumer import Consumer, Outcome
from tests.support import Scratch, eventually

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
    await eventually(lambda: asyncio.sleep(0, handled == ["works"]), what="second handled")
    assert outcomes == [Outcome.FAILED, Outcome.HANDLED]
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
