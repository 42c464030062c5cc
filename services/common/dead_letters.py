"""Dead letters on the broker: list, show, replay one, purge, for a service's queues.

Each dead-letter queue (``<queue>.dlq``) holds what the consumer refused with its reason
(``x-xiecha-error-code``/``-reason``) or what the broker dead-lettered (``x-death``).
Reading takes messages without acking them and closes the channel, so the broker
requeues them: listing changes nothing. A replay republishes the message straight to
the queue it was dead-lettered from (so no other service sees it again), confirmed,
and only then removes it from the dead-letter queue;
consumers are idempotent by message id, so a replay twice changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from services.common import trust
from services.common.consumer import ORIGINAL_EXCHANGE, ORIGINAL_ROUTING_KEY, ORIGINAL_USER
from services.common.retry import FIRST_FAILURE, RETRIES

DROPPED_ON_REPLAY = ("x-xiecha-error-code", "x-xiecha-error-reason", "x-xiecha-dead-lettered-at",
                     RETRIES, FIRST_FAILURE, "x-death", "x-first-death-exchange",
                     "x-first-death-queue", "x-first-death-reason", "x-delivery-count")


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    type: str
    code: str
    reason: str
    dead_lettered_at: dt.datetime | None
    exchange: str
    routing_key: str
    body: bytes

    def brief(self) -> dict[str, Any]:
        at = self.dead_lettered_at.isoformat() if self.dead_lettered_at else None
        return {"queue": self.queue, "message_id": self.message_id, "type": self.type,
                "code": self.code, "reason": self.reason, "dead_lettered_at": at}


def describe(queue: str, incoming: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(incoming.headers or {})
    death = _first_death(headers)
    code = str(headers.get("x-xiecha-error-code") or f"broker_{death.get('reason', 'unknown')}")
    reason = str(headers.get("x-xiecha-error-reason") or _broker_reason(death))
    at = headers.get("x-xiecha-dead-lettered-at")
    when = death.get("time") if at is None else dt.datetime.fromtimestamp(int(at), dt.UTC)
    keys = death.get("routing-keys") or [""]
    return DeadLetter(
        queue=queue, message_id=incoming.message_id or "", type=incoming.type or "",
        code=code, reason=reason, dead_lettered_at=when if isinstance(when, dt.datetime) else None,
        exchange=str(headers.get(ORIGINAL_EXCHANGE, death.get("exchange", ""))),
        routing_key=str(headers.get(ORIGINAL_ROUTING_KEY, keys[0])),
        body=incoming.body,
    )


def _first_death(headers: dict[str, Any]) -> dict[str, Any]:
    deaths = headers.get("x-death")
    return dict(deaths[-1]) if isinstance(deaths, list) and deaths else {}


def _broker_reason(death: dict[str, Any]) -> str:
    if not death:
        return ""
    return f"dead-lettered by the broker from {death.get('queue')} ({death.get('reason')})"


@asynccontextmanager
async def _held(amqp_url: str, queues: Sequence[str]) -> AsyncIterator[
        tuple[AbstractChannel, list[tuple[DeadLetter, AbstractIncomingMessage]]]]:
    """Every dead letter of ``queues`` taken unacked; what is not acked goes back on exit."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        held = []
        for name in queues:
            queue = await channel.get_queue(name, ensure=True)
            while (incoming := await queue.get(no_ack=False, fail=False)) is not None:
                held.append((describe(name, incoming), incoming))
        yield channel, held
    finally:
        await connection.close()  # unacked messages are requeued


async def listing(amqp_url: str, queues: Sequence[str]) -> list[DeadLetter]:
    async with _held(amqp_url, queues) as (_, held):
        return [letter for letter, _ in held]


async def replay(amqp_url: str, queues: Sequence[str], message_id: str) -> DeadLetter | None:
    """Republish the dead letter ``message_id`` to its queue; None if there is none."""
    async with _held(amqp_url, queues) as (channel, held):
        for letter, incoming in held:
            if letter.message_id != message_id:
                continue
            headers = {k: v for k, v in (incoming.headers or {}).items()
                       if k not in DROPPED_ON_REPLAY}
            # published as the service's own user: its consumer judges the original publisher
            headers.setdefault(ORIGINAL_USER, incoming.user_id or "")
            await channel.default_exchange.publish(aio_pika.Message(
                letter.body, headers=headers, user_id=trust.user_of(amqp_url),
                message_id=incoming.message_id,
                correlation_id=incoming.correlation_id, type=incoming.type,
                content_type=incoming.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT), letter.queue.removesuffix(".dlq"))
            await incoming.ack()
            return letter
    return None


async def purge(amqp_url: str, queues: Sequence[str]) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        total = 0
        for name in queues:
            result = await (await channel.get_queue(name, ensure=True)).purge()
            total += result.message_count or 0
        return total
    finally:
        await connection.close()
