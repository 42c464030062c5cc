"""Transactional outbox: messages are stored with the change that caused them.

Guarantee: a message enqueued in a committed transaction is published at least
once, with publisher confirms, in enqueue order per relay; it is deleted only after
the broker confirmed it. A crash between confirm and delete republishes it, which
consumers absorb because they are idempotent by message id. A row that can never be
published (an exchange the topology lacks) moves to ``outbox_failed`` with its reason
instead of blocking the rows after it. The relay fails loudly (its supervisor restarts
it, listening again) when its database or broker connection is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange

from protocol import routing, topology
from protocol.v1 import Message

log = structlog.get_logger()

KNOWN_EXCHANGES: Final = frozenset(e.name for e in topology.EXCHANGES)


class ListenerLost(ConnectionError):
    """The relay's LISTEN connection is gone (say, PostgreSQL restarted)."""


AfterPublish = Callable[
    [asyncpg.Connection, Sequence[asyncpg.Record], dt.datetime], Awaitable[None]
]
"""Called in the relay's transaction with the rows just confirmed and when publishing began."""


_ENQUEUE = (
    # one statement for all of a change's messages (one round trip, one NOTIFY); ids
    # follow the order given, so the relay publishes them in that order
    "INSERT INTO outbox (message_id, exchange, routing_key, message_type, correlation_id,"
    " payload, sender, request_id) SELECT m, e, k, t, c, p, s, r FROM unnest($1::uuid[],"
    " $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::uuid[])"
    " WITH ORDINALITY AS x(m, e, k, t, c, p, s, r, i) ORDER BY i"
)


async def enqueue(conn: asyncpg.Connection, *messages: Message) -> None:
    """Store ``messages`` in the caller's transaction; the relay publishes them after
    commit, in this order."""
    rows = [_row(message) for message in messages]
    if not rows:
        return
    await conn.execute(_ENQUEUE, *(list(column) for column in zip(*rows, strict=True)))


def _row(message: Message) -> tuple[object, ...]:
    exchange, key = routing.route(message.sender, message.recipient, message.type)
    return (message.message_id, exchange, key, message.type, message.correlation_id,
            message.model_dump_json().encode(), message.sender,
            getattr(getattr(message, "body", None), "request_id", None))


def amqp_message(row: asyncpg.Record, user_id: str | None = None) -> aio_pika.Message:
    """The AMQP message of an outbox row; ``user_id`` (the connection's user, checked by
    the broker) tells consumers who published it."""
    return aio_pika.Message(
        row["payload"],
        message_id=str(row["message_id"]),
        correlation_id=row["correlation_id"],
        type=row["message_type"],
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        user_id=user_id,
    )


class OutboxRelay:
    """Publishes committed outbox rows; woken by NOTIFY, with a polling fallback."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        channel: AbstractChannel,
        *,
        after_publish: AfterPublish | None = None,
        batch: int = 500,
        max_bytes: int = 8 * 1024 * 1024,
        poll_seconds: float = 1.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        alive: Callable[[], None] = lambda: None,
        published: Callable[[Sequence[str]], None] = lambda types: None,
        user_id: str | None = None,
    ) -> None:
        self._published = published
        self._pool, self._channel, self._clock, self._alive = pool, channel, clock, alive
        self._user_id = user_id
        self._after_publish = after_publish
        self._batch, self._max_bytes, self._poll = batch, max_bytes, poll_seconds
        self._wake = asyncio.Event()
        self._exchanges: dict[str, AbstractExchange] = {}

    async def _exchange(self, name: str) -> AbstractExchange:
        if name not in self._exchanges:
            self._exchanges[name] = await self._channel.get_exchange(name, ensure=False)
        return self._exchanges[name]

    async def flush_once(self) -> int:
        """Publish one batch; returns how many messages were confirmed and removed."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await self._set_aside_poison(conn, await self._claim(conn))
            if not rows:
                return 0
            started = self._clock()
            publishes = [
                (await self._exchange(r["exchange"])).publish(amqp_message(r, self._user_id),
                                                     r["routing_key"])
                for r in rows
            ]
            await asyncio.gather(*publishes)
            if self._after_publish:
                await self._after_publish(conn, rows, started)
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1)", [r["id"] for r in rows])
        self._published([r["message_type"] for r in rows])
        return len(rows)

    async def _set_aside_poison(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> list[asyncpg.Record]:
        """Move rows that can never be published to ``outbox_failed``; the others."""
        poison = [r["id"] for r in rows if r["exchange"] not in KNOWN_EXCHANGES]
        if poison:
            await conn.execute(
                "WITH gone AS (DELETE FROM outbox WHERE id = ANY($1) RETURNING *)"
                " INSERT INTO outbox_failed SELECT gone.*, 'unknown exchange' FROM gone", poison)
            log.error("outbox rows set aside: unknown exchange", count=len(poison))
        return [r for r in rows if r["id"] not in poison]

    async def _claim(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """Lock the next rows, up to ``batch`` rows and ``max_bytes`` of payload (at least one)."""
        sizes = await conn.fetch(
            "SELECT id, octet_length(payload) AS size FROM outbox ORDER BY id LIMIT $1"
            " FOR UPDATE SKIP LOCKED", self._batch,
        )
        ids: list[int] = []
        total = 0
        for row in sizes:
            total += row["size"]
            if ids and total > self._max_bytes:
                break
            ids.append(row["id"])
        if not ids:
            return []
        return list(await conn.fetch("SELECT * FROM outbox WHERE id = ANY($1) ORDER BY id", ids))

    async def run(self) -> None:
        """Listen for NOTIFY and publish until cancelled; raises when a connection is lost."""
        async with self._pool.acquire() as listener:
            wake = lambda *_: self._wake.set()  # noqa: E731
            await listener.add_listener("outbox", wake)
            # a lost connection wakes the loop too, not only the next poll
            listener.add_termination_listener(wake)
            try:
                await self._loop(listener)
            finally:
                listener.remove_termination_listener(wake)
                if not listener.is_closed():
                    await listener.remove_listener("outbox", wake)

    async def _loop(self, listener: asyncpg.Connection) -> None:
        while True:
            if listener.is_closed():
                raise ListenerLost("the outbox LISTEN connection was closed")
            self._wake.clear()
            published = await self.flush_once()
            self._alive()
            if published:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
