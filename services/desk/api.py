"""The desk's JSON HTTP API for investigators (bearer token per investigator)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from protocol.errors import ErrorCode
from protocol.v1 import events
from protocol.v1.content import Frozen, ReplyContent
from protocol.v1.types import ShortText
from services.common.http import ApiError, HandlerT, correlation_id, json_ok, read_model
from services.desk import broadcast, query, views
from services.desk.attachments import api as attachments_api
from services.desk.auth import Tokens
from services.desk.bulk import api as bulk_api
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Transition
from services.desk.store import registry as registry_store
from services.desk.store.investigators import Investigator
from services.desk.usecases import CreateRequest, Desk

DESK = web.AppKey("desk", Desk)
TOKENS = web.AppKey("tokens", Tokens)

STATUS_OF: dict[ErrorCode, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.ILLEGAL_TRANSITION: 409,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.REGISTRY_NOT_READY: 503,
    ErrorCode.BAD_QUERY: 400,
    ErrorCode.TOO_SOON: 429,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.ATTACHMENT_INCOMPLETE: 409,
    ErrorCode.CHECKSUM_MISMATCH: 409,
}
"""Refusals map to 422 unless listed here."""


def refused(exc: Refused, over: Mapping[ErrorCode, int] | None = None) -> ApiError:
    """The HTTP error of a refusal; ``over`` changes the status of some codes for a route."""
    status = (over or {}).get(exc.code) or STATUS_OF.get(exc.code, 422)
    return ApiError(status, exc.code, exc.message)


@web.middleware
async def refusal_middleware(request: web.Request, handler: HandlerT) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as exc:
        raise refused(exc) from None


async def caller(request: web.Request) -> Investigator:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "send Authorization: Bearer <token>")
    who = await request.app[TOKENS].resolve(token.strip())
    if who is None:
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "unknown or revoked token")
    return who


def request_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such request") from None


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 128:
        raise ApiError(400, ErrorCode.BAD_QUERY, "Idempotency-Key must be 1-128 characters")
    return key


async def create_request(request: web.Request) -> web.Response:
    who = await caller(request)
    cmd = await read_model(request, CreateRequest)
    key = idempotency_key(request)
    desk = request.app[DESK]
    req, replayed = await desk.create(who, cmd, key, correlation_id(request))
    view = views.request_view(req, await desk.names(), today=desk.today())
    return created(view, f"/v1/requests/{req['id']}", replayed)


def created(body: dict[str, Any], location: str, replayed: bool) -> web.Response:
    """201 with the new resource; a replay of an Idempotency-Key says so in a header."""
    response = json_ok(body, status=201)
    response.headers["Location"] = location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def get_request(request: web.Request) -> web.Response:
    who = await caller(request)
    desk = request.app[DESK]
    req, timeline = await desk.show(who, request_id(request), correlation_id(request))
    return json_ok(views.request_view(req, await desk.names(), timeline, desk.today()))


async def list_requests(request: web.Request) -> web.Response:
    """Search the caller's inbox or outbox (filters: see services/desk/query.py)."""
    who = await caller(request)
    desk = request.app[DESK]
    filters, q = query.parse(dict(request.query), who.bureau, desk.today())
    rows = await desk.search(filters, q.limit, query.after_of(q))
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
    req, pending = await desk.act(who, request_id(request), transition, to_change(body),
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
    summary = await broadcast.summary(desk, who, group_id)
    return created(summary, f"/v1/groups/{group_id}", replayed)


async def get_group(request: web.Request) -> web.Response:
    who = await caller(request)
    try:
        group_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such group") from None
    return json_ok(await broadcast.summary(request.app[DESK], who, group_id))


async def escalations(request: web.Request) -> web.Response:
    who = await caller(request)
    desk = request.app[DESK]
    rows = await desk.escalations(who, 200)
    names = await desk.names()
    return json_ok({"items": [views.request_view(r, names, today=desk.today()) for r in rows]})


async def me(request: web.Request) -> web.Response:
    who = await caller(request)
    names = await request.app[DESK].names()
    return json_ok({"id": str(who.id), "name": who.name, "role": who.role,
                    "bureau": views.bureau_ref(who.bureau, names)})


async def health(request: web.Request) -> web.Response:
    """Liveness plus readiness: the registry version this desk has (0 = not yet received)."""
    async with request.app[DESK].pool.acquire() as conn:
        version = await registry_store.version(conn)
    return json_ok({"status": "ok", "registry_version": version})


def add_routes(app: web.Application) -> None:
    app.middlewares.append(refusal_middleware)
    app.router.add_post("/v1/requests", create_request)
    app.router.add_get("/v1/requests", list_requests)
    app.router.add_get("/v1/requests/{id}", get_request)
    attachments_api.add_routes(app)  # before {action}: same-prefix routes match in order
    bulk_api.add_routes(app)  # before {action}, like attachments
    app.router.add_post("/v1/requests/{id}/{action}", act)
    app.router.add_get("/v1/escalations", escalations)
    app.router.add_post("/v1/groups", create_group)
    app.router.add_get("/v1/groups/{id}", get_group)
    app.router.add_get("/v1/me", me)
    app.router.add_get("/healthz", health)
