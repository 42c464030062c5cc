"""Builders of the protocol messages a desk sends; pure functions of a request row."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from protocol.v1 import (
    RegistryRequested,
    RequestAccepted,
    RequestDelivered,
    RequestEventRecorded,
    RequestReplied,
    RequestSubmitted,
)
from protocol.v1.messages import EventType, Message

Row = Any  # an asyncpg.Record of the request table (mapping access)


def submitted(req: Row, event_id: uuid.UUID) -> RequestSubmitted:
    return RequestSubmitted(
        correlation_id=req["correlation_id"],
        sender=req["requester"],
        recipient=req["recipient"],
        body={
            "request_id": req["id"],
            "event_id": event_id,
            "requester": req["requester"],
            "recipient": req["recipient"],
            "created_at": req["created_at"],
            "created_by": req["created_by"],
            "content": req["content"],
        },
    )


def recorded(req: Row, event_type: EventType, event_id: uuid.UUID, at: dt.datetime,
             by_bureau: str) -> RequestEventRecorded:
    """The hub's copy of an event, so it can count it exactly once."""
    return RequestEventRecorded(
        correlation_id=req["correlation_id"],
        sender=by_bureau,
        recipient="hub",
        body={
            "event_id": event_id,
            "request_id": req["id"],
            "event_type": event_type,
            "requester": req["requester"],
            "recipient": req["recipient"],
            "occurred_at": at,
        },
    )


_TO_REQUESTER: dict[str, type[Message]] = {
    "delivered": RequestDelivered,
    "accepted": RequestAccepted,
    "replied": RequestReplied,
}


def to_requester(req: Row, event_type: str, facts: dict[str, Any]) -> Message | None:
    """The message telling the requester's desk about a recipient-side event, if any."""
    cls = _TO_REQUESTER.get(event_type)
    if cls is None:
        return None
    return cls.model_validate({
        "correlation_id": req["correlation_id"],
        "sender": req["recipient"],
        "recipient": req["requester"],
        "body": facts,
    })


def registry_request(region: str, have_version: int) -> RegistryRequested:
    return RegistryRequested(
        correlation_id=f"registry-{region}",
        sender=f"desk.{region}",
        recipient="hub",
        body={"have_version": have_version},
    )
