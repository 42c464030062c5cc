"""What a desk does with bulk messages (in the consumer's transaction, once per message id).

``bulk.items`` from the requester's desk stores the items (a number already stored is
left alone). It may overtake the request itself, which is still being delivered: then
it fails for now and the consumer redelivers it after a back-off. ``bulk.answers``
from the deciding desk answers items still pending; a repeated batch changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from protocol.errors import ErrorCode
from protocol.v1.messages import BulkAnswers, BulkItems
from services.common.handling import Dispatcher, MessageEarly
from services.desk.bulk import store
from services.desk.domain.errors import Refused
from services.desk.store import requests

log = structlog.get_logger()


def register(bus: Dispatcher, clock: Callable[[], dt.datetime]) -> None:
    async def items(conn: asyncpg.Connection, msg: BulkItems) -> None:
        await on_items(conn, msg, clock())

    bus.register(BulkItems, items)
    bus.register(BulkAnswers, on_answers)


async def on_items(conn: asyncpg.Connection, msg: BulkItems, now: dt.datetime) -> None:
    b = msg.body
    req = await requests.get(conn, b.request_id)
    if req is None:
        raise MessageEarly(f"items for request {b.request_id} that is not here (yet)")
    if msg.sender != req.requester:
        raise Refused(ErrorCode.FORBIDDEN, "only the requester sends items")
    if msg.recipient != req.recipient:
        raise Refused(ErrorCode.HANDLER_REFUSED,
                      f"the request is with {req.recipient} now, not {msg.recipient}")
    added = await store.insert(conn, b.request_id, b.first_idx, b.items, now)
    log.info("bulk items stored", first_idx=b.first_idx, items=len(b.items), new=added)


async def on_answers(conn: asyncpg.Connection, msg: BulkAnswers) -> None:
    b = msg.body
    req = await requests.get(conn, b.request_id)
    if req is None or msg.sender != req.recipient:
        raise Refused(ErrorCode.FORBIDDEN, "only the deciding desk answers items")
    newly = await store.answer(conn, b.request_id, b.answers, b.answered_at, b.answered_by)
    log.info("bulk answers applied", answers=len(b.answers), new=len(newly))
