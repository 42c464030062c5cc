"""A request's page: subject, questions, answers, timeline, files and the allowed actions.

``/requests/{id}/live?v=`` answers 204 while nothing changed (no audit row for a poll)
and the live part of the page, audited like any view, once something did.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from protocol.errors import ErrorCode
from services.common.http import ApiError, correlation_id
from services.desk.access import visible
from services.desk.attachments.usecases import Files
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Transition
from services.desk.pages import forms, present
from services.desk.pages.bulk_state import counts, offers
from services.desk.pages.common import render
from services.desk.requests import usecases
from services.desk.sessions.store import Session
from services.desk.sessions.web import posted_form, signed_in
from services.desk.web import DESK, path_id

NOTICES = {"pending": "Sent to the recipient's desk; the timeline shows the outcome.",
           "done": "Done.", "uploaded": "File added."}


async def version(request: web.Request, session: Session, rid: uuid.UUID) -> str:
    """Changes whenever the request, its timeline or its files do."""
    async with request.app[DESK].pool.acquire() as conn:
        await visible(conn, session.who, rid)
        row = await conn.fetchrow(
            "SELECT r.updated_at,"
            " (SELECT count(*) FROM request_event e WHERE e.request_id = r.id) AS events,"
            " (SELECT count(*) FROM attachment a WHERE a.request_id = r.id AND a.complete)"
            " AS files FROM request r WHERE r.id = $1", rid)
    return f"{row['updated_at'].timestamp()}-{row['events']}-{row['files']}"


async def context(request: web.Request, session: Session, rid: uuid.UUID) -> dict[str, Any]:
    desk, cid = request.app[DESK], correlation_id(request)
    req, timeline = await usecases.show(desk, session.who, rid, cid)
    files = await Files(desk).listing(session.who, rid, cid)
    party = req.party_of(session.who.bureau)
    return {
        "req": req, "timeline": timeline, "files": files, "names": await desk.names(),
        "party": party, "deadline": present.deadline(req.state, req.due_date, desk.today()),
        "actions": present.actions(req.state, party),
        "version": await version(request, session, rid),
        "questions": req.content["questions"], "answers": _answers(req.reply),
    }


def _answers(reply: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {a["question_id"]: a for a in (reply or {}).get("answers", [])}


async def show(request: web.Request, error: str | None = None, status: int = 200,
               bulk_report: dict[str, Any] | None = None,
               verification: dict[str, Any] | None = None) -> web.Response:
    session = await signed_in(request)
    rid = path_id(request)
    page = await context(request, session, rid)
    notice = NOTICES.get(request.query.get("notice", ""))
    bulk = {"offers": offers(page["req"], page["party"]), "report": bulk_report,
            "counts": await counts(request, session, page["req"])}
    return render("request.html", request, session,
                  page | {"error": error, "notice": notice, "bulk": bulk,
                          "verification": verification}, status)


async def live(request: web.Request) -> web.Response:
    session = await signed_in(request)
    rid = path_id(request)
    if await version(request, session, rid) == request.query.get("v"):
        return web.Response(status=204)
    page = await context(request, session, rid)
    return render("_live.html", request, session, page | {"fragment": True})


async def act(request: web.Request) -> web.Response:
    session, form = await posted_form(request)
    rid = path_id(request)
    try:
        transition = Transition(request.match_info["action"])
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such action") from None
    desk = request.app[DESK]
    try:
        async with desk.pool.acquire() as conn:
            req = await visible(conn, session.who, rid)
        qids = [q["id"] for q in req.content["questions"]]
        change = forms.change_of(transition, form, qids)
        _, pending = await usecases.act(desk, session.who, rid, transition, change,
                                        correlation_id(request))
    except ValidationError as exc:
        return await show(request, _first_error(exc), 422)
    except Refused as exc:
        return await show(request, exc.message, 409 if exc.code != ErrorCode.NOT_FOUND else 404)
    raise web.HTTPSeeOther(f"/requests/{rid}?notice={'pending' if pending else 'done'}")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]
