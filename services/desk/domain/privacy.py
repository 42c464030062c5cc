"""Personal data over time: hidden from investigators a while after a request ends,
deleted later by the retention job. Pure rules; the periods are settings.

What counts as personal data: complainants' names and resident ID numbers (bulk items),
and every free text a person wrote (questions, replies, timeline notes, file names),
which may name people or give their numbers. The merchant, bureaus, kind, states and
dates stay: they are no one's personal data and the statistics are made of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from services.desk.domain.lifecycle import TERMINAL
from services.desk.domain.request import Request

HIDE_AFTER = dt.timedelta(days=183)
"""About six months after a request ended."""
DELETE_AFTER = dt.timedelta(days=1096)
"""About three years after a request ended."""
HIDDEN = "***"


def ended_at(req: Request) -> dt.datetime | None:
    """When the request ended (its last change, once in a terminal state), else None."""
    return req.updated_at if req.state in TERMINAL else None


def is_hidden(req: Request, now: dt.datetime, after: dt.timedelta) -> bool:
    ended = ended_at(req)
    return ended is not None and now - ended >= after


def without_personal_data(req: Request) -> Request:
    """The request with every free text replaced by ``HIDDEN`` and no reply."""
    questions = [{**q, "text": HIDDEN} for q in req.content["questions"]]
    return replace(req, content={**req.content, "questions": questions}, reply=None)
