"""HTTP routes of evidence files on a request (bearer token, as the rest of the desk API).

``POST /v1/requests/{id}/attachments``: the raw file as the body (any Content-Type;
the type is detected from the content), ``X-Filename`` (UTF-8, percent-encoding
allowed), optional ``X-Content-SHA256`` (hex) -> 201 with the file's metadata.
``GET /v1/requests/{id}/attachments``: the request's files. ``GET .../{aid}``: the
bytes, verified against their SHA-256 before the first byte is sent.

The desk's ``client_max_size`` (256 KiB) limits only bodies read whole through
``request.read()``/``json()``; an upload streams ``request.content`` and is held to
``MAX_FILE_BYTES`` here instead.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from protocol.errors import ErrorCode
from protocol.v1.files import MAX_FILE_BYTES
from services.common.http import CORRELATION_HEADER, correlation_id, json_ok
from services.common.openapi import ANY_BYTES, Op
from services.desk.attachments import limits
from services.desk.attachments.usecases import Files, Upload
from services.desk.domain.errors import Refused
from services.desk.web import DESK, caller, path_id, refused

_READ_PIECE = 64 * 1024


def _files(request: web.Request) -> Files:
    return Files(request.app[DESK])


async def _body(request: web.Request) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``MAX_FILE_BYTES``."""
    too_large = Refused(ErrorCode.BODY_TOO_LARGE, f"a file may have at most {MAX_FILE_BYTES}"
                                                  " bytes")
    if (request.content_length or 0) > MAX_FILE_BYTES:
        raise too_large
    body = bytearray()
    async for piece in request.content.iter_chunked(_READ_PIECE):
        body += piece
        if len(body) > MAX_FILE_BYTES:
            raise too_large
    return bytes(body)


def view(att: Mapping[str, Any]) -> dict[str, Any]:
    """A file's metadata as JSON; status is complete, receiving or failed."""
    status = ("failed" if att.get("failed_reason") else
              "complete" if att.get("complete") else "receiving")
    return {
        "id": str(att["id"]), "request_id": str(att["request_id"]), "name": att["name"],
        "media_type": att["media_type"], "size": att["size"], "sha256": att["sha256"].hex(),
        "purpose": att["purpose"],
        "uploaded_by": {"bureau": att["uploaded_by_bureau"], "name": att["uploaded_by"]},
        "uploaded_at": att["uploaded_at"].isoformat(), "status": status,
    }


async def upload(request: web.Request) -> web.Response:
    who, rid = await caller(request), path_id(request)
    files = _files(request)
    try:
        await files.may_upload(who, rid)
        name = limits.file_name(request.headers.get("X-Filename"))
        claimed = limits.claimed_digest(request.headers.get("X-Content-SHA256"))
        new = await files.upload(who, rid, Upload(name, await _body(request), claimed),
                                 correlation_id(request))
    except Refused as exc:
        raise refused(exc, {ErrorCode.CHECKSUM_MISMATCH: 422}) from None
    response = json_ok(view(dataclasses.asdict(new) | {"complete": True}), status=201)
    response.headers["Location"] = f"/v1/requests/{rid}/attachments/{new.id}"
    return response


async def listing(request: web.Request) -> web.Response:
    who, rid = await caller(request), path_id(request)
    rows = await _files(request).listing(who, rid, correlation_id(request))
    return json_ok({"items": [view(r) for r in rows]})


async def download(request: web.Request) -> web.StreamResponse:
    who, rid = await caller(request), path_id(request)
    aid = path_id(request, "aid", "file")
    att, parts = await _files(request).download(who, rid, aid, correlation_id(request))
    digest = att["sha256"].hex()
    response = web.StreamResponse(headers={
        "Content-Type": att["media_type"], "X-Content-SHA256": digest, "ETag": f'"{digest}"',
        "Content-Disposition": disposition(att["name"]), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store", CORRELATION_HEADER: correlation_id(request),
    })
    response.content_length = att["size"]
    await response.prepare(request)
    for part in parts:  # verified already: the whole is what was uploaded
        await response.write(part)
    await response.write_eof()
    return response


def disposition(name: str) -> str:
    """``Content-Disposition`` with an ASCII fallback and the exact UTF-8 name (RFC 6266)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name)
    return (f'attachment; filename="{fallback}";'
            f" filename*=UTF-8''{urllib.parse.quote(name, safe='')}")


def add_routes(app: web.Application) -> None:
    """Register before the generic ``POST /v1/requests/{id}/{action}``: aiohttp tries
    routes of the same prefix in registration order."""
    app.router.add_post("/v1/requests/{id}/attachments", upload)
    app.router.add_get("/v1/requests/{id}/attachments", listing)
    app.router.add_get("/v1/requests/{id}/attachments/{aid}", download, allow_head=False)


OPS: list[Op] = [
    Op("POST", "/v1/requests/{id}/attachments", "Add an evidence file (the raw file as body)",
       {201: "stored"}, ANY_BYTES, body_type="application/octet-stream",
       headers=("X-Filename", "X-Content-SHA256")),
    Op("GET", "/v1/requests/{id}/attachments", "The request's files"),
    Op("GET", "/v1/requests/{id}/attachments/{aid}", "One file, checked against its SHA-256",
       answer=ANY_BYTES, answer_type="application/octet-stream"),
]
"""This feature's part of the desk's OpenAPI description."""
