"""The caller's joint cases and one case's page: members, tasks, shared evidence, the
joint timeline and, as forms, only the steps allowed now. Handlers call the joint use
cases; a refused step comes back as the page with a 4xx status."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from protocol.errors import ErrorCode
from services.common.http import ApiError, correlation_id
from services.desk.domain.errors import Refused
from services.desk.joint import files, tasks, usecases, views
from services.desk.pages import joint_forms
from services.desk.pages.common import render
from services.desk.pages.create_form import content_of
from services.desk.pages.request_page import _first_error
from services.desk.sessions.web import posted_form, signed_in
from services.desk.web import DESK, path_id

NOTICES = {"pending": "Sent to the lead's desk; the timeline shows the outcome.",
           "done": "Done.", "assigned": "Task assigned."}
LABELS = {
    "joint_states": {"open": "Open", "closing": "Closing: members confirm",
                     "closed": "Case closed"},
    "joint_roles": {"lead": "Lead", "member": "Member", "supervisor": "Supervisor"},
    "member_statuses": {"invited": "Invited", "accepted": "Joined", "declined": "Declined",
                        "leaving": "Asked to leave", "left": "Left"},
    "joint_events": {
        "opened": "opened the case", "invited": "invited bureaus", "accepted": "joined",
        "declined": "declined", "leave_requested": "asked to leave",
        "leave_agreed": "agreed to a leave", "leave_refused": "refused a leave",
        "noted": "added a note", "commented": "commented",
        "evidence_shared": "shared evidence", "task_assigned": "assigned a task",
        "closing_proposed": "proposed closing", "closing_confirmed": "confirmed the closing"},
}
"""Labels the joint templates translate (keys as the protocol spells them)."""
STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.FORBIDDEN: 403}


def _case_id(request: web.Request) -> uuid.UUID:
    return path_id(request, what="joint case")


async def list_page(request: web.Request) -> web.Response:
    session = await signed_in(request)
    desk = request.app[DESK]
    names = await desk.names()
    cases = [views.case_view(c, session.who.bureau, names)
             for c in await usecases.mine(desk, session.who, 200, correlation_id(request))]
    return render("joint_list.html", request, session,
                  LABELS | {"cases": cases, "error": None})


def _tasks(detail: usecases.Detail) -> list[dict[str, Any]]:
    """Tasks from the timeline; their request's state where this desk knows it (the lead's)."""
    states = {r["request_id"]: r["state"] for r in detail.tasks}
    out = []
    for e in detail.timeline:
        if e["type"] == "task_assigned":
            task = dict(e["change"]["task"])
            task["state"] = states.get(uuid.UUID(task["request_id"]))
            out.append(task)
    return out


async def show(request: web.Request, error: str | None = None,
               status: int = 200) -> web.Response:
    session = await signed_in(request)
    desk, who = request.app[DESK], session.who
    try:
        detail = await usecases.show(desk, who, _case_id(request), correlation_id(request))
    except Refused as exc:
        return render("joint_list.html", request, session,
                      LABELS | {"cases": [], "error": exc.message}, 404)
    names = await desk.names()
    case = views.case_view(detail.case, who.bureau, names)
    progress = (tasks.progress(detail.tasks, desk.today())
                if who.bureau == detail.case.lead else {})
    return render("joint.html", request, session, LABELS | {
        "case": case, "names": names, "timeline": detail.timeline, "tasks": _tasks(detail),
        "evidence": [views.file_view(r) for r in detail.files], "progress": progress,
        "refused": detail.refusals, "error": error, "status": status,
        "notice": NOTICES.get(request.query.get("notice", "")),
        "assignees": [m["bureau"]["code"] for m in case["members"]
                      if m["status"] == "accepted"]}, status)


async def act(request: web.Request) -> web.Response:
    session, form = await posted_form(request)
    action = request.match_info["action"]
    if action not in joint_forms.ACTIONS:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no action {action}")
    case_id = _case_id(request)
    try:
        change = joint_forms.change_of(action, form)
        _, pending = await usecases.act(request.app[DESK], session.who, case_id, change,
                                        correlation_id(request))
    except ValidationError as exc:
        return await show(request, _first_error(exc), 422)
    except Refused as exc:
        return await _refused(request, exc)
    raise web.HTTPSeeOther(f"/joint/{case_id}?notice={'pending' if pending else 'done'}")


async def assign(request: web.Request) -> web.Response:
    session, form = await posted_form(request)
    case_id = _case_id(request)
    try:
        cmd = tasks.AssignTask.model_validate(content_of(form) | {
            "assignee": form.get("assignee")})
        await tasks.assign(request.app[DESK], session.who, case_id, cmd,
                           correlation_id(request))
    except ValidationError as exc:
        return await show(request, _first_error(exc), 422)
    except Refused as exc:
        return await _refused(request, exc)
    raise web.HTTPSeeOther(f"/joint/{case_id}?notice=assigned")


async def _refused(request: web.Request, exc: Refused) -> web.Response:
    return await show(request, exc.message, STATUS.get(exc.code, 409))


async def download(request: web.Request) -> web.Response:
    session = await signed_in(request)
    try:
        meta, data = await files.download(
            request.app[DESK], session.who, _case_id(request),
            path_id(request, "fid", what="file"), correlation_id(request))
    except Refused as exc:
        return await _refused(request, exc)
    return web.Response(body=data, content_type=meta.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta.name, safe='')}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


