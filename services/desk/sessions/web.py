"""Sign-in, sign-out and the session of a page request, with its CSRF check.

Pages call ``signed_in`` (GET) or ``posted_form`` (POST): the first sends a visitor
without a session to the sign-in page, the second also refuses a form whose CSRF token
is not the session's. The sign-in form itself is protected by a double-submit cookie;
its failures count towards the API's per-address limit (``auth.Gate``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from typing import Any

import aiohttp_jinja2
from aiohttp import BodyPartReader, MultipartReader, web
from multidict import MultiDictProxy

from protocol.errors import ErrorCode
from services.common.http import ApiError
from services.common.pages import gettext
from services.desk.domain.ratelimit import Failures, retry_after
from services.desk.sessions import store
from services.desk.sessions.store import Session
from services.desk.web import DESK, TOKENS

FAILURES = web.AppKey("signin_failures", Failures)
"""Failed sign-ins per client address, shared with the API's ``auth.Gate``."""
COOKIE = "xiecha_session"
PRE_COOKIE = "xiecha_signin_csrf"
TTL = dt.timedelta(hours=12)
SESSION = web.RequestKey("session", Session)


async def current(request: web.Request) -> Session | None:
    """The request's session, if its cookie names a live one."""
    if SESSION in request:
        return request[SESSION]
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    desk = request.app[DESK]
    async with desk.pool.acquire() as conn:
        session = await store.resolve(conn, sid, desk.clock())
    if session is not None:
        request[SESSION] = session
    return session


async def signed_in(request: web.Request) -> Session:
    session = await current(request)
    if session is None:
        raise web.HTTPSeeOther(f"/sign-in?next={request.path_qs}"
                               if request.path != "/" else "/sign-in")
    return session


def check_csrf(session: Session, given: str | None) -> None:
    if not given or not hmac.compare_digest(given, session.csrf):
        raise ApiError(403, ErrorCode.FORBIDDEN, "the form's CSRF token is missing or wrong;"
                                                 " reload the page and try again")


async def posted_form(request: web.Request) -> tuple[Session, MultiDictProxy[Any]]:
    """The session and the posted form, once its CSRF token is checked."""
    session = await signed_in(request)
    form = await request.post()
    check_csrf(session, request.headers.get("X-CSRF-Token") or _text(form.get("csrf")))
    return session, form


async def multipart_form(request: web.Request) -> MultipartReader:
    """A file form's parts, once its first part, the CSRF token, is checked."""
    session = await signed_in(request)
    if request.content_type != "multipart/form-data":
        raise ApiError(400, ErrorCode.VALIDATION_FAILED, "send the form as multipart/form-data")
    reader = await request.multipart()
    csrf = await reader.next()
    if not isinstance(csrf, BodyPartReader) or csrf.name != "csrf":
        raise ApiError(400, ErrorCode.VALIDATION_FAILED, "the form must send csrf first")
    check_csrf(session, await csrf.text())
    return reader


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host or scheme), so sign-in cannot redirect away."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


async def sign_in_page(request: web.Request, error: str | None = None) -> web.Response:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
    response = aiohttp_jinja2.render_template(
        "sign_in.html", request,
        {"csrf": pre, "error": error, "next": _safe_next(request.query.get("next"))},
        status=401 if error else 200)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="Strict", path="/sign-in")
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    pre = request.cookies.get(PRE_COOKIE, "")
    given = _text(form.get("csrf")) or ""
    if not pre or not hmac.compare_digest(pre, given):
        raise ApiError(403, ErrorCode.FORBIDDEN, "the sign-in form's CSRF token is wrong")
    failures, address = request.app[FAILURES], request.remote or ""
    wait = failures.wait(address, time.monotonic())
    if wait:
        raise ApiError(429, ErrorCode.RATE_LIMITED, "too many failed sign-ins from this"
                       f" address; try again in {retry_after(wait)} s")
    who = await request.app[TOKENS].resolve((_text(form.get("token")) or "").strip())
    if who is None:
        failures.failed(address, time.monotonic())
        return await sign_in_page(request, gettext(request)("Unknown or revoked sign-in token."))
    desk = request.app[DESK]
    async with desk.pool.acquire() as conn:
        sid = await store.open_session(conn, who.id, desk.clock() + TTL)
    response = web.HTTPSeeOther(_safe_next(_text(form.get("next"))))
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", path="/",
                        max_age=int(TTL.total_seconds()))
    response.del_cookie(PRE_COOKIE, path="/sign-in")
    raise response


async def sign_out(request: web.Request) -> web.StreamResponse:
    await posted_form(request)
    desk = request.app[DESK]
    async with desk.pool.acquire() as conn:
        await store.close(conn, request.cookies[COOKIE], desk.clock())
    response = web.HTTPSeeOther("/sign-in")
    response.del_cookie(COOKIE, path="/")
    raise response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sign-in", sign_in_page)
    app.router.add_post("/sign-in", sign_in)
    app.router.add_post("/sign-out", sign_out)
