"""Consuming: the one wrapper between RabbitMQ deliveries and message handlers.

Guarantee: each delivery is acked only after its handler's transaction committed
(manual acks, at-least-once); the message id is recorded in that same transaction,
so a redelivery changes nothing twice. A message that cannot be decoded, or that
its handler refuses, is republished to the dead-letter exchange with the reason
(confirmed) before it is acked. Any other failure is nacked for redelivery after
a back-off; the queue's delivery limit dead-letters a message that never succeeds.
Handlers never touch acks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from pydantic import ValidationError

from protocol import routing
from protocol.errors import ErrorCode
from protocol.v1 import AnyMessage, parse_message

log = structlog.get_logger()

Handler = Callable[[asyncpg.Connection, AnyMessage], Awaitable[None]]


class MessageRefused(Exception):
    """Raised by a handler for a message that can never be processed."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class MessageEarly(Exception):
    """Raised by a handler for a message that came before what it depends on (say, a
    request's files before the request): redelivered after a back-off, logged quietly."""


class Consumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        channel: AbstractChannel,
        queue: AbstractQueue,
        handler: Handler,
        *,
        concurrency: int = 32,
    ) -> None:
        self._pool, self._channel, self._queue = pool, channel, queue
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._tag: str | None = None

    async def start(self) -> None:
        self._tag = await self._queue.consume(self._spawn, no_ack=False)

    async def stop(self) -> None:
        """Stop taking deliveries and let the ones in hand finish."""
        if self._tag is not None:
            await self._queue.cancel(self._tag)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _spawn(self, incoming: AbstractIncomingMessage) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._process(incoming))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._slots.release())

    async def _process(self, incoming: AbstractIncomingMessage) -> None:
        with structlog.contextvars.bound_contextvars(
            message_id=incoming.message_id,
            correlation_id=incoming.correlation_id,
            message_type=incoming.type,
            queue=self._queue.name,
        ):
            try:
                message = parse_message(incoming.body)
            except ValidationError as exc:
                await self._dead_letter(incoming, ErrorCode.UNDECODABLE_MESSAGE, _brief(exc))
                return
            try:
                await self._handle_once(message)
            except MessageRefused as exc:
                await self._dead_letter(incoming, exc.code, exc.reason)
                return
            except MessageEarly as exc:
                await self._retry_later(incoming, str(exc))
                return
            except Exception:
                await self._retry_later(incoming)
                return
            await incoming.ack()

    async def _handle_once(self, message: AnyMessage) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(
                "INSERT INTO processed_message (message_id) VALUES ($1)"
                " ON CONFLICT DO NOTHING RETURNING true",
                message.message_id,
            )
            if first:
                await self._handler(conn, message)
                log.info("message handled")
            else:
                log.info("duplicate message ignored")

    async def _retry_later(self, incoming: AbstractIncomingMessage, early: str = "") -> None:
        raw = (incoming.headers or {}).get("x-delivery-count", 0)
        count = raw if isinstance(raw, int) else 0
        if early:
            log.info("message early; will be redelivered", reason=early, delivery_count=count)
        else:
            log.exception("handler failed; message will be redelivered", delivery_count=count)
        await asyncio.sleep(min(5.0, 0.1 * 2**count))
        await incoming.nack(requeue=True)

    async def _dead_letter(
        self, incoming: AbstractIncomingMessage, code: ErrorCode, reason: str
    ) -> None:
        log.warning("message dead-lettered", error_code=str(code), reason=reason)
        headers = dict(incoming.headers or {}) | {
            "x-xiecha-error-code": str(code),
            "x-xiecha-error-reason": reason[:1000],
            "x-xiecha-original-exchange": incoming.exchange or "",
            "x-xiecha-original-routing-key": incoming.routing_key or "",
        }
        dlx = await self._channel.get_exchange(routing.DEAD_LETTER_EXCHANGE, ensure=False)
        await dlx.publish(
            aio_pika.Message(
                incoming.body,
                headers=headers,
                message_id=incoming.message_id,
                correlation_id=incoming.correlation_id,
                type=incoming.type,
                content_type=incoming.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=self._queue.name,
        )
        await incoming.ack()


def _brief(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in errors[:10])
