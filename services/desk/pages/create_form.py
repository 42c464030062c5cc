"""The form that creates a request: recipient found from the credit code as it is typed,
the check character explained, preset questions per kind, open duplicates shown first."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import ValidationError

from protocol.v1.content import RequestContent, RequestKind
from services.common.http import correlation_id
from services.desk.domain import jurisdiction
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import OPEN
from services.desk.pages import present
from services.desk.pages.common import render
from services.desk.pages.presets import PRESETS
from services.desk.pages.request_page import _first_error
from services.desk.requests import usecases
from services.desk.requests.search import Filters
from services.desk.sessions.web import posted_form, signed_in
from services.desk.web import DESK

MAX_QUESTIONS = 10


def _kind(value: str | None) -> RequestKind:
    try:
        return RequestKind(value or RequestKind.MERCHANT_REGISTRATION)
    except ValueError:
        return RequestKind.MERCHANT_REGISTRATION


async def new_page(request: web.Request) -> web.Response:
    session = await signed_in(request)
    kind = _kind(request.query.get("kind"))
    values = {"kind": kind, "questions": list(PRESETS[kind]), "idem": secrets.token_hex(12)}
    return render("new.html", request, session, {"v": values, "error": None,
                                                 "max_questions": MAX_QUESTIONS})


async def questions(request: web.Request) -> web.Response:
    """The preset questions of a kind (htmx swaps them into the form)."""
    session = await signed_in(request)
    kind = _kind(request.query.get("kind"))
    return render("_questions.html", request, session,
                  {"v": {"questions": list(PRESETS[kind])}, "max_questions": MAX_QUESTIONS})


async def recipient(request: web.Request) -> web.Response:
    """Who is competent for the credit code typed so far, and open requests to them."""
    session = await signed_in(request)
    desk = request.app[DESK]
    typed = request.query.get("credit_code", "")
    check = present.check_credit_code(typed) if typed.strip() else None
    bureau, problem, duplicates = None, None, []
    if check is not None and check.code is not None:
        try:
            bureau = jurisdiction.competent_bureau(await desk.names(), check.code)
        except Refused as exc:
            problem = exc.message
        if bureau is not None:
            mine = Filters(box="outbox", bureau=session.who.bureau, counterpart=bureau.code,
                           credit_code=check.code)
            rows = await usecases.find(desk, session.who, mine, 20, None,
                                       correlation_id(request))
            duplicates = [r for r in rows if r.state in OPEN | {"created", "sent"}]
    return render("_recipient.html", request, session, {
        "check": check, "bureau": bureau, "problem": problem, "duplicates": duplicates})


def content_of(form: MultiDictProxy[Any]) -> dict[str, Any]:
    """The request's content as the form gives it (pydantic decides if it is valid)."""
    def text(name: str) -> str | None:
        value = form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    asked = [t for t in (text(f"question_{i}") for i in range(MAX_QUESTIONS)) if t]
    subject = {"merchant_name": text("merchant_name"), "credit_code": text("credit_code"),
               "platform": text("platform"), "shop_url": text("shop_url")}
    return {
        "kind": text("kind"), "questions": [{"id": f"q{i + 1}", "text": q}
                                            for i, q in enumerate(asked)],
        "subject": {k: v for k, v in subject.items() if v is not None},
        "due_date": text("due_date"), "handling": form.getall("handling", []),
    }


async def create(request: web.Request) -> web.Response:
    session, form = await posted_form(request)
    desk = request.app[DESK]
    raw = content_of(form)
    idem = form.get("idem")
    key = idem if isinstance(idem, str) and idem else None
    try:
        content = RequestContent.model_validate(raw)
        digest = hashlib.sha256(content.model_dump_json().encode()).digest()
        req, _ = await usecases.create(desk, session.who, content, None, key,
                                       correlation_id(request), digest)
    except (ValidationError, Refused) as exc:
        error = _first_error(exc) if isinstance(exc, ValidationError) else exc.message
        subject = {k: raw["subject"].get(k, "") for k in
                   ("merchant_name", "credit_code", "platform", "shop_url")}
        values = raw | {"kind": _kind(raw["kind"]), "idem": key, "subject": subject,
                        "questions": [q["text"] for q in raw["questions"]]}
        return render("new.html", request, session,
                      {"v": values, "error": error, "max_questions": MAX_QUESTIONS}, 422)
    raise web.HTTPSeeOther(f"/requests/{req.id}")
