"""The outbox relay: a message leaves the outbox only once the broker confirmed it (a failed
or refused publish keeps it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from services.common import db, topology
from services.common.outbox import OutboxRelay
from services.common.supervise import Supervisor
from tests.faults import proxy_for
from tests.support import Scratch, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

Parts = tuple[asyncpg.Pool, aio_pika.abc.AbstractChannel, str, str]


@pytest_asyncio.fixture(loop_scope="session")
async def parts() -> AsyncIterator[Parts]:
    scratch = Scratch()
    await scratch.open()
    dsn = scratch.dsn("outbox")
    await db.ensure_database(dsn)
    await db.migrate(dsn, "desk")
    pool = await db.open_pool(dsn)
    connection = await aio_pika.connect(scratch.amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await topology.declare_exchanges(channel)
    queue = await channel.declare_queue("probe", durable=True)
    await queue.bind("xiecha.v1.desk", "#")
    yield pool, channel, scratch.amqp_url, dsn
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
    pool, channel, _, _ = parts
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


async def test_a_poison_row_does_not_block_later_rows(parts: Parts) -> None:
    pool, channel, _, _ = parts
    probe = await channel.get_queue("probe")
    await probe.purge()
    # Given a row for an exchange the topology does not have, then a good row
    await add(pool, 10, exchange="no.such.exchange")
    await add(pool, 10)
    # When the relay flushes
    relay = OutboxRelay(pool, channel)
    assert await relay.flush_once() == 1
    # Then the good row was published and the poison one set aside with its reason
    assert await outbox_size(pool) == 0
    assert await probe.get(no_ack=True, fail=False) is not None
    failed = await pool.fetch("SELECT exchange, reason FROM outbox_failed")
    assert [(r["exchange"], r["reason"]) for r in failed] == [
        ("no.such.exchange", "unknown exchange")]
    await pool.execute("DELETE FROM outbox_failed")


async def test_a_failed_publish_keeps_the_messages(parts: Parts) -> None:
    pool, _, amqp_url, _ = parts
    # Given a message and a channel that the broker closes
    await add(pool, 10)
    scratch_conn = await aio_pika.connect(amqp_url)
    channel = await scratch_conn.channel(publisher_confirms=True)
    relay = OutboxRelay(pool, channel)
    await scratch_conn.close()
    with pytest.raises((aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError)):
        await relay.flush_once()
    # Then it is still in the outbox, to be published when the broker is back
    assert await outbox_size(pool) == 1
    await pool.execute("DELETE FROM outbox")



async def test_a_message_the_broker_refuses_stays_in_the_outbox(parts: Parts) -> None:
    pool, channel, _, _ = parts
    # Given a queue that is full and refuses more: the broker nacks what is routed to it
    full = await channel.declare_queue(
        "", exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    await full.bind("xiecha.v1.desk", "v1.desk.99.full")
    await pool.execute(
        "INSERT INTO outbox (message_id, exchange, routing_key, message_type, correlation_id,"
        " payload) VALUES ($1, 'xiecha.v1.desk', 'v1.desk.99.full', 'test', 'c', 'x')",
        uuid.uuid4())
    # When the relay publishes it: the nack fails the flush, the row stays
    relay = OutboxRelay(pool, channel)
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await relay.flush_once()
    assert await outbox_size(pool) == 1
    # and once the queue is gone, it is published (to the probe) and only then removed
    await full.delete(if_unused=False, if_empty=False)
    assert await relay.flush_once() == 1
    assert await outbox_size(pool) == 0
    probe = await channel.get_queue("probe")
    await probe.purge()


async def test_relay_listens_again_after_the_database_connection_is_lost(parts: Parts) -> None:
    pool, channel, _, dsn = parts
    probe = await channel.get_queue("probe")
    await probe.purge()
    # Given a supervised relay whose database is behind a proxy, polling only every 60 s
    proxy, proxied_dsn = await proxy_for(dsn)
    proxied = await db.open_pool(proxied_dsn, min_size=1)
    # never give up here: under load the cut can outlast 50 quick restarts
    supervisor = Supervisor(delay=lambda n: 0.2, on_give_up=lambda name: None)
    relay = OutboxRelay(proxied, channel, poll_seconds=60,
                        alive=lambda: supervisor.mark_healthy("relay"))
    supervisor.start("relay", relay.run)
    try:
        await published_soon(pool, probe)  # NOTIFY works to begin with
        # When the database connections are cut (as by a PostgreSQL restart) and come back
        await proxy.cut()
        await eventually(healthy(supervisor, "relay", False), what="relay unhealthy")
        await proxy.start()
        await eventually(healthy(supervisor, "relay", True), what="relay healthy")
        # Then a new row is published at once: the relay listens again, no 60 s poll
        await published_soon(pool, probe)
        assert supervisor.health()["relay"]["restarts"] >= 1
    finally:
        await supervisor.close()
        await proxied.close()
        await proxy.cut()


async def published_soon(pool: asyncpg.Pool, probe: aio_pika.abc.AbstractQueue) -> None:
    await add(pool, 10)

    async def arrived() -> bool:
        return await probe.get(no_ack=True, fail=False) is not None

    await eventually(arrived, within=5, what="publish woken by NOTIFY")


def healthy(supervisor: Supervisor, part: str, want: bool) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return bool(supervisor.health()[part]["ok"]) is want

    return probe
