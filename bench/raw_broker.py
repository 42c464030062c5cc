"""The broker's own ceiling for a request/reply round trip, and nothing else.

Same guarantees as xiecha asks of RabbitMQ: durable quorum queues, persistent
messages, publisher confirms on every publish, manual acks. No database, no HTTP.

A responder (its own connection) consumes the request queue; for each request it
publishes a reply, waits for the broker's confirm, then acks the request. The client
(another connection) publishes N requests, each confirmed, with at most ``window``
publishes awaiting confirmation (as the end-to-end run bounds its creates), and
consumes the replies with manual acks. Measured: N / wall time from the first
publish to the last reply received.
"""

from __future__ import annotations

import asyncio

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from pamqp.common import FieldTable

REQUESTS = "bench.raw.requests"
REPLIES = "bench.raw.replies"
QUORUM: FieldTable = {"x-queue-type": "quorum"}
PAYLOAD = b'{"bench": "' + b"x" * 1000 + b'"}'
"""About the size of a request.submitted message."""


def persistent(body: bytes, correlation_id: str | None) -> aio_pika.Message:
    return aio_pika.Message(body, correlation_id=correlation_id,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


async def declare(channel: AbstractChannel) -> None:
    for name in (REQUESTS, REPLIES):
        await channel.declare_queue(name, durable=True, arguments=QUORUM)


async def start_responder(connection: AbstractConnection, prefetch: int) -> None:
    """Answer every request: publish the reply (confirmed), then ack the request."""
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.declare_queue(REQUESTS, durable=True, arguments=QUORUM)
    exchange = channel.default_exchange

    async def on_request(message: AbstractIncomingMessage) -> None:
        await exchange.publish(persistent(message.body, message.correlation_id), REPLIES)
        await message.ack()

    await queue.consume(on_request, no_ack=False)


async def run_client(connection: AbstractConnection, n: int, window: int) -> float:
    """Publish ``n`` requests and take ``n`` replies; returns the wall time in seconds."""
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=window)
    replies = await channel.declare_queue(REPLIES, durable=True, arguments=QUORUM)
    all_back = asyncio.Event()
    received = 0

    async def on_reply(message: AbstractIncomingMessage) -> None:
        nonlocal received
        await message.ack()
        received += 1
        if received == n:
            all_back.set()

    await replies.consume(on_reply, no_ack=False)
    slots = asyncio.Semaphore(window)
    exchange = channel.default_exchange

    async def publish(i: int) -> None:
        async with slots:
            await exchange.publish(persistent(PAYLOAD, str(i)), REQUESTS)

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.TaskGroup() as tg:
        for i in range(n):
            tg.create_task(publish(i))
    await all_back.wait()
    return loop.time() - started


async def measure(amqp_url: str, n: int, window: int) -> float:
    """Round trips per second through the bare broker at ``amqp_url`` (a fresh vhost)."""
    client = await aio_pika.connect(amqp_url)
    responder = await aio_pika.connect(amqp_url)
    try:
        async with client.channel() as channel:
            await declare(channel)
        await start_responder(responder, prefetch=window)
        return n / await run_client(client, n, window)
    finally:
        await client.close()
        await responder.close()
