"""Evidence files from the request page: a multipart upload (htmx shows its progress)
and a download, both through the attachments feature's use cases."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import BodyPartReader, web

from protocol.errors import ErrorCode
from protocol.v1.files import MAX_FILE_BYTES
from services.common.http import correlation_id
from services.desk.attachments import limits
from services.desk.attachments.usecases import Files, Upload
from services.desk.domain.errors import Refused
from services.desk.pages.request_page import show
from services.desk.sessions.web import multipart_form, signed_in
from services.desk.web import DESK, path_id


async def _read(part: BodyPartReader) -> bytes:
    data = bytearray()
    while piece := await part.read_chunk(64 * 1024):
        data += piece
        if len(data) > MAX_FILE_BYTES:
            raise Refused(ErrorCode.BODY_TOO_LARGE, f"a file may have at most {MAX_FILE_BYTES}"
                                                    " bytes")
    return bytes(data)


async def upload(request: web.Request) -> web.Response:
    """The form sends the CSRF token first, then the file (checked before it is read)."""
    session = await signed_in(request)
    rid = path_id(request)
    reader = await multipart_form(request)
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        return await show(request, "Choose a file to upload.", 422)
    files = Files(request.app[DESK])
    try:
        await files.may_upload(session.who, rid)
        name = limits.file_name(part.filename)
        await files.upload(session.who, rid, Upload(name, await _read(part)),
                           correlation_id(request))
    except Refused as exc:
        return await show(request, exc.message, 422)
    raise web.HTTPSeeOther(f"/requests/{rid}?notice=uploaded")


async def download(request: web.Request) -> web.StreamResponse:
    session = await signed_in(request)
    rid, aid = path_id(request), path_id(request, "aid", "file")
    try:
        att, parts = await Files(request.app[DESK]).download(session.who, rid, aid,
                                                             correlation_id(request))
    except Refused as exc:
        return await show(request, exc.message, 409)
    response = web.Response(body=b"".join(parts), content_type=att["media_type"], headers={
        "Content-Disposition": _disposition(att["name"]), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})
    return response


def _disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name, safe='')}"
