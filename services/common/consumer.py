"""Consuming: the one wrapper between RabbitMQ deliveries and message handlers.

Guarantee: each delivery is acked only after its handler's transaction committed
(manual acks, at-least-once); the message id is recorded in that same transaction,
so a redelivery changes nothing twice. A message that cannot be decoded, or that
its handler refuses, is republished to the dead-letter exchange with the reason
(confirmed) before it is acked; so is a message of a newer protocol version, kept
there for replay after an upgrade. Any other failure is retried for a time, not a
count (``retry.RetryPolicy``): first nacked after an in-process back-off that holds no
concurrency slot, then sent through the broker's delay tiers (confirmed, then acked),
and dead-lettered only when the retry window is over. Handlers never touch acks.
Every delivery ends in one ``Outcome``, reported to the observers (logs; metrics).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aiormq.exceptions import AMQPError, ChannelInvalidStateError
from pydantic import ValidationError

from protocol import routing
from protocol.errors import ErrorCode
from protocol.v1 import AnyMessage, parse_message
from services.common.handling import Handler, MessageEarly, MessageRefused
from services.common.retry import RetryPolicy

log = structlog.get_logger()
CANCEL_TIMEOUT = 5.0  # seconds a shutdown waits for the broker's cancel-ok


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    """Dead-lettered: undecodable, or refused by its handler."""
    EARLY = "early"
    FAILED = "failed"
    """Redelivered after a back-off."""


Observer = Callable[[str, str, Outcome, float], None]
"""Called with the queue, the message type, the outcome and the handling time in seconds
of each delivery."""
Trust = Callable[[str | None, AnyMessage], str | None]
"""Given the publishing user (AMQP ``user-id``) and the message: why to refuse it, or None."""


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
        retry: RetryPolicy | None = None,
        trust: Trust | None = None,
        user: str | None = None,
    ) -> None:
        self._pool, self._channel, self._queue = pool, channel, queue
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None] | None] = set()
        self._tag: str | None = None
        self._observers = tuple(observers)
        self._backoff = backoff
        self._retry = retry or RetryPolicy()
        self._trust, self._user = trust, user
        """``user``: this service's own broker user, which republishes delayed messages."""

    @property
    def queue_name(self) -> str:
        return self._queue.name

    @property
    def busy(self) -> bool:
        """Some delivery is still being handled or settled."""
        return bool(self._tasks)

    @property
    def consuming(self) -> bool:
        """Registered with the broker on an open channel."""
        return self._tag is not None and not self._channel.is_closed

    async def start(self) -> None:
        self._tag = await self._queue.consume(self._spawn, no_ack=False)

    async def stop(self) -> None:
        """Stop taking deliveries and let the ones in hand finish; a message waiting out
        its back-off stays unacked, so the broker redelivers it when the channel closes."""
        await self._cancel()
        for task in self._waiting:
            if task is not None:
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _cancel(self) -> None:
        """Tell the broker to stop sending; on a channel already lost (the broker is away, a
        robust connection retrying) there is nothing to tell, and waiting for it would hang
        the service's shutdown."""
        tag, self._tag = self._tag, None
        if tag is None or self._channel.is_closed:
            return
        try:
            await asyncio.wait_for(self._queue.cancel(tag), CANCEL_TIMEOUT)
        except (AMQPError, ChannelInvalidStateError, TimeoutError) as exc:
            # lost meanwhile: the broker forgets a closed channel's consumers
            log.warning("consumer not cancelled; its channel is gone", error=repr(exc))

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
                observe(self._queue.name, incoming.type or "", outcome,
                        time.perf_counter() - started)
            try:
                await self._settle(incoming, outcome, reason)
            except Exception as exc:  # a task nobody awaits must not raise
                # the channel went away with the message in hand (a broker restart): it
                # was not acked, so the broker delivers it again, and a handled one is
                # then recognised by its message id
                log.warning("message not settled; the broker will redeliver it",
                            error=f"{type(exc).__name__}: {exc}", outcome=str(outcome))

    async def _outcome(
        self, incoming: AbstractIncomingMessage
    ) -> tuple[Outcome, tuple[ErrorCode, str] | str]:
        try:
            message = parse_message(incoming.body)
        except ValidationError as exc:
            if (version := _newer_version(incoming.body)) is not None:
                return Outcome.REFUSED, (ErrorCode.NEWER_PROTOCOL_VERSION,
                                         f"schema_version {version}: kept for replay after"
                                         " this service is upgraded")
            return Outcome.REFUSED, (ErrorCode.UNDECODABLE_MESSAGE, _brief(exc))
        if self._trust and (why := self._trust(self._publisher(incoming), message)):
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
            if self._retry.in_process(count):
                await self._wait_and_nack(incoming, count)
            else:
                await self._delay(incoming)
        else:
            await incoming.ack()

    async def _wait_and_nack(self, incoming: AbstractIncomingMessage, count: int) -> None:
        waiting = asyncio.current_task()
        self._waiting.add(waiting)
        try:
            await asyncio.sleep(self._backoff(count))
        finally:
            self._waiting.discard(waiting)
        await incoming.nack(requeue=True)

    def _publisher(self, incoming: AbstractIncomingMessage) -> str | None:
        """The broker-checked publisher; for a message republished by this service itself
        (a delay tier) or by an operator (a broker user no service has: dead-letter replay),
        the one recorded when it first arrived. Service users may not write here."""
        original = (incoming.headers or {}).get(ORIGINAL_USER)
        user = incoming.user_id or ""
        republished = user == self._user or (user and not user.startswith("xiecha-"))
        if republished and isinstance(original, str) and original:
            return original
        return incoming.user_id

    async def _delay(self, incoming: AbstractIncomingMessage) -> None:
        """Into the next delay tier (it comes back to this queue), or dead letters at last."""
        headers: dict[str, Any] = dict(incoming.headers or {})
        step = self._retry.next_round(headers, time.time())
        if step is None:
            await self._dead_letter(incoming, ErrorCode.RETRIES_EXHAUSTED,
                                    "failed for longer than the retry window")
            return
        exchange_name, progress = step
        headers |= progress | _origin(incoming, headers)
        exchange = await self._channel.get_exchange(exchange_name, ensure=False)
        headers.setdefault(ORIGINAL_USER, incoming.user_id or "")
        await exchange.publish(_copy(incoming, headers, self._user),
                               routing_key=self._queue.name)
        log.info("message delayed for retry", tier=exchange_name, retries=progress)
        await incoming.ack()

    async def _dead_letter(
        self, incoming: AbstractIncomingMessage, code: ErrorCode, reason: str
    ) -> None:
        log.warning("message dead-lettered", error_code=str(code), reason=reason)
        headers: dict[str, Any] = dict(incoming.headers or {})
        headers |= {
            "x-xiecha-error-code": str(code),
            "x-xiecha-error-reason": reason[:1000],
            "x-xiecha-dead-lettered-at": int(time.time()),
        } | _origin(incoming, headers)
        headers.setdefault(ORIGINAL_USER, incoming.user_id or "")
        dlx = await self._channel.get_exchange(routing.DEAD_LETTER_EXCHANGE, ensure=False)
        await dlx.publish(_copy(incoming, headers), routing_key=self._queue.name)
        await incoming.ack()


ORIGINAL_USER = "x-xiecha-original-user-id"
"""Who first published a message this service republished (delay tier, replay)."""
ORIGINAL_EXCHANGE = "x-xiecha-original-exchange"
ORIGINAL_ROUTING_KEY = "x-xiecha-original-routing-key"


def _origin(incoming: AbstractIncomingMessage, headers: dict[str, Any]) -> dict[str, Any]:
    """Where the message was first published (kept through delay rounds), for replay."""
    if ORIGINAL_EXCHANGE in headers:
        return {}
    return {ORIGINAL_EXCHANGE: incoming.exchange or "",
            ORIGINAL_ROUTING_KEY: incoming.routing_key or ""}


def _copy(incoming: AbstractIncomingMessage, headers: dict[str, Any],
          user: str | None = None) -> aio_pika.Message:
    return aio_pika.Message(
        incoming.body,
        user_id=user,
        headers=headers,
        message_id=incoming.message_id,
        correlation_id=incoming.correlation_id,
        type=incoming.type,
        content_type=incoming.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def _newer_version(body: bytes) -> int | None:
    """The schema version of a message newer than this code knows, else None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    version = data.get("schema_version") if isinstance(data, dict) else None
    return version if isinstance(version, int) and version > 1 else None


def _delivery_count(incoming: AbstractIncomingMessage) -> int:
    raw = (incoming.headers or {}).get("x-delivery-count", 0)
    return raw if isinstance(raw, int) else 0


def _brief(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in errors[:10])
