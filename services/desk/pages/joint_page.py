"""The caller's joint cases and one case's page: members, tasks, shared evidence, the
joint timeline and, as forms, only the steps allowed now. Handlers call the joint use
cases; a refused step comes back as the page with a 4xx status.

``/joint/{id}/live?v=`` answers 204 while nothing the caller sees changed (no audit row
for a poll) and the live part of the page, audited as a view, once something did.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from protocol.errors import ErrorCode
from protocol.v1.content import Handling
from services.common.http import ApiError, correlation_id
from services.desk.domain.errors import Refused
from services.desk.joint import tasks, usecases, views
from services.desk.pages import joint_forms
from services.desk.pages.common import render
from services.desk.pages.create_form import content_of
from services.desk.pages.request_page import _first_error
from services.desk.sessions.store import Session
from services.desk.sessions.web import posted_form, signed_in
from services.desk.web import DESK, STATUS_OF, path_id

NOTICES = {"pending": "Sent to the lead's desk; the timeline shows the outcome.",
           "done": "Done.", "assigned": "Task assigned.",
           "shared": "File shared with the case.",
           "shared-pending": "File sent to the lead's desk, which shares it with the case."}
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
    "outcome_kinds": {
        "no_violation": "No violation found", "warning": "Warning",
        "correction_order": "Order to correct", "fine": "Fine",
        "confiscation": "Confiscation of illegal gains", "suspension": "Suspension",
        "licence_revoked": "Licence revoked", "delisted": "Shop taken down by the platform",
        "referral_police": "Referred to the police", "referral_other": "Referred elsewhere"},
    "file_statuses": {"receiving": "arriving", "complete": "SHA-256 verified on arrival",
                      "failed": "failed its SHA-256 check"},
}
"""Labels the joint templates translate (keys as the protocol spells them)."""


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


async def context(request: web.Request, session: Session) -> dict[str, Any]:
    """What the page and its live part show; ``Refused`` (404) for a stranger."""
    desk, who, case_id = request.app[DESK], session.who, _case_id(request)
    # the version before the read: a change landing in between shows at the next poll
    version = await usecases.version(desk, who, case_id)
    detail = await usecases.show(desk, who, case_id, correlation_id(request))
    names = await desk.names()
    case = views.case_view(detail.case, who.bureau, names)
    progress = (tasks.progress(detail.tasks, desk.today())
                if who.bureau == detail.case.lead else {})
    return LABELS | {
        "case": case, "names": names, "timeline": detail.timeline, "tasks": _tasks(detail),
        "evidence": [views.file_view(r) for r in detail.files], "progress": progress,
        "refused": detail.refusals, "version": version, "handling_all": list(Handling),
        "outcome_rows": range(joint_forms.rows_asked(request.query.get("outcomes"))),
        "workers": _workers(case),
        "assignees": [m["bureau"]["code"] for m in case["members"]
                      if m["status"] == "accepted"]}


def _workers(case: dict[str, Any]) -> list[str]:
    """Bureaus an outcome may be recorded for: the lead and members that worked the case."""
    return [case["lead"]["code"], *(m["bureau"]["code"] for m in case["members"]
                                    if m["status"] in ("accepted", "leaving", "left"))]


async def show(request: web.Request, error: str | None = None, status: int = 200,
               code: str = ErrorCode.VALIDATION_FAILED) -> web.Response:
    """The page; with ``error``, its reason as an alert carrying the error ``code``."""
    session = await signed_in(request)
    try:
        page = await context(request, session)
    except Refused as exc:
        return render("joint_list.html", request, session, LABELS | {
            "cases": [], "error": exc.message, "error_code": exc.code}, 404)
    return render("joint.html", request, session, page | {
        "error": error, "error_code": code if error else None, "status": status,
        "verified": _verified(request, page["evidence"]),
        "notice": NOTICES.get(request.query.get("notice", ""))}, status)


async def live(request: web.Request) -> web.Response:
    session = await signed_in(request)
    case_id = _case_id(request)
    version = await usecases.version(request.app[DESK], session.who, case_id)
    if version == request.query.get("v"):
        return web.Response(status=204)
    page = await context(request, session)
    return render("_joint_live.html", request, session, page | {"fragment": True})


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
        return await refused(request, exc)
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
        return await refused(request, exc)
    raise web.HTTPSeeOther(f"/joint/{case_id}?notice=assigned")


async def refused(request: web.Request, exc: Refused) -> web.Response:
    """The page with the reason, with the status the API gives the same refusal."""
    return await show(request, exc.message, STATUS_OF.get(exc.code, 422), exc.code)


def _verified(request: web.Request, evidence: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The file a verify just checked (``?verified=<file id>``), if it is on the page."""
    wanted = request.query.get("verified")
    return next((f for f in evidence if f["file_id"] == wanted), None)
