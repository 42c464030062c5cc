"""HTTP routes of the request feature: create, list, show, act, broadcast, escalations."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from protocol.errors import ErrorCode
from protocol.v1 import events
from protocol.v1.content import Frozen, ReplyContent, RequestContent
from protocol.v1.types import BureauCode, ShortText
from services.common.http import ApiError, correlation_id, json_ok, read_model
from services.desk.domain.lifecycle import Transition
from services.desk.requests import broadcast, query, usecases, views
from services.desk.web import DESK, caller, created, idempotency_key, path_id


class CreateRequest(RequestContent):
    """An investigator's new request: the content, and optionally the recipient's code."""

    recipient: BureauCode | None = None


async def create_request(request: web.Request) -> web.Response:
    who = await caller(request)
    cmd = await read_model(request, CreateRequest)
    key = idempotency_key(request)
    desk = request.app[DESK]
    # validated once, by read_model: the content is the command's fields less the recipient
    content = RequestContent.model_construct(
        **{name: getattr(cmd, name) for name in RequestContent.model_fields})
    digest = hashlib.sha256(cmd.model_dump_json().encode()).digest()
    req, replayed = await usecases.create(desk, who, content, cmd.recipient, key,
                                          correlation_id(request), digest)
    view = views.request_view(req, await desk.names(), today=desk.today())
    return created(view, f"/v1/requests/{req.id}", replayed)


async def get_request(request: web.Request) -> web.Response:
    who = await caller(request)
    desk = request.app[DESK]
    req, timeline = await usecases.show(desk, who, path_id(request), correlation_id(request))
    return json_ok(views.request_view(req, await desk.names(), timeline, desk.today()))


async def list_requests(request: web.Request) -> web.Response:
    """Search the caller's inbox or outbox (filters: see services/desk/query.py)."""
    who = await caller(request)
    desk = request.app[DESK]
    filters, q = query.parse(dict(request.query), who.bureau, desk.today())
    rows = await usecases.find(desk, who, filters, q.limit, query.after_of(q),
                               correlation_id(request))
    names = await desk.names()
    return json_ok({
        "items": [views.request_view(r, names, today=desk.today()) for r in rows],
        "next_cursor": views.encode_cursor(rows[-1]) if len(rows) == q.limit else None,
    })


class RemindBody(Frozen):
    note: ShortText | None = None


def _remind(body: RemindBody) -> events.Reminded:
    return events.Reminded(rule=events.ReminderRule.MANUAL, note=body.note)


T = Transition
ACTIONS: dict[str, tuple[Transition, type[BaseModel], Callable[[Any], events.Change]]] = {
    "accept": (T.ACCEPT, events.Accepted, lambda b: b),
    "reject": (T.REJECT, events.Rejected, lambda b: b),
    "request-info": (T.REQUEST_INFO, events.InfoRequested, lambda b: b),
    "provide-info": (T.PROVIDE_INFO, events.InfoProvided, lambda b: b),
    "transfer": (T.TRANSFER, events.Transferred, lambda b: b),
    "partial-reply": (T.PARTIAL_REPLY, ReplyContent, lambda b: events.PartiallyReplied(reply=b)),
    "reply": (T.REPLY, ReplyContent, lambda b: events.Replied(reply=b)),
    "withdraw": (T.WITHDRAW, events.Withdrawn, lambda b: b),
    "close": (T.CLOSE, events.Closed, lambda b: b),
    "agree-due-date": (T.AGREE_DUE_DATE, events.DueDateAgreed, lambda b: b),
    "refuse-due-date": (T.REFUSE_DUE_DATE, events.DueDateRefused, lambda b: b),
    "remind": (T.REMIND, RemindBody, _remind),
}
"""POST /v1/requests/{id}/<action>: the transition, the body it takes, the change it makes."""


async def act(request: web.Request) -> web.Response:
    action = ACTIONS.get(request.match_info["action"])
    if action is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no action {request.match_info['action']}")
    who = await caller(request)
    transition, model, to_change = action
    body = await read_model(request, model, empty_ok=True)
    desk = request.app[DESK]
    req, pending = await usecases.act(desk, who, path_id(request), transition, to_change(body),
                                      correlation_id(request))
    view = views.request_view(req, await desk.names(), today=desk.today())
    if pending:  # decided at the recipient's desk; the timeline shows the outcome
        return json_ok({"pending": True, "action": transition.value, "request": view}, 202)
    return json_ok(view)


async def create_group(request: web.Request) -> web.Response:
    """A broadcast: one request to many partners (a list, or a whole province)."""
    who = await caller(request)
    cmd = await read_model(request, broadcast.CreateGroup)
    key = idempotency_key(request)
    desk = request.app[DESK]
    group_id, replayed = await broadcast.create_group(desk, who, cmd, key, correlation_id(request))
    summary = await broadcast.summary(desk, who, group_id, correlation_id(request))
    return created(summary, f"/v1/groups/{group_id}", replayed)


async def get_group(request: web.Request) -> web.Response:
    who = await caller(request)
    group_id = path_id(request, what="group")
    return json_ok(await broadcast.summary(request.app[DESK], who, group_id,
                                           correlation_id(request)))


async def escalations(request: web.Request) -> web.Response:
    who = await caller(request)
    desk = request.app[DESK]
    rows = await usecases.escalations(desk, who, 200, correlation_id(request))
    names = await desk.names()
    return json_ok({"items": [views.request_view(r, names, today=desk.today()) for r in rows]})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/requests", create_request)
    app.router.add_get("/v1/requests", list_requests)
    app.router.add_get("/v1/requests/{id}", get_request)
    app.router.add_get("/v1/escalations", escalations)
    app.router.add_post("/v1/groups", create_group)
    app.router.add_get("/v1/groups/{id}", get_group)


def add_action_routes(app: web.Application) -> None:
    """``POST /v1/requests/{id}/{action}`` matches any action name, so the app adds it
    after every feature's own ``/v1/requests/{id}/...`` routes (aiohttp: first match)."""
    app.router.add_post("/v1/requests/{id}/{action}", act)
