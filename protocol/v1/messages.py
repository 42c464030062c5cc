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

from protocol.v1.bulk import BulkAnswersBody, BulkItemsBody
from protocol.v1.chain import ChainAnsweredBody, ChainRequestedBody
from protocol.v1.content import Frozen, RequestContent, RequestKind
from protocol.v1.events import Change, RequesterChange
from protocol.v1.files import ChunkBody, OfferedBody
from protocol.v1.joint import (
    JointCommandBody,
    JointCommandRefusedBody,
    JointEventBody,
    JointFileChunkBody,
    JointRecordedBody,
)
from protocol.v1.registry import BureauRecord, DeskKey
from protocol.v1.types import Address, BureauCode, LongText, ShortText, Signature


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


# --- between desks ---------------------------------------------------------------


class SubmittedBody(Frozen):
    request_id: uuid.UUID
    event_id: uuid.UUID
    requester: BureauCode
    recipient: BureauCode
    created_at: AwareDatetime
    created_by: ShortText
    content: RequestContent
    due_date: dt.date
    """The effective due date, counted in working days by the requester's desk."""
    group_id: uuid.UUID | None = None
    """Set for a child of a broadcast request."""
    transferred_from: BureauCode | None = None
    """Set when a recipient handed the request on; events continue after ``seq``."""
    seq: int = Field(0, ge=0)
    signature: Signature | None = None
    """SM2 signature of the sending desk over this body without it (``signed_body``)."""


class RequestSubmitted(Message):
    """Requester's (or transferring recipient's) desk -> recipient's desk: a request."""

    type: Literal["request.submitted"] = "request.submitted"
    body: SubmittedBody


class EventBody(Frozen):
    """A decided change of a request, numbered by the desk that decides it."""

    request_id: uuid.UUID
    event_id: uuid.UUID
    seq: int = Field(ge=1)
    """Position in the request's stream of decided events (1 = delivered)."""
    occurred_at: AwareDatetime
    bureau: BureauCode
    """The bureau on whose behalf the change was made."""
    actor: ShortText
    """Display name of the investigator (or system part) that made it."""
    state: str = Field(max_length=32)
    """The request's state after the change."""
    due_date: dt.date
    """The request's due date after the change."""
    change: Change
    signature: Signature | None = None
    """SM2 signature of the deciding desk over this body without it (``signed_body``)."""


class RequestEvent(Message):
    """Deciding desk -> the other party's desk: something happened to a request."""

    type: Literal["request.event"] = "request.event"
    body: EventBody


class CommandBody(Frozen):
    request_id: uuid.UUID
    command_id: uuid.UUID
    """Becomes the event id if the change is made, so a repeated command is made once."""
    issued_at: AwareDatetime
    actor: ShortText
    change: RequesterChange


class RequestCommand(Message):
    """Requester's desk -> deciding desk: please make this change."""

    type: Literal["request.command"] = "request.command"
    body: CommandBody


class CommandRefusedBody(Frozen):
    request_id: uuid.UUID
    command_id: uuid.UUID
    event: str = Field(max_length=32)
    reason: LongText


class RequestCommandRefused(Message):
    """Deciding desk -> requester's desk: the asked-for change was not legal any more."""

    type: Literal["request.command_refused"] = "request.command_refused"
    body: CommandRefusedBody


class UndeliverableBody(Frozen):
    request_id: uuid.UUID | None
    original_message_id: uuid.UUID
    original_type: str = Field(max_length=64)
    reason: ShortText


class RequestUndeliverable(Message):
    """Hub -> sender desk: no desk took a message addressed to ``original recipient``."""

    type: Literal["request.undeliverable"] = "request.undeliverable"
    body: UndeliverableBody


class AttachmentOffered(Message):
    """Uploading desk -> the other party's desk: an evidence file's metadata (``files``)."""

    type: Literal["attachment.offered"] = "attachment.offered"
    body: OfferedBody


class AttachmentChunk(Message):
    """Uploading desk -> the other party's desk: one chunk of an evidence file."""

    type: Literal["attachment.chunk"] = "attachment.chunk"
    body: ChunkBody


class BulkItems(Message):
    """Requester's desk -> recipient's desk: a batch of a bulk request's items."""

    type: Literal["bulk.items"] = "bulk.items"
    body: BulkItemsBody


class BulkAnswers(Message):
    """Deciding desk -> requester's desk: a batch of answers to items."""

    type: Literal["bulk.answers"] = "bulk.answers"
    body: BulkAnswersBody


class JointEvent(Message):
    """Lead's desk -> a participant's bureau: a decided change of a joint case."""

    type: Literal["joint.event"] = "joint.event"
    body: JointEventBody


class JointCommand(Message):
    """A member's or the supervisor's desk -> the lead's bureau: please make this change."""

    type: Literal["joint.command"] = "joint.command"
    body: JointCommandBody


class JointCommandRefused(Message):
    """Lead's desk -> the asking bureau: its joint-case change was not made."""

    type: Literal["joint.command_refused"] = "joint.command_refused"
    body: JointCommandRefusedBody


class JointFileChunk(Message):
    """A desk -> a participant's bureau: one chunk of evidence shared with a joint case."""

    type: Literal["joint.file_chunk"] = "joint.file_chunk"
    body: JointFileChunkBody


# --- desks -> hub -----------------------------------------------------------------

EventType = Literal[
    "created", "sent", "delivered", "undeliverable", "accepted", "rejected", "info_requested",
    "info_provided", "transferred", "transfer_returned", "partially_replied", "replied",
    "withdrawn", "closed", "due_date_agreed", "due_date_refused", "reminded", "escalated",
    "item_answered",
]


class EventRecordedBody(Frozen):
    event_id: uuid.UUID
    request_id: uuid.UUID
    event_type: EventType
    requester: BureauCode
    recipient: BureauCode
    occurred_at: AwareDatetime
    on_time: bool | None = None
    """For 'replied': answered by the due date."""
    turnaround_days: int | None = Field(None, ge=0)
    """For 'replied': calendar days from creation to the reply; for 'accepted', to the
    acceptance."""
    count: int = Field(1, ge=1, le=10_000)
    """For 'item_answered': how many items of a bulk request were newly answered."""
    kind: RequestKind | None = None
    """The request's kind, so the hub can slice its figures by kind (None: not told)."""
    due_date_agreed: bool | None = None
    """For 'replied': the due date in force was proposed by the recipient and agreed by
    the requester (since the last transfer), so ``on_time`` says "by the agreed date"."""
    rating: int | None = Field(None, ge=1, le=5)
    """For 'closed': the requester's rating of the answer."""
    overdue: bool | None = None
    """For 'reminded': the deadline watch's reminder that the request is past its due date
    (from then on it counts as overdue). For 'replied', 'rejected', 'withdrawn' and
    'transferred': the request had such a reminder since its last transfer (it stops
    counting as overdue). None or false otherwise; older desks never send it."""


class RequestEventRecorded(Message):
    """Desk -> hub: a request changed state; the hub counts it exactly once."""

    type: Literal["event.recorded"] = "event.recorded"
    body: EventRecordedBody


class JointRecorded(Message):
    """Lead's desk -> hub: something to count about a joint case, exactly once."""

    type: Literal["joint.recorded"] = "joint.recorded"
    body: JointRecordedBody


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
    desks: tuple[DeskKey, ...] = ()
    """Each desk's provinces and SM2 public key, as the hub's configuration has them."""


class RegistryPublished(Message):
    """Hub -> all desks: the complete partner registry at ``version``."""

    type: Literal["registry.published"] = "registry.published"
    body: RegistryPublishedBody


class ChainRequested(Message):
    """A party's desk -> the other party's desk: send me your chain of this request."""

    type: Literal["chain.requested"] = "chain.requested"
    body: ChainRequestedBody


class ChainAnswered(Message):
    """The other party's desk -> the asking desk: its chain of the request."""

    type: Literal["chain.answered"] = "chain.answered"
    body: ChainAnsweredBody


AnyMessage = Annotated[
    RequestSubmitted
    | RequestEvent
    | RequestCommand
    | RequestCommandRefused
    | RequestUndeliverable
    | AttachmentOffered
    | AttachmentChunk
    | RequestEventRecorded
    | RegistryRequested
    | RegistryPublished
    | BulkItems
    | BulkAnswers
    | JointEvent
    | JointCommand
    | JointCommandRefused
    | JointFileChunk
    | JointRecorded
    | ChainRequested
    | ChainAnswered,
    Field(discriminator="type"),
]

MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        RequestSubmitted,
        RequestEvent,
        RequestCommand,
        RequestCommandRefused,
        RequestUndeliverable,
        AttachmentOffered,
        AttachmentChunk,
        RequestEventRecorded,
        RegistryRequested,
        RegistryPublished,
        BulkItems,
        BulkAnswers,
        JointEvent,
        JointCommand,
        JointCommandRefused,
        JointFileChunk,
        JointRecorded,
        ChainRequested,
        ChainAnswered,
    )
}

_adapter: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)


def parse_message(raw: bytes | str) -> AnyMessage:
    """Decode and validate one message; raises ``pydantic.ValidationError``."""
    return _adapter.validate_json(raw)
