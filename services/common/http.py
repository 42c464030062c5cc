"""HTTP plumbing shared by the hub and desk APIs: errors, correlation ids, JSON bodies.

Every failure leaves as ``{"error": {"code", "message", "details"?}}`` with a 4xx
status and a machine-readable code from ``protocol.errors``; only a bug gives a 500.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from protocol.errors import ErrorCode
from services.common import db

log = structlog.get_logger()

M = TypeVar("M", bound=BaseModel)
HandlerT = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORRELATION_HEADER = "X-Correlation-ID"
RETRY_AFTER_SECONDS = 5
CORRELATION = web.RequestKey("correlation_id", str)


def correlation_id(request: web.Request) -> str:
    """The id that follows this HTTP request through every service's logs and messages."""
    return request[CORRELATION]


class ApiError(Exception):
    def __init__(
        self, status: int, code: ErrorCode, message: str, details: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(
    status: int, code: ErrorCode, message: str, details: list[Any] | None = None
) -> web.Response:
    error: dict[str, Any] = {"code": str(code), "message": message}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=status,
                             dumps=lambda v: json.dumps(v, ensure_ascii=False))


_HTTP_CODES = {
    404: (ErrorCode.NOT_FOUND, "no such resource"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "method not allowed on this resource"),
    413: (ErrorCode.BODY_TOO_LARGE, "request body too large"),
}


@web.middleware
async def error_middleware(request: web.Request, handler: HandlerT) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except db.UNAVAILABLE as exc:
        log.warning("database unavailable", error=f"{type(exc).__name__}: {exc}")
        response = error_response(503, ErrorCode.SERVICE_UNAVAILABLE,
                                  "the service's database is out of reach; retry shortly")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    except web.HTTPException as exc:
        if exc.status in _HTTP_CODES:
            code, message = _HTTP_CODES[exc.status]
            return error_response(exc.status, code, message)
        raise


@web.middleware
async def correlation_middleware(request: web.Request, handler: HandlerT) -> web.StreamResponse:
    given = request.headers.get(CORRELATION_HEADER, "")
    cid = given if 0 < len(given) <= 64 and given.isprintable() else str(uuid.uuid4())
    request[CORRELATION] = cid
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(correlation_id=cid):
        response = await handler(request)
        log.info("http", method=request.method, path=request.path, status=response.status,
                 ms=round((time.perf_counter() - started) * 1000, 1))
    response.headers[CORRELATION_HEADER] = cid
    return response


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(map(str, e["loc"])), "problem": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


async def read_model(request: web.Request, model: type[M], *, empty_ok: bool = False) -> M:
    """The request body as ``model``, or an ApiError saying exactly what is wrong.

    With ``empty_ok``, no body at all means an empty object.
    """
    if empty_ok and not request.can_read_body:
        return _validated(model, {})
    if request.content_type != "application/json":
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send application/json")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise ApiError(400, ErrorCode.MALFORMED_JSON, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, ErrorCode.MALFORMED_JSON, "body is nested too deeply") from None
    return _validated(model, data)


def _validated(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        raise ApiError(
            422, ErrorCode.VALIDATION_FAILED, "the request body is not valid", details
        ) from None


def json_ok(model: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    text = (model.model_dump_json() if isinstance(model, BaseModel)
            else json.dumps(model, ensure_ascii=False))  # 中文 stays readable
    return web.Response(text=text, status=status, content_type="application/json",
                        charset="utf-8")


def new_app(max_body: int) -> web.Application:
    return web.Application(
        middlewares=[correlation_middleware, error_middleware], client_max_size=max_body
    )
