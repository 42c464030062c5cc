"""Shared evidence from the joint case's page: a multipart upload with its handling
restrictions, a download and a verify, each through the joint feature's use cases (the
SHA-256 is checked on every download and verify; 409 rather than a damaged file)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, web
from pydantic import TypeAdapter, ValidationError

from protocol.v1.content import Handling
from services.common.http import correlation_id
from services.desk.domain.errors import Refused
from services.desk.joint import files
from services.desk.pages.files import _read
from services.desk.pages.joint_page import refused, show
from services.desk.sessions.web import multipart_form, signed_in
from services.desk.web import DESK, path_id

_HANDLING = TypeAdapter(tuple[Handling, ...])


async def _handling_then_file(reader: MultipartReader) -> tuple[list[str], BodyPartReader | None]:
    """The ticked restrictions (sent before the file), then the file's part."""
    ticked: list[str] = []
    while isinstance(part := await reader.next(), BodyPartReader) and part.name == "handling":
        ticked.append(await part.text())
    return ticked, part if isinstance(part, BodyPartReader) and part.name == "file" else None


async def upload(request: web.Request) -> web.Response:
    """The form sends the CSRF token first, the restrictions, then the file."""
    session = await signed_in(request)
    case_id = path_id(request, what="joint case")
    ticked, part = await _handling_then_file(await multipart_form(request))
    if part is None or not part.filename:
        return await show(request, "Choose a file to upload.", 422)
    try:
        handling = _HANDLING.validate_python(ticked)
        meta, pending = await files.share(request.app[DESK], session.who, case_id,
                                          part.filename, await _read(part), handling,
                                          correlation_id(request))
    except ValidationError:
        return await show(request, "handling: unknown restriction", 422)
    except Refused as exc:
        return await refused(request, exc)
    notice = "shared-pending" if pending else "shared"
    raise web.HTTPSeeOther(f"/joint/{case_id}?notice={notice}#file-{meta.file_id}")


async def download(request: web.Request) -> web.Response:
    session = await signed_in(request)
    try:
        meta, data = await files.download(
            request.app[DESK], session.who, path_id(request, what="joint case"),
            path_id(request, "fid", what="file"), correlation_id(request))
    except Refused as exc:
        return await refused(request, exc)
    return web.Response(body=data, content_type=meta.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta.name, safe='')}",
        "X-Content-SHA256": meta.sha256, "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


async def verify(request: web.Request) -> web.Response:
    """Checks the stored file against its SHA-256 now and says so on the page."""
    session = await signed_in(request)
    case_id = path_id(request, what="joint case")
    try:
        meta = await files.verify(request.app[DESK], session.who, case_id,
                                  path_id(request, "fid", what="file"), correlation_id(request))
    except Refused as exc:
        return await refused(request, exc)
    raise web.HTTPSeeOther(f"/joint/{case_id}?verified={meta.file_id}#file-{meta.file_id}")
