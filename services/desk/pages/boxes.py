"""Inbox and outbox, sorted by due date (soonest first), with the API's search filters."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import asyncpg
from aiohttp import web

from protocol.errors import ErrorCode
from services.common.http import ApiError, correlation_id
from services.desk.domain.errors import Refused
from services.desk.pages import present
from services.desk.pages.common import render
from services.desk.requests import query, usecases
from services.desk.sessions.web import signed_in
from services.desk.web import DESK

PAGE = 25
"""Rows a page shows unless ``?per=`` (5-100) says otherwise."""
FILTERS = ("state", "kind", "counterpart", "credit_code", "merchant", "from", "to", "overdue")


def encode(due: dt.date, rid: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{due.isoformat()}|{rid}".encode()).decode()


def decode(cursor: str) -> tuple[dt.date, uuid.UUID]:
    try:
        day, rid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return dt.date.fromisoformat(day), uuid.UUID(rid)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, ErrorCode.BAD_QUERY, "not a cursor this page made") from None


async def last_seen(
    conn: asyncpg.Connection, investigator: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dt.datetime]:
    """When the investigator last opened each request (its audited views)."""
    rows = await conn.fetch(
        "SELECT request_id, max(at) AS at FROM audit_log WHERE request_id = ANY($1)"
        " AND investigator_id = $2 AND action = 'view' GROUP BY request_id", ids, investigator)
    return {r["request_id"]: r["at"] for r in rows}


def _per(value: str | None) -> int:
    return min(max(int(value), 5), 100) if value and value.isdigit() else PAGE


async def box_page(request: web.Request) -> web.Response:
    session = await signed_in(request)
    desk = request.app[DESK]
    box = "outbox" if request.query.get("box") == "outbox" else "inbox"
    shown = {k: request.query.get(k, "").strip() for k in FILTERS}
    given = {k: v for k, v in shown.items() if v}
    error = None
    rows = []
    seen: dict[uuid.UUID, dt.datetime] = {}
    per = _per(request.query.get("per"))
    try:
        filters, _ = query.parse(given | {"box": box}, session.who.bureau, desk.today())
        after = decode(request.query["cursor"]) if request.query.get("cursor") else None
        rows = await usecases.find(desk, session.who, filters, per, after,
                                   correlation_id(request), by_due=True)
        async with desk.pool.acquire() as conn:
            seen = await last_seen(conn, session.who.id, [r.id for r in rows])
    except (ApiError, Refused) as exc:
        error = exc.message
    names, today = await desk.names(), desk.today()
    items = [(r, present.deadline(r.state, r.due_date, today),
              r.id not in seen or seen[r.id] < r.updated_at) for r in rows]
    nxt = encode(rows[-1].due_date, rows[-1].id) if len(rows) == per else None
    return render("box.html", request, session, {
        "box": box, "items": items, "names": names, "shown": shown, "given": given, "error": error,
        "next_cursor": nxt, "per": per,
    }, status=400 if error else 200)
