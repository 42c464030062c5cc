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

from protocol.errors import ErrorCode
from protocol.v1 import AnyMessage, RegistryRequested, RequestEventRecorded
from protocol.v1.messages import JointRecorded
from services.common import outbox
from services.common.handling import MessageRefused
from services.hub import bulk_checks, counters, joint_stats
from services.hub.desk_keys import DeskKeys, no_keys
from services.hub.outgoing import publish_registry, undeliverable

log = structlog.get_logger()

_NOT_BOUNCED = {"request.undeliverable", "event.recorded", "registry.requested",
                "registry.published", "attachment.chunk", "joint.recorded",
                "joint.file_chunk"}
"""A bureau's message that no desk took goes back to it, except these: no loops, and a
file's chunks are dead-lettered (its offer comes back, one note for the whole file)."""


class HubInbound:
    def __init__(self, clock: Callable[[], dt.datetime], desk_keys: DeskKeys = no_keys) -> None:
        self.clock, self.desk_keys = clock, desk_keys

    async def __call__(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        match message:
            case RequestEventRecorded():
                _party_of(message)
                if not await counters.count_event(conn, message.body):
                    log.info("event already counted", event_id=str(message.body.event_id))
                else:
                    await bulk_checks.correct(conn, message.body)
            case JointRecorded():
                if not await joint_stats.count(conn, message.body):
                    log.info("joint record already counted", event_id=str(message.body.event_id))
            case RegistryRequested():
                await publish_registry(conn, message.correlation_id, self.desk_keys())
            case _ if message.type not in _NOT_BOUNCED and message.sender.isdigit():
                await outbox.enqueue(conn, undeliverable(message))
            case _:
                raise MessageRefused(ErrorCode.UNROUTABLE,
                                     f"no consumer for {message.type} to {message.recipient}")


def _party_of(message: RequestEventRecorded) -> None:
    """An event is reported by a party to its request (a transfer's: the former recipient)."""
    b = message.body
    if message.sender not in (b.requester, b.recipient) and b.event_type != "transferred":
        raise MessageRefused(ErrorCode.FORBIDDEN,
                             f"{message.sender} is not a party to request {b.request_id}")
