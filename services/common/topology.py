"""Declares xiecha's RabbitMQ topology from its one definition, deploy/rabbitmq/topology.json.

Every exchange and queue is durable; every queue is a quorum queue with a dead-letter
queue of its own (``<queue>.dlq``), fed through the direct dead-letter exchange.
Declaring is idempotent, so each service declares what it uses at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel

from protocol import routing
from services.common.paths import deploy_dir


@cache
def definition() -> dict[str, Any]:
    path = deploy_dir() / "rabbitmq" / "topology.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[tuple[str, str], ...]


def queues_for(owner: str, region: str = "", provinces: Iterable[str] = ()) -> list[QueueSpec]:
    """The queues (with their bindings) that ``owner`` ('hub' or 'desk') consumes."""
    specs = []
    for q in definition()["queues"]:
        if q["owner"] != owner:
            continue
        bindings: list[tuple[str, str]] = []
        for b in q["bindings"]:
            key: str = b["key"]
            keys = [key.format(province=p) for p in provinces] if "{province}" in key else [key]
            bindings += [(b["exchange"], k) for k in keys]
        specs.append(QueueSpec(q["name"].format(region=region), tuple(bindings)))
    return specs


async def declare_exchanges(channel: AbstractChannel) -> None:
    for ex in definition()["exchanges"]:
        await channel.declare_exchange(
            ex["name"], aio_pika.ExchangeType(ex["type"]), durable=True,
            arguments=ex.get("arguments"),
        )


async def declare_queue(channel: AbstractChannel, spec: QueueSpec) -> aio_pika.abc.AbstractQueue:
    """Declare ``spec`` and its dead-letter queue, and bind both."""
    d = definition()
    dlq_name = routing.dead_letter_queue(spec.name)
    dlq = await channel.declare_queue(
        dlq_name, durable=True, arguments=dict(d["dead_letter_queue_arguments"])
    )
    await dlq.bind(routing.DEAD_LETTER_EXCHANGE, routing_key=spec.name)
    args = dict(d["queue_arguments"]) | {"x-dead-letter-routing-key": spec.name}
    queue = await channel.declare_queue(spec.name, durable=True, arguments=args)
    for exchange, key in spec.bindings:
        await queue.bind(exchange, routing_key=key)
    return queue


async def declare_all(
    channel: AbstractChannel, owner: str, region: str = "", provinces: Iterable[str] = ()
) -> dict[str, aio_pika.abc.AbstractQueue]:
    await declare_exchanges(channel)
    return {s.name: await declare_queue(channel, s) for s in queues_for(owner, region, provinces)}
