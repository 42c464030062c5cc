"""Declares xiecha's RabbitMQ topology (``protocol/topology.py``) on a broker.

Every exchange and queue is durable; every queue is a quorum queue with a dead-letter
queue of its own (``<queue>.dlq``), fed through the direct dead-letter exchange.
Declaring is idempotent. ``services.setup`` declares everything as the broker's admin;
services, whose own users may configure nothing, only ``attach`` to their queues. This
is the one module that declares exchanges and queues.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel

from protocol import routing, topology


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[tuple[str, str], ...]


def queues_for(owner: str, region: str = "", provinces: Iterable[str] = ()) -> list[QueueSpec]:
    """The queues (with their bindings) that ``owner`` ('hub' or 'desk') consumes."""
    specs = []
    for q in topology.QUEUES:
        if q.owner != owner:
            continue
        bindings: list[tuple[str, str]] = []
        for b in q.bindings:
            keys = [b.key.format(province=p) for p in provinces] if "{province}" in b.key \
                else [b.key]
            bindings += [(b.exchange, k) for k in keys]
        specs.append(QueueSpec(q.name.format(region=region), tuple(bindings)))
    return specs


async def declare_exchanges(channel: AbstractChannel) -> None:
    for ex in topology.EXCHANGES:
        await channel.declare_exchange(
            ex.name, aio_pika.ExchangeType(ex.type), durable=True, arguments=ex.arguments or None,
        )


async def declare_queue(channel: AbstractChannel, spec: QueueSpec) -> aio_pika.abc.AbstractQueue:
    """Declare ``spec`` and its dead-letter queue, and bind both."""
    dlq_name = routing.dead_letter_queue(spec.name)
    dlq = await channel.declare_queue(
        dlq_name, durable=True, arguments=dict(topology.DEAD_LETTER_QUEUE_ARGUMENTS)
    )
    await dlq.bind(routing.DEAD_LETTER_EXCHANGE, routing_key=spec.name)
    args = dict(topology.QUEUE_ARGUMENTS) | {"x-dead-letter-routing-key": spec.name}
    queue = await channel.declare_queue(spec.name, durable=True, arguments=args)
    for exchange, key in spec.bindings:
        await queue.bind(exchange, routing_key=key)
    return queue


async def declare_all(
    channel: AbstractChannel, owner: str, region: str = "", provinces: Iterable[str] = ()
) -> dict[str, aio_pika.abc.AbstractQueue]:
    await declare_exchanges(channel)
    return {s.name: await declare_queue(channel, s) for s in queues_for(owner, region, provinces)}


async def attach(
    channel: AbstractChannel, owner: str, region: str = "", provinces: Iterable[str] = ()
) -> dict[str, aio_pika.abc.AbstractQueue]:
    """``owner``'s queues, declared passively: they must exist (``services.setup`` made them)."""
    return {s.name: await channel.declare_queue(s.name, passive=True)
            for s in queues_for(owner, region, provinces)}
