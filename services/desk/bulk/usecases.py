"""Bulk use cases, each in one transaction: items, answers, audit entry, outbox messages.

The requester's bureau adds items; they travel to the recipient's desk in batches.
The recipient's bureau answers them; the answers travel back in batches, and the hub
is told in the same transaction how many items were newly answered (one completed
check each). Only parties see items; everyone else is told the request does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1.bulk import MAX_ITEMS, AnyItem, ItemAnswer
from services.common import outbox
from services.desk import access
from services.desk.bulk import outgoing, parse, store, views
from services.desk.bulk.parse import Parsed, Rejected
from services.desk.context import Desk
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import TERMINAL, Party, State
from services.desk.domain.request import Request
from services.desk.store import audit
from services.desk.store.investigators import Investigator

CLOSED_TO_ITEMS = TERMINAL | {State.REPLIED, State.TRANSFERRED}
"""A request in these states takes no more items."""
ANSWERABLE = frozenset({State.ACCEPTED, State.INFO_REQUESTED, State.PARTIALLY_REPLIED})
"""Items are answered once the request is taken on, until the final reply."""


@dataclass(frozen=True)
class Added:
    accepted: int
    first_idx: int
    total: int
    rejected: list[Rejected]


@dataclass(frozen=True)
class Answered:
    answered: int
    unchanged: int
    pending: int
    rejected: list[Rejected]


async def require_party(
    desk: Desk, who: Investigator, request_id: uuid.UUID, party: Party, doing: str
) -> None:
    """Refused unless ``who``'s bureau is the request's ``party``: checked before an upload
    is read, so nobody else makes the desk parse anything (the use case checks again)."""
    async with desk.pool.acquire() as conn:
        req = await access.visible(conn, who, request_id)
        req.require_party(who.bureau, party, f"{doing} this request")


async def add_items(
    desk: Desk, who: Investigator, request_id: uuid.UUID, parsed: Parsed[AnyItem], cid: str
) -> Added:
    async with desk.pool.acquire() as conn, conn.transaction():
        req = await access.as_party(conn, who, request_id, Party.REQUESTER, "add items to")
        if req.state in CLOSED_TO_ITEMS:
            raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                          f"cannot add items to a request that is {req.state}")
        known = await store.keys(conn, request_id)
        admitted = parse.admit(parsed, known, MAX_ITEMS - len(known))
        first, items = len(known) + 1, [item for _, item in admitted.good]
        await store.insert(conn, request_id, first, items, desk.clock())
        if items and not desk.hosts(req.recipient):
            for message in outgoing.item_batches(req, first, items):
                await outbox.enqueue(conn, message)
        await audit.record(conn, who, "add_items", request_id, cid)
        return Added(len(items), first, len(known) + len(items), admitted.rejected)


async def answer_items(
    desk: Desk, who: Investigator, request_id: uuid.UUID, parsed: Parsed[ItemAnswer], cid: str
) -> Answered:
    async with desk.pool.acquire() as conn, conn.transaction():
        req = await access.as_party(conn, who, request_id, Party.RECIPIENT, "answer items of")
        if req.state not in ANSWERABLE:
            hint = "; accept it first" if req.state is State.DELIVERED else ""
            raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                          f"cannot answer items of a request that is {req.state}{hint}")
        current = await store.answers(conn, request_id)
        outcome = parse.sort_answers(parsed, current)
        at = desk.clock()
        newly = set(await store.answer(conn, request_id, outcome.new, at, who.name))
        if newly:
            await outbox.enqueue(conn, outgoing.items_answered(req, len(newly), at))
            if not desk.hosts(req.requester):
                given = [a for a in outcome.new if a.idx in newly]
                for message in outgoing.answer_batches(req, given, at, who.name):
                    await outbox.enqueue(conn, message)
        await audit.record(conn, who, "answer_items", request_id, cid)
        pending = sum(1 for a in current.values() if a is None) - len(newly)
        return Answered(len(newly), outcome.unchanged, pending, outcome.rejected)


async def items(
    desk: Desk, who: Investigator, request_id: uuid.UUID, *, status: str | None,
    after: int = 0, limit: int | None = None, cid: str, action: str = "view_items",
) -> tuple[list[Mapping[str, Any]], dict[str, int]]:
    """A page of items in number order, and the counts per status; the access is audited.
    Complainants' identities are hidden once the request ended long enough ago."""
    async with desk.pool.acquire() as conn, conn.transaction():
        req = await access.visible(conn, who, request_id)
        rows: list[Mapping[str, Any]] = list(
            await store.page(conn, request_id, status=status, after=after, limit=limit))
        if desk.hidden(req):
            rows = [views.without_personal_data(r) for r in rows]
        await audit.record(conn, who, action, request_id, cid)
        return rows, await store.counts(conn, request_id)


async def refuse_transfer_with_items(conn: asyncpg.Connection, req: Request, to: str) -> None:
    """Transfer guard: items stay with the desk that holds them, so such a request stays."""
    if await store.has_items(conn, req.id):
        raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                      "a request with bulk items cannot be transferred")
