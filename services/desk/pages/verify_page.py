"""The request page's *verify* button: this desk's chain and signatures, then the other
party's desk's chain compared over the bus (``services.desk.verify``).

The button posts (CSRF-checked); the answer page shows this desk's verdict at once and
the comparison once the other desk has answered (its link checks again).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from protocol.errors import ErrorCode
from services.common.http import ApiError
from services.desk.access import visible
from services.desk.pages import request_page
from services.desk.sessions.web import posted_form, signed_in
from services.desk.verify import ask, compared, verify_request
from services.desk.web import DESK, path_id


async def start(request: web.Request) -> web.Response:
    """Check here, ask the other desk, and show the answer page of that check."""
    session, _ = await posted_form(request)
    rid, desk = path_id(request), request.app[DESK]
    async with desk.pool.acquire() as conn, conn.transaction():
        await visible(conn, session.who, rid)
        ok, verdict = await verify_request(conn, rid)
        check = await ask(conn, rid, desk.hosts, desk.clock()) if ok else None
    if isinstance(check, uuid.UUID):
        raise web.HTTPSeeOther(f"/requests/{rid}/verify/{check}")
    return await request_page.show(request, verification={
        "ok": ok, "verdict": verdict, "compared": (ok, check) if check else None})


async def result(request: web.Request) -> web.Response:
    """This desk's verdict now, and the other desk's comparison once it answered."""
    session = await signed_in(request)
    rid, desk = path_id(request), request.app[DESK]
    try:
        check = uuid.UUID(request.match_info["check"])
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such check") from None
    async with desk.pool.acquire() as conn:
        await visible(conn, session.who, rid)
        ok, verdict = await verify_request(conn, rid)
        same = await compared(conn, check)
    verification: dict[str, Any] = {"ok": ok, "verdict": verdict, "compared": same,
                                    "check": check}
    return await request_page.show(request, verification=verification)
