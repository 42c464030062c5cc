"""What the desk's HTTP API returns: JSON views of requests and their timelines."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1.registry import BureauRecord
from services.desk.domain.errors import Refused


def bureau_ref(code: str, names: Mapping[str, BureauRecord]) -> dict[str, str]:
    rec = names.get(code)
    return {"code": code, "name": rec.name if rec else code}


def request_view(
    req: asyncpg.Record,
    names: Mapping[str, BureauRecord],
    timeline: list[asyncpg.Record] | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(req["id"]),
        "state": req["state"],
        "kind": req["kind"],
        "requester": bureau_ref(req["requester"], names),
        "recipient": bureau_ref(req["recipient"], names),
        "subject": req["content"]["subject"],
        "questions": req["content"]["questions"],
        "due_date": req["due_date"].isoformat() if req["due_date"] else None,
        "reply": req["reply"],
        "created_at": req["created_at"].isoformat(),
        "created_by": req["created_by"],
        "updated_at": req["updated_at"].isoformat(),
        "correlation_id": req["correlation_id"],
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


def encode_cursor(req: asyncpg.Record) -> str:
    raw = f"{req['created_at'].isoformat()}|{req['id']}".encode()
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
