"""Coordinators' view: their region's escalated and overdue requests."""

from __future__ import annotations

from aiohttp import web

from services.desk.pages import present
from services.desk.pages.common import render
from services.desk.requests import usecases
from services.desk.sessions.web import signed_in
from services.desk.web import DESK


async def escalations_page(request: web.Request) -> web.Response:
    session = await signed_in(request)
    desk = request.app[DESK]
    if session.who.role != "coordinator":
        return render("escalations.html", request, session, {"items": None}, 403)
    rows = await usecases.escalations(desk, session.who, 200)
    today = desk.today()
    items = [(r, present.deadline(r.state, r.due_date, today)) for r in rows]
    return render("escalations.html", request, session,
                  {"items": items, "names": await desk.names()})
