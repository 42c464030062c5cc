"""HTTP helpers every feature of the desk uses: the caller, ids, refusals, 201 answers.

The features register their own routes (``add_routes`` in each ``api`` module) and take
the desk's context from ``request.app[DESK]``; nothing here knows a feature.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from protocol.errors import ErrorCode
from services.common.http import ApiError, HandlerT, json_ok
from services.desk.auth import CALLER, Tokens
from services.desk.context import Desk
from services.desk.domain.errors import Refused
from services.desk.store.investigators import Investigator

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
    ErrorCode.PERSONAL_DATA_HIDDEN: 410,
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
    """The investigator ``auth.Gate`` signed in for this call."""
    who: Investigator | None = request.get(CALLER)
    if who is None:
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "send Authorization: Bearer <token>")
    return who


def path_id(request: web.Request, name: str = "id", what: str = "request") -> uuid.UUID:
    """A UUID from the path; 404 when it is not one (no such thing can exist)."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no such {what}") from None


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 128:
        raise ApiError(400, ErrorCode.BAD_QUERY, "Idempotency-Key must be 1-128 characters")
    return key


def created(body: dict[str, Any], location: str, replayed: bool = False) -> web.Response:
    """201 with the new resource; a replay of an Idempotency-Key says so in a header."""
    response = json_ok(body, status=201)
    response.headers["Location"] = location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
