"""HTTP routes of bulk checks: add items, list them, answer them, download them as a sheet.

Uploads may be far larger than the app's body limit, so these routes read the body
themselves, up to MAX_UPLOAD_BYTES (413 beyond), and only once the caller's bureau is
known to be the right party of the request. Parsing runs in a worker thread, under the
caps of ``sheets``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, TypeVar

from aiohttp import web

from protocol.errors import ErrorCode
from services.common.http import ApiError, correlation_id, json_ok
from services.desk.bulk import parse, sheets, usecases, views
from services.desk.domain.lifecycle import Party
from services.desk.web import DESK, caller, path_id

MAX_UPLOAD_BYTES: Final = 8 * 1024 * 1024
UPLOAD_TYPES: Final = (sheets.CSV, sheets.XLSX, sheets.JSON)
SHEET_TYPES: Final = {"xlsx": sheets.XLSX, "csv": sheets.CSV}

P = TypeVar("P")


async def read_upload(request: web.Request) -> tuple[bytes, str]:
    """The body and its media type; 415 for other types, 413 beyond MAX_UPLOAD_BYTES."""
    if request.content_type not in UPLOAD_TYPES:
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"send {', '.join(UPLOAD_TYPES)}")
    too_large = ApiError(413, ErrorCode.BODY_TOO_LARGE,
                         f"uploads are limited to {MAX_UPLOAD_BYTES // 2**20} MiB")
    if (request.content_length or 0) > MAX_UPLOAD_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks), request.content_type


async def parsed(request: web.Request, parser: Callable[[bytes, str], P]) -> P:
    data, content_type = await read_upload(request)
    try:
        return await asyncio.to_thread(parser, data, content_type)
    except sheets.SheetError as exc:
        if exc.malformed:
            raise ApiError(400, ErrorCode.MALFORMED_JSON, exc.reason) from None
        details = [{"row": exc.row, "reason": exc.reason}] if exc.row else None
        raise ApiError(422, ErrorCode.VALIDATION_FAILED, exc.reason, details) from None


async def add_items(request: web.Request) -> web.Response:
    who = await caller(request)
    rid = path_id(request)
    await usecases.require_party(request.app[DESK], who, rid, Party.REQUESTER, "add items to")
    items = await parsed(request, parse.parse_items)
    added = await usecases.add_items(request.app[DESK], who, rid, items,
                                    correlation_id(request))
    numbers = {"first_idx": added.first_idx, "last_idx": added.first_idx + added.accepted - 1}
    return json_ok({"accepted": added.accepted, **(numbers if added.accepted else {}),
                    "total": added.total, **views.rejected_view(added.rejected)})


async def answer_items(request: web.Request) -> web.Response:
    who = await caller(request)
    rid = path_id(request)
    await usecases.require_party(request.app[DESK], who, rid, Party.RECIPIENT,
                                 "answer items of")
    answers = await parsed(request, parse.parse_answers)
    outcome = await usecases.answer_items(request.app[DESK], who, rid, answers,
                                         correlation_id(request))
    return json_ok({"answered": outcome.answered, "unchanged": outcome.unchanged,
                    "pending": outcome.pending, **views.rejected_view(outcome.rejected)})


def _status(request: web.Request) -> str | None:
    status = request.query.get("status")
    if status not in (None, "pending", "answered"):
        raise ApiError(400, ErrorCode.BAD_QUERY, "status must be pending or answered")
    return status


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.query.get(name, str(default)))
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(400, ErrorCode.BAD_QUERY, f"{name} must be an integer from {low} to {high}")
    return value


async def list_items(request: web.Request) -> web.Response:
    who = await caller(request)
    rid = path_id(request)
    limit = _int(request, "limit", 100, 1, 1000)
    after = _int(request, "cursor", 0, 0, 10_000)
    rows, counts = await usecases.items(request.app[DESK], who, rid,
                                       status=_status(request), after=after, limit=limit,
                                       cid=correlation_id(request))
    return json_ok({"counts": counts, "items": [views.item_view(r) for r in rows],
                    "next_cursor": str(rows[-1]["idx"]) if len(rows) == limit else None})


async def download_sheet(request: web.Request) -> web.Response:
    who = await caller(request)
    rid = path_id(request)
    fmt = request.query.get("format", "xlsx")
    if fmt not in SHEET_TYPES:
        raise ApiError(400, ErrorCode.BAD_QUERY, "format must be xlsx or csv")
    rows, _ = await usecases.items(request.app[DESK], who, rid, status=_status(request),
                                  cid=correlation_id(request), action="download_items")
    body = await asyncio.to_thread(views.render, rows, fmt)
    response = web.Response(body=body, content_type=SHEET_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="items-{rid}.{fmt}"'
    return response


def add_routes(app: web.Application) -> None:
    """Register before the generic ``/v1/requests/{id}/{action}``: the first match wins."""
    app.router.add_post("/v1/requests/{id}/items", add_items)
    app.router.add_get("/v1/requests/{id}/items", list_items)
    app.router.add_post("/v1/requests/{id}/items/answers", answer_items)
    app.router.add_get("/v1/requests/{id}/items/sheet", download_sheet)
