"""Every message of protocol v1: one envelope shape, one body per message type.

A message's ``type`` selects its body; ``parse_message`` turns raw bytes into the
right class or raises ``pydantic.ValidationError``. Message ids are unique: every
consumer records them, so a redelivered message changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from protocol.v1.content import Frozen, ReplyContent, RequestContent
from protocol.v1.registry import BureauRecord
from protocol.v1.types import Address, BureauCode, ShortText


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Message(Frozen):
    """The envelope: who, to whom, which conversation, which schema."""

    type: str
    message_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    correlation_id: str = Field(min_length=1, max_length=64)
    sender: Address
    recipient: Address
    schema_version: Literal[1] = 1
    sent_at: AwareDatetime = Field(default_factory=_now)


class EventFacts(Frozen):
    """What every request event carries: which event, of which request, by whom, when."""

    request_id: uuid.UUID
    event_id: uuid.UUID
    seq: int = Field(ge=1)
    """Position in the recipient's stream of events about this request (1 = delivered)."""
    occurred_at: AwareDatetime
    actor: ShortText
    """Display name of the investigator (or system part) that caused the event."""


# --- between desks ---------------------------------------------------------------


class SubmittedBody(Frozen):
    request_id: uuid.UUID
    event_id: uuid.UUID
    requester: BureauCode
    recipient: BureauCode
    created_at: AwareDatetime
    created_by: ShortText
    content: RequestContent


class RequestSubmitted(Message):
    """Requester desk -> recipient desk: a new assistance request."""

    type: Literal["request.submitted"] = "request.submitted"
    body: SubmittedBody


class RequestDelivered(Message):
    """Recipient desk -> requester desk: the request is in the recipient's inbox."""

    type: Literal["request.delivered"] = "request.delivered"
    body: EventFacts


class RequestAccepted(Message):
    """Recipient desk -> requester desk: an investigator took the request on."""

    type: Literal["request.accepted"] = "request.accepted"
    body: EventFacts


class RepliedBody(EventFacts):
    reply: ReplyContent


class RequestReplied(Message):
    """Recipient desk -> requester desk: the findings and answers."""

    type: Literal["request.replied"] = "request.replied"
    body: RepliedBody


class UndeliverableBody(Frozen):
    request_id: uuid.UUID | None
    original_message_id: uuid.UUID
    original_type: str = Field(max_length=64)
    reason: ShortText


class RequestUndeliverable(Message):
    """Hub -> sender desk: no desk took a message addressed to ``original recipient``."""

    type: Literal["request.undeliverable"] = "request.undeliverable"
    body: UndeliverableBody


# --- desks -> hub -----------------------------------------------------------------

EventType = Literal["created", "sent", "delivered", "accepted", "replied", "undeliverable"]


class EventRecordedBody(Frozen):
    event_id: uuid.UUID
    request_id: uuid.UUID
    event_type: EventType
    requester: BureauCode
    recipient: BureauCode
    occurred_at: AwareDatetime


class RequestEventRecorded(Message):
    """Desk -> hub: a request changed state; the hub counts it exactly once."""

    type: Literal["event.recorded"] = "event.recorded"
    body: EventRecordedBody


# --- registry ---------------------------------------------------------------------


class RegistryRequestedBody(Frozen):
    have_version: int = Field(ge=0)


class RegistryRequested(Message):
    """Desk -> hub: please (re)publish the partner registry."""

    type: Literal["registry.requested"] = "registry.requested"
    body: RegistryRequestedBody


class RegistryPublishedBody(Frozen):
    version: int = Field(ge=1)
    bureaus: tuple[BureauRecord, ...]


class RegistryPublished(Message):
    """Hub -> all desks: the complete partner registry at ``version``."""

    type: Literal["registry.published"] = "registry.published"
    body: RegistryPublishedBody


AnyMessage = Annotated[
    RequestSubmitted
    | RequestDelivered
    | RequestAccepted
    | RequestReplied
    | RequestUndeliverable
    | RequestEventRecorded
    | RegistryRequested
    | RegistryPublished,
    Field(discriminator="type"),
]

MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        RequestSubmitted,
        RequestDelivered,
        RequestAccepted,
        RequestReplied,
        RequestUndeliverable,
        RequestEventRecorded,
        RegistryRequested,
        RegistryPublished,
    )
}

_adapter: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)


def parse_message(raw: bytes | str) -> AnyMessage:
    """Decode and validate one message; raises ``pydantic.ValidationError``."""
    return _adapter.validate_json(raw)
