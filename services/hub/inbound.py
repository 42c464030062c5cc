"""What the hub does with each message: count events, serve the registry, bounce strays.

The hub consumes two queues: its own events queue and the alternate exchange's
queue, where messages that no desk binds end up. A stray request message goes
back to its sender as ``request.undeliverable``; anything else stray is refused
(dead-lettered with the reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from protocol import routing
from protocol.errors import ErrorCode
from protocol.v1 import (
    AnyMessage,
    RegistryPublished,
    RegistryRequested,
    RequestEventRecorded,
    RequestUndeliverable,
)
from services.common import outbox
from services.common.handling import MessageRefused
from services.hub import store

log = structlog.get_logger()

_NOT_BOUNCED = {"request.undeliverable", "event.recorded", "registry.requested",
                "registry.published", "attachment.chunk"}
"""A bureau's message that no desk took goes back to it, except these: no loops, and a
file's chunks are dead-lettered (its offer comes back, one note for the whole file)."""


class HubInbound:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock

    async def __call__(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        match message:
            case RequestEventRecorded():
                if not await store.count_event(conn, message.body):
                    log.info("event already counted", event_id=str(message.body.event_id))
            case RegistryRequested():
                await publish_registry(conn, message.correlation_id)
            case _ if message.type not in _NOT_BOUNCED and message.sender.isdigit():
                await outbox.enqueue(conn, undeliverable(message))
            case _:
                raise MessageRefused(ErrorCode.UNROUTABLE,
                                     f"no consumer for {message.type} to {message.recipient}")


def undeliverable(message: AnyMessage) -> RequestUndeliverable:
    request_id = getattr(message.body, "request_id", None)
    return RequestUndeliverable(
        correlation_id=message.correlation_id,
        sender="hub",
        recipient=message.sender,
        body={
            "request_id": request_id,
            "original_message_id": message.message_id,
            "original_type": message.type,
            "reason": f"no desk serves bureau {message.recipient}",
        },
    )


async def publish_registry(conn: asyncpg.Connection, correlation_id: str) -> None:
    """Broadcast the whole registry to every desk (each keeps the newest version)."""
    version, bureaus = await store.load_registry(conn)
    if version == 0:
        raise MessageRefused(ErrorCode.REGISTRY_NOT_READY, "the hub has no registry loaded")
    await outbox.enqueue(conn, RegistryPublished(
        correlation_id=correlation_id, sender="hub", recipient=routing.ALL_DESKS,
        body={"version": version, "bureaus": bureaus},
    ))
