"""Consuming: the one wrapper between RabbitMQ deliveries and message handlers.

Guarantee: each delivery is acked only after its handler's transaction committed
(manual acks, at-least-once); the message id is recorded in that same transaction,
so a redelivery changes nothing twice. A message that cannot be decoded, or that
its handler refuses, is republished to the dead-letter exchange with the reason
(confirmed) before it is acked. Any other failure is nacked for redelivery after
a back-off, waited out without holding a concurrency slot; the queue's delivery
limit dead-letters a message that never succeeds. Handlers never touch acks.
Every delivery ends in one ``Outcome``, reported to the observers (logs; metrics).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from pydantic import ValidationError

from protocol import routing
from protocol.errors import ErrorCode
from protocol.v1 import AnyMessage, parse_message
from services.common.handling import Handler, MessageEarly, MessageRefused

log = structlog.get_logger()


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    """Dead-lettered: undecodable, or refused by its handler."""
    EARLY = "early"
    FAILED = "failed"
    """Redelivered after a back-off."""


Observer = Callable[[str, Outcome, float], None]
Trust = Callable[[str | None, AnyMessage], str | None]
"""Given the publishing user (AMQP ``user-id``) and the message: why to refuse it, or None."""
"""Called with the queue, the outcome and the handling time in seconds of each delivery."""


def backoff(delivery_count: int) -> float:
    """Seconds to wait before redelivering a message that failed ``delivery_count`` times."""
    return min(5.0, 0.1 * 2.0**delivery_count)


class Consumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        channel: AbstractChannel,
        queue: AbstractQueue,
        handler: Handler,
        *,
        concurrency: int = 32,
        observers: Sequence[Observer] = (),
        backoff: Callable[[int], float] = backoff,
        trust: Trust | None = None,
    ) -> None:
        self._pool, self._channel, self._queue = pool, channel, queue
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None] | None] = set()
        self._tag: str | None = None
        self._observers = tuple(observers)
        self._backoff = backoff
        self._trust = trust

    @property
    def queue_name(self) -> str:
        return self._queue.name

    @property
    def consuming(self) -> bool:
        """Registered with the broker on an open channel."""
        return self._tag is not None and not self._channel.is_closed

    async def start(self) -> None:
        self._tag = await self._queue.consume(self._spawn, no_ack=False)

    async def stop(self) -> None:
        """Stop taking deliveries and let the ones in hand finish; a message waiting out
        its back-off stays unacked, so the broker redelivers it when the channel closes."""
        if self._tag is not None:
            await self._queue.cancel(self._tag)
        for task in self._waiting:
            if task is not None:
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _spawn(self, incoming: AbstractIncomingMessage) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._process(incoming))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, incoming: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(
            message_id=incoming.message_id,
            correlation_id=incoming.correlation_id,
            message_type=incoming.type,
            queue=self._queue.name,
        ):
            try:
                outcome, reason = await self._outcome(incoming)
            finally:
                self._slots.release()  # the back-off below waits without a slot
            for observe in self._observers:
                observe(self._queue.name, outcome, time.perf_counter() - started)
            await self._settle(incoming, outcome, reason)

    async def _outcome(
        self, incoming: AbstractIncomingMessage
    ) -> tuple[Outcome, tuple[ErrorCode, str] | str]:
        try:
            message = parse_message(incoming.body)
        except ValidationError as exc:
            return Outcome.REFUSED, (ErrorCode.UNDECODABLE_MESSAGE, _brief(exc))
        if self._trust and (why := self._trust(incoming.user_id, message)):
            return Outcome.REFUSED, (ErrorCode.SENDER_NOT_SERVED, why)
        try:
            first = await self._handle_once(message)
        except MessageRefused as exc:
            return Outcome.REFUSED, (exc.code, exc.reason)
        except MessageEarly as exc:
            return Outcome.EARLY, str(exc)
        except Exception:
            log.exception("handler failed; message will be redelivered",
                          delivery_count=_delivery_count(incoming))
            return Outcome.FAILED, ""
        return (Outcome.HANDLED if first else Outcome.DUPLICATE), ""

    async def _handle_once(self, message: AnyMessage) -> bool:
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
            return bool(first)

    async def _settle(
        self, incoming: AbstractIncomingMessage, outcome: Outcome,
        reason: tuple[ErrorCode, str] | str,
    ) -> None:
        if outcome is Outcome.REFUSED and isinstance(reason, tuple):
            await self._dead_letter(incoming, *reason)
        elif outcome in (Outcome.EARLY, Outcome.FAILED):
            count = _delivery_count(incoming)
            if outcome is Outcome.EARLY:
                log.info("message early; will be redelivered", reason=reason,
                         delivery_count=count)
            waiting = asyncio.current_task()
            self._waiting.add(waiting)
            try:
                await asyncio.sleep(self._backoff(count))
            finally:
                self._waiting.discard(waiting)
            await incoming.nack(requeue=True)
        else:
            await incoming.ack()

    async def _dead_letter(
        self, incoming: AbstractIncomingMessage, code: ErrorCode, reason: str
    ) -> None:
        log.warning("message dead-lettered", error_code=str(code), reason=reason)
        headers = dict(incoming.headers or {}) | {
            "x-xiecha-error-code": str(code),
            "x-xiecha-error-reason": reason[:1000],
            "x-xiecha-original-exchange": incoming.exchange or "",
            "x-xiecha-original-routing-key": incoming.routing_key or "",
            "x-xiecha-original-user-id": incoming.user_id or "",
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


def _delivery_count(incoming: AbstractIncomingMessage) -> int:
    raw = (incoming.headers or {}).get("x-delivery-count", 0)
    return raw if isinstance(raw, int) else 0


def _brief(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in errors[:10])
