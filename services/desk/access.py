"""Who may see and change a request: the one visibility and party rule of every feature.

A bureau that is no party to a request is told it does not exist, so ids leak nothing.
A former recipient (it transferred the request away) sees the request only as it stood
at the transfer: no later timeline entries, reply, rating or files (``handed_over_at``).
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from protocol.errors import ErrorCode
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Party
from services.desk.domain.request import Request
from services.desk.store import requests
from services.desk.store.investigators import Investigator


async def visible(
    conn: asyncpg.Connection, who: Investigator, request_id: uuid.UUID, lock: bool = False
) -> Request:
    """The request, if ``who``'s bureau may see it; otherwise "not found"."""
    req = await requests.get(conn, request_id, lock=lock)
    if req is None or not req.can_see(who.bureau):
        raise Refused(ErrorCode.NOT_FOUND, f"no request {request_id} for your bureau")
    return req


async def as_party(
    conn: asyncpg.Connection, who: Investigator, request_id: uuid.UUID, party: Party,
    doing: str,
) -> Request:
    """The request, locked, if ``who``'s bureau is its ``party``; else refused."""
    req = await visible(conn, who, request_id, lock=True)
    req.require_party(who.bureau, party, f"{doing} this request")
    return req


async def handed_over_at(
    conn: asyncpg.Connection, who: Investigator, req: Request
) -> dt.datetime | None:
    """When ``who``'s bureau transferred ``req`` away: it sees nothing after. None for
    the parties, who see everything."""
    if req.party_of(who.bureau) is not None:
        return None
    return await requests.transferred_at(conn, req.id, who.bureau) or req.created_at
