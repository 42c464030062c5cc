"""Bulk items from the request page: the requester uploads a sheet of items, the
recipient downloads the sheet to fill in and uploads it back; each upload answers with
the per-row error report. All through the bulk feature's use cases and parsers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from protocol.errors import ErrorCode
from services.common.http import correlation_id
from services.desk.bulk import parse, sheets, usecases, views
from services.desk.domain.errors import Refused
from services.desk.pages.request_page import show
from services.desk.sessions.web import multipart_form, signed_in
from services.desk.web import DESK, path_id

MAX_SHEET_BYTES = 8 * 1024 * 1024
TYPES = {".csv": sheets.CSV, ".xlsx": sheets.XLSX, ".json": sheets.JSON}
P = TypeVar("P")


async def _sheet(request: web.Request) -> tuple[bytes, str]:
    """The CSRF part first, then the sheet (its type from the file name), up to 8 MiB."""
    reader = await multipart_form(request)
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or not part.filename:
        raise Refused(ErrorCode.VALIDATION_FAILED, "choose a sheet (CSV, XLSX or JSON)")
    kind = TYPES.get(part.filename[part.filename.rfind("."):].lower())
    if kind is None:
        raise Refused(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "a sheet is a .csv, .xlsx or .json file")
    data = bytearray()
    while piece := await part.read_chunk(256 * 1024):
        data += piece
        if len(data) > MAX_SHEET_BYTES:
            raise Refused(ErrorCode.BODY_TOO_LARGE, "sheets are limited to 8 MiB")
    return bytes(data), kind


async def _parsed(request: web.Request, parser: Callable[[bytes, str], P]) -> P:
    data, kind = await _sheet(request)
    try:
        return await asyncio.to_thread(parser, data, kind)
    except sheets.SheetError as exc:
        where = f"row {exc.row}: " if exc.row else ""
        raise Refused(ErrorCode.VALIDATION_FAILED, where + exc.reason) from None


async def add_items(request: web.Request) -> web.Response:
    session, rid = await signed_in(request), path_id(request)
    try:
        items = await _parsed(request, parse.parse_items)
        added = await usecases.add_items(request.app[DESK], session.who, rid, items,
                                         correlation_id(request))
    except Refused as exc:
        return await show(request, exc.message, 422)
    report = {"accepted": added.accepted, "total": added.total, **_rejected(added.rejected)}
    return await show(request, bulk_report=report)


async def answer_items(request: web.Request) -> web.Response:
    session, rid = await signed_in(request), path_id(request)
    try:
        answers = await _parsed(request, parse.parse_answers)
        done = await usecases.answer_items(request.app[DESK], session.who, rid, answers,
                                           correlation_id(request))
    except Refused as exc:
        return await show(request, exc.message, 422)
    report = {"answered": done.answered, "unchanged": done.unchanged, "pending": done.pending,
              **_rejected(done.rejected)}
    return await show(request, bulk_report=report)


def _rejected(rejected: list[parse.Rejected]) -> dict[str, Any]:
    return {"rejected": [(r.row, r.reason) for r in rejected[:200]],
            "rejected_count": len(rejected)}


async def download_sheet(request: web.Request) -> web.Response:
    session, rid = await signed_in(request), path_id(request)
    rows, _ = await usecases.items(request.app[DESK], session.who, rid, status=None,
                                   cid=correlation_id(request), action="download_items")
    body = await asyncio.to_thread(views.render, rows, "xlsx")
    return web.Response(body=body, content_type=sheets.XLSX, headers={
        "Content-Disposition": f'attachment; filename="items-{rid}.xlsx"'})
