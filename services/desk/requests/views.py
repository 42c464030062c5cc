"""What the desk's HTTP API returns: JSON views of requests and their timelines."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from protocol.errors import ErrorCode
from protocol.v1.registry import BureauRecord
from services.desk.domain.errors import Refused
from services.desk.domain.request import Request
from services.desk.domain.workflow import is_overdue


def bureau_ref(code: str, names: Mapping[str, BureauRecord]) -> dict[str, str]:
    rec = names.get(code)
    return {"code": code, "name": rec.name if rec else code}


def request_view(
    req: Request,
    names: Mapping[str, BureauRecord],
    timeline: Sequence[Mapping[str, Any]] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """A request as JSON; ``today`` (China time) decides whether it is overdue."""
    due: dt.date = req.due_date
    view: dict[str, Any] = {
        "id": str(req.id),
        "state": req.state,
        "kind": req.kind,
        "requester": bureau_ref(req.requester, names),
        "recipient": bureau_ref(req.recipient, names),
        "subject": req.content["subject"],
        "questions": req.content["questions"],
        "handling": req.content.get("handling", []),
        "due_date": due.isoformat(),
        "due_date_provisional": req.due_provisional,
        "proposed_due_date": _iso(req.pending_due_date),
        "overdue": today is not None and is_overdue(req.state, due, today),
        "reminders": req.reminders,
        "last_reminded_at": _iso(req.last_reminded_at),
        "escalated_at": _iso(req.escalated_at),
        "transferred_from": [bureau_ref(c, names) for c in req.transferred_from],
        "rating": req.rating,
        "group_id": str(req.group_id) if req.group_id else None,
        "reply": req.reply,
        "created_at": req.created_at.isoformat(),
        "created_by": req.created_by,
        "updated_at": req.updated_at.isoformat(),
        "correlation_id": req.correlation_id,
    }
    if timeline is not None:
        view["timeline"] = [
            {
                "event_id": str(e["event_id"]),
                "type": e["type"],
                "at": e["occurred_at"].isoformat(),
                "bureau": bureau_ref(e["bureau"], names),
                "actor": e["actor"],
                **({"seq": e["seq"]} if e["seq"] is not None else {}),
                **({"data": e["data"]} if e["data"] is not None else {}),
            }
            for e in timeline
        ]
    return view


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def encode_cursor(req: Request) -> str:
    raw = f"{req.created_at.isoformat()}|{req.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        text, rid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = dt.datetime.fromisoformat(text)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at.astimezone(dt.UTC), uuid.UUID(rid)
    except (ValueError, OverflowError):
        raise Refused(ErrorCode.BAD_QUERY, "cursor is not one this API returned") from None
