"""HTTP routes of joint cases (bearer token, as the rest of the desk API).

``POST /v1/joint`` opens a case; ``GET /v1/joint`` lists the caller's; ``GET
/v1/joint/{id}`` shows one (members, timeline, evidence, and at the lead's desk each
member's tasks); ``POST /v1/joint/{id}/<action>`` changes it; tasks and evidence have
routes of their own. A change decided at the lead's desk answers 200; one sent there
from a participant's desk answers 202 ``{"pending": true}`` and shows on the timeline
once decided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from protocol.errors import ErrorCode
from protocol.v1 import joint as j
from protocol.v1.content import Frozen, Handling
from protocol.v1.files import MAX_FILE_BYTES
from protocol.v1.types import LongText
from services.common.http import ApiError, correlation_id, json_ok, read_model
from services.common.openapi import ANY_BYTES, Op
from services.desk.joint import files, tasks, usecases, views
from services.desk.web import DESK, caller, created, idempotency_key, path_id

_PIECE = 64 * 1024


class Reason(Frozen):
    reason: LongText


class Text(Frozen):
    text: LongText


class Nothing(Frozen):
    pass


ACTIONS: dict[str, tuple[type[BaseModel], Callable[[Any], j.JointChange]]] = {
    "invite": (j.Invited, lambda b: b),
    "accept": (Nothing, lambda _: j.Accepted()),
    "decline": (Reason, lambda b: j.Declined(reason=b.reason)),
    "leave": (Reason, lambda b: j.LeaveRequested(reason=b.reason)),
    "agree-leave": (j.LeaveAgreed, lambda b: b),
    "refuse-leave": (j.LeaveRefused, lambda b: b),
    "note": (j.Noted, lambda b: b),
    "comment": (Text, lambda b: j.Commented(text=b.text)),
    "close": (j.Summary, lambda b: j.ClosingProposed(summary=b)),
    "confirm": (Nothing, lambda _: j.ClosingConfirmed()),
}
"""POST /v1/joint/{id}/<action>: the body it takes and the change it makes."""


async def open_case(request: web.Request) -> web.Response:
    who = await caller(request)
    cmd = await read_model(request, usecases.OpenCase)
    desk = request.app[DESK]
    case, replayed = await usecases.open_case(desk, who, cmd, idempotency_key(request),
                                              correlation_id(request))
    view = views.case_view(case, who.bureau, await desk.names())
    return created(view, f"/v1/joint/{case.id}", replayed)


async def list_cases(request: web.Request) -> web.Response:
    who = await caller(request)
    desk = request.app[DESK]
    names = await desk.names()
    cases = await usecases.mine(desk, who, 200, correlation_id(request))
    return json_ok({"items": [views.case_view(c, who.bureau, names) for c in cases]})


async def show(request: web.Request) -> web.Response:
    who = await caller(request)
    desk = request.app[DESK]
    detail = await usecases.show(desk, who, path_id(request, what="joint case"),
                                 correlation_id(request))
    body = views.case_view(detail.case, who.bureau, await desk.names())
    body["timeline"] = views.timeline_view(detail.timeline)
    body["evidence"] = [views.file_view(r) for r in detail.files]
    body["refused"] = views.refusals_view(detail.refusals)
    if who.bureau == detail.case.lead:
        body["progress"] = tasks.progress(detail.tasks, desk.today())
    return json_ok(body)


async def act(request: web.Request) -> web.Response:
    action = ACTIONS.get(request.match_info["action"])
    if action is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no action {request.match_info['action']}")
    who = await caller(request)
    model, to_change = action
    body = await read_model(request, model, empty_ok=True)
    desk = request.app[DESK]
    case, pending = await usecases.act(desk, who, path_id(request, what="joint case"),
                                       to_change(body), correlation_id(request))
    view = views.case_view(case, who.bureau, await desk.names())
    return json_ok({"pending": True, "case": view}, 202) if pending else json_ok(view)


async def assign_task(request: web.Request) -> web.Response:
    who = await caller(request)
    cmd = await read_model(request, tasks.AssignTask)
    desk = request.app[DESK]
    case, request_id = await tasks.assign(desk, who, path_id(request, what="joint case"), cmd,
                                          correlation_id(request))
    return created({"request_id": str(request_id), "case": views.case_view(
        case, who.bureau, await desk.names())}, f"/v1/requests/{request_id}")


_HANDLING = TypeAdapter(tuple[Handling, ...])


async def share_evidence(request: web.Request) -> web.Response:
    """The raw file as the body, ``X-Filename``, optional ``?handling=a,b``."""
    who = await caller(request)
    raw = request.query.get("handling", "")
    try:
        handling = _HANDLING.validate_python([h for h in raw.split(",") if h])
    except ValidationError:
        raise ApiError(400, ErrorCode.BAD_QUERY, "handling: comma-separated restrictions"
                       f" of {', '.join(Handling)}") from None
    data = await _body(request)
    meta, pending = await files.share(request.app[DESK], who, path_id(request,
                                      what="joint case"), request.headers.get("X-Filename"),
                                      data, handling, correlation_id(request))
    body = meta.model_dump(mode="json") | {"pending": pending}
    return created(body, f"/v1/joint/{request.match_info['id']}/evidence/{meta.file_id}")


async def _body(request: web.Request) -> bytes:
    if (request.content_length or 0) > MAX_FILE_BYTES:
        raise ApiError(413, ErrorCode.BODY_TOO_LARGE, f"at most {MAX_FILE_BYTES} bytes")
    data = bytearray()
    async for piece in request.content.iter_chunked(_PIECE):
        data += piece
        if len(data) > MAX_FILE_BYTES:
            raise ApiError(413, ErrorCode.BODY_TOO_LARGE, f"at most {MAX_FILE_BYTES} bytes")
    return bytes(data)


async def download(request: web.Request) -> web.Response:
    who = await caller(request)
    meta, data = await files.download(
        request.app[DESK], who, path_id(request, what="joint case"),
        path_id(request, "fid", what="file"), correlation_id(request))
    return web.Response(body=data, content_type=meta.media_type, headers={
        "X-Content-SHA256": meta.sha256, "ETag": f'"{meta.sha256}"',
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta.name)}"})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/joint", open_case)
    app.router.add_get("/v1/joint", list_cases)
    app.router.add_get("/v1/joint/{id}", show)
    app.router.add_post("/v1/joint/{id}/tasks", assign_task)
    app.router.add_post("/v1/joint/{id}/evidence", share_evidence)
    app.router.add_get("/v1/joint/{id}/evidence/{fid}", download)
    app.router.add_post("/v1/joint/{id}/{action}", act)


OPS: list[Op] = [
    Op("POST", "/v1/joint", "Open a joint case", {201: "opened", 200: "replayed"},
       usecases.OpenCase, headers=("Idempotency-Key",)),
    Op("GET", "/v1/joint", "The caller's joint cases (audited)"),
    Op("GET", "/v1/joint/{id}", "A joint case: members, timeline, evidence, actions"),
    Op("POST", "/v1/joint/{id}/tasks", "Lead: a request to an accepted member",
       {201: "assigned"}, tasks.AssignTask),
    Op("POST", "/v1/joint/{id}/evidence", "Share an evidence file (the raw file as body)",
       {201: "shared"}, ANY_BYTES, body_type="application/octet-stream",
       headers=("X-Filename",)),
    Op("GET", "/v1/joint/{id}/evidence/{fid}", "One shared file, verified",
       answer=ANY_BYTES, answer_type="application/octet-stream"),
    *(Op("POST", f"/v1/joint/{{id}}/{name}", f"Joint case step: {name}",
         {200: "decided here", 202: "sent to the lead's desk"}, model,
         route="/v1/joint/{id}/{action}")
      for name, (model, _) in ACTIONS.items()),
]
"""This feature's part of the desk's OpenAPI description."""
