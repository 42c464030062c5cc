"""Coordinators' view: their region's escalated and overdue requests.

Overdue means running past its due date, to a recipient of the coordinator's province,
as this desk (which hosts that province) holds them.
"""

from __future__ import annotations

import datetime as dt

import asyncpg
from aiohttp import web

from services.common.http import correlation_id
from services.desk.domain import privacy
from services.desk.domain.lifecycle import RUNNING
from services.desk.domain.request import Request
from services.desk.pages import present
from services.desk.pages.common import render
from services.desk.requests import usecases
from services.desk.sessions.web import signed_in
from services.desk.store import audit
from services.desk.store.requests import FIELDS, from_row
from services.desk.web import DESK


async def escalations_page(request: web.Request) -> web.Response:
    session = await signed_in(request)
    desk = request.app[DESK]
    if session.who.role != "coordinator":
        return render("escalations.html", request, session, {"items": None}, 403)
    cid = correlation_id(request)
    rows = await usecases.escalations(desk, session.who, 200, cid)
    today = desk.today()
    async with desk.pool.acquire() as conn, conn.transaction():
        late = await overdue(conn, session.who.bureau[:2], today)
        await audit.record(conn, session.who, "list_overdue", None, cid,
                           detail=audit.shown([r.id for r in late]))
    late = [privacy.without_personal_data(r) if desk.hidden(r) else r for r in late]
    return render("escalations.html", request, session, {
        "items": [(r, present.deadline(r.state, r.due_date, today)) for r in rows],
        "overdue": [(r, present.deadline(r.state, r.due_date, today)) for r in late],
        "names": await desk.names()})


async def overdue(conn: asyncpg.Connection, province: str, today: dt.date,
                  limit: int = 200) -> list[Request]:
    rows = await conn.fetch(
        f"SELECT {FIELDS} FROM request WHERE left(recipient, 2) = $1 AND state = ANY($2)"
        " AND due_date < $3 ORDER BY due_date, id LIMIT $4",
        province, list(RUNNING), today, limit)
    return [from_row(r) for r in rows]
