"""The outbox relay: a message leaves the outbox only once the broker confirmed it (a failed
or refused publish keeps it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from services.common import topology
from services.common.outbox import OutboxRelay
from tests.support import Scratch

pytestmark = pytest.mark.asyncio(loop_scope="session")

Parts = tuple[asyncpg.Pool, aio_pika.abc.AbstractChannel, str]


@pytest_asyncio.fixture(loop_scope="session")
async def parts() -> AsyncIterator[Parts]:
    scratch = Scratch()
    await scratch.open()
    pool = await scratch.pool("desk", "outbox")
    connection = await aio_pika.connect(scratch.amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await topology.declare_exchanges(channel)
    queue = await channel.declare_queue("probe", durable=True)
    await queue.bind("xiecha.v1.desk", "#")
    yield pool, channel, scratch.amqp_url
    await connection.close()
    await pool.close()
    await scratch.close()


async def add(pool: asyncpg.Pool, size: int, exchange: str = "xiecha.v1.desk") -> None:
    await pool.execute(
        "INSERT INTO outbox (message_id, exchange, routing_key, message_type, correlation_id,"
        " payload) VALUES ($1, $2, 'v1.desk.51.510107.test', 'test', 'c', $3)",
        uuid.uuid4(), exchange, b"x" * size,
    )


async def outbox_size(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox"))


async def test_batches_are_bounded_by_bytes(parts: Parts) -> None:
    pool, channel, _ = parts
    for _ in range(3):
        await add(pool, 5 * 1024 * 1024)
    await add(pool, 10)
    relay = OutboxRelay(pool, channel, max_bytes=8 * 1024 * 1024)
    assert [await relay.flush_once() for _ in range(4)] == [1, 1, 2, 0]
    assert await outbox_size(pool) == 0
    probe = await channel.get_queue("probe")
    received = 0
    while await probe.get(no_ack=True, fail=False) is not None:
        received += 1
    assert received == 4


async def test_a_failed_publish_keeps_the_messages(parts: Parts) -> None:
    pool, _, amqp_url = parts
    # Given a message for an exchange the broker does not have (the channel will fail)
    await add(pool, 10, exchange="no.such.exchange")
    scratch_conn = await aio_pika.connect(amqp_url)
    try:
        channel = await scratch_conn.channel(publisher_confirms=True)
        relay = OutboxRelay(pool, channel)
        with pytest.raises(aio_pika.exceptions.AMQPError):
            await relay.flush_once()
    finally:
        await scratch_conn.close()
    # Then it is still in the outbox, to be published when the cause is fixed
    assert await outbox_size(pool) == 1
    await pool.execute("DELETE FROM outbox")



async def test_a_message_the_broker_refuses_stays_in_the_outbox(parts: Parts) -> None:
    pool, channel, _ = parts
    # Given a queue that is full and refuses more (the broker nacks the publish)
    exchange = await channel.declare_exchange("full.test", aio_pika.ExchangeType.FANOUT)
    full = await channel.declare_queue(
        "", exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    await full.bind(exchange)
    await add(pool, 10, exchange="full.test")
    # When the relay publishes it: the nack fails the flush, the row stays
    relay = OutboxRelay(pool, channel)
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await relay.flush_once()
    assert await outbox_size(pool) == 1
    # and once the queue takes messages again, it is published and only then removed
    await full.delete(if_unused=False, if_empty=False)
    ok = await channel.declare_queue("", exclusive=True)
    await ok.bind(exchange)
    assert await relay.flush_once() == 1
    assert await outbox_size(pool) == 0
    assert await ok.get(no_ack=True, fail=False) is not None
    await exchange.delete()
