"""What the hub sends: the registry to every desk, and strays back to their senders."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from protocol import routing
from protocol.errors import ErrorCode
from protocol.v1 import AnyMessage, RegistryPublished, RequestUndeliverable
from protocol.v1.registry import DeskKey
from services.common import outbox
from services.common.handling import MessageRefused
from services.hub import store


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


async def publish_registry(conn: asyncpg.Connection, correlation_id: str,
                           desks: Sequence[DeskKey] = ()) -> None:
    """Broadcast the whole registry to every desk (each keeps the newest version), with
    the desks' public keys."""
    version, bureaus = await store.load_registry(conn)
    if version == 0:
        raise MessageRefused(ErrorCode.REGISTRY_NOT_READY, "the hub has no registry loaded")
    await outbox.enqueue(conn, RegistryPublished(
        correlation_id=correlation_id, sender="hub", recipient=routing.ALL_DESKS,
        body={"version": version, "bureaus": bureaus, "desks": desks},
    ))
