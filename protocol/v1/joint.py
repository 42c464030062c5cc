"""Joint action (联合行动) on the wire: a case one lead bureau runs with several members.

The lead's desk owns the case: it decides every change, numbers it (``seq``) and sends
it to every other participant's bureau as ``joint.event``, carrying the case as it is
after the change, so a desk that gets events late or twice still converges on the
newest copy and shows the timeline in ``seq`` order. A member or the supervising
bureau asks for a change with ``joint.command``; shared evidence travels as
``joint.file_chunk`` messages (metadata repeated in each, so chunks arrive in any
order). The lead's desk tells the hub what to count with ``joint.recorded``.
The envelopes are in ``messages``; the bodies are here.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, Field, HttpUrl, model_validator

from protocol.v1.content import Frozen, Handling, RequestKind
from protocol.v1.files import MAX_CHUNKS, MAX_FILE_BYTES, ChunkData, FileName, MediaType, Sha256Hex
from protocol.v1.types import BureauCode, CreditCode, LongText, ShortText

MAX_MEMBERS: Final = 100
MAX_OUTCOMES: Final = 500


class CaseState(StrEnum):
    OPEN = "open"
    CLOSING = "closing"
    """The lead proposed a closing summary; members confirm it."""
    CLOSED = "closed"


class MemberStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LEAVING = "leaving"
    """Asked to leave; still a member until the lead agrees."""
    LEFT = "left"


class CaseSubject(Frozen):
    """A merchant, shop or platform the case is about (at least one identifying field)."""

    merchant_name: ShortText | None = None
    credit_code: CreditCode | None = None
    shop_url: HttpUrl | None = None
    platform: ShortText | None = None

    @model_validator(mode="after")
    def _identified(self) -> CaseSubject:
        if not (self.merchant_name or self.credit_code or self.shop_url or self.platform):
            raise ValueError("a subject needs a name, credit code, shop URL or platform")
        return self


class CaseHeader(Frozen):
    """What the lead says when opening a case; it does not change afterwards."""

    title: ShortText
    subjects: Annotated[tuple[CaseSubject, ...], Field(min_length=1, max_length=50)]
    legal_basis: LongText
    aim: LongText
    lead: BureauCode
    coordinator: ShortText
    """The investigator at the lead bureau who coordinates the case."""
    supervisor: BureauCode | None = None
    """A bureau above the members (prefecture or province) that reads and comments."""
    handling: Annotated[tuple[Handling, ...], Field(max_length=len(Handling))] = ()


class Member(Frozen):
    bureau: BureauCode
    status: MemberStatus
    reason: LongText | None = None
    """Why it declined or asked to leave."""


class OutcomeKind(StrEnum):
    NO_VIOLATION = "no_violation"
    WARNING = "warning"
    CORRECTION_ORDER = "correction_order"
    FINE = "fine"
    CONFISCATION = "confiscation"
    SUSPENSION = "suspension"
    LICENCE_REVOKED = "licence_revoked"
    DELISTED = "delisted"
    """The platform took the shop down."""
    REFERRAL_POLICE = "referral_police"
    REFERRAL_OTHER = "referral_other"


class Outcome(Frozen):
    """One action taken against a merchant, by one bureau of the case."""

    kind: OutcomeKind
    bureau: BureauCode
    merchant_name: ShortText | None = None
    credit_code: CreditCode | None = None
    amount_yuan: int | None = Field(None, ge=0)
    """For fines and confiscations."""
    note: ShortText | None = None


class Summary(Frozen):
    findings: LongText
    outcomes: Annotated[tuple[Outcome, ...], Field(max_length=MAX_OUTCOMES)] = ()


class SharedFile(Frozen):
    """An evidence file shared with the case; its restrictions travel with it."""

    file_id: uuid.UUID
    name: FileName
    media_type: MediaType
    size: int = Field(ge=1, le=MAX_FILE_BYTES)
    sha256: Sha256Hex
    shared_by: BureauCode
    uploaded_by: ShortText
    """Display name of the investigator who shared it."""
    handling: Annotated[tuple[Handling, ...], Field(max_length=len(Handling))] = ()


class Task(Frozen):
    """An assistance request of today's kinds, from the lead to a member, linked to the case."""

    request_id: uuid.UUID
    assignee: BureauCode
    kind: RequestKind
    due_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


# --- the changes of a case (its timeline entries) ----------------------------------


class Opened(Frozen):
    event: Literal["opened"] = "opened"


class Invited(Frozen):
    event: Literal["invited"] = "invited"
    bureaus: Annotated[tuple[BureauCode, ...], Field(min_length=1, max_length=MAX_MEMBERS)]


class Accepted(Frozen):
    event: Literal["accepted"] = "accepted"


class Declined(Frozen):
    event: Literal["declined"] = "declined"
    reason: LongText


class LeaveRequested(Frozen):
    event: Literal["leave_requested"] = "leave_requested"
    reason: LongText


class LeaveAgreed(Frozen):
    event: Literal["leave_agreed"] = "leave_agreed"
    bureau: BureauCode


class LeaveRefused(Frozen):
    event: Literal["leave_refused"] = "leave_refused"
    bureau: BureauCode
    note: LongText | None = None


class Noted(Frozen):
    """A message on the joint timeline."""

    event: Literal["noted"] = "noted"
    text: LongText
    handling: Annotated[tuple[Handling, ...], Field(max_length=len(Handling))] = ()


class Commented(Frozen):
    """The supervising bureau's comment (督办意见)."""

    event: Literal["commented"] = "commented"
    text: LongText


class EvidenceShared(Frozen):
    event: Literal["evidence_shared"] = "evidence_shared"
    file: SharedFile


class TaskAssigned(Frozen):
    event: Literal["task_assigned"] = "task_assigned"
    task: Task


class ClosingProposed(Frozen):
    event: Literal["closing_proposed"] = "closing_proposed"
    summary: Summary


class ClosingConfirmed(Frozen):
    event: Literal["closing_confirmed"] = "closing_confirmed"


JointChange = Annotated[
    Opened | Invited | Accepted | Declined | LeaveRequested | LeaveAgreed | LeaveRefused
    | Noted | Commented | EvidenceShared | TaskAssigned | ClosingProposed | ClosingConfirmed,
    Field(discriminator="event"),
]

ParticipantChange = Annotated[
    Accepted | Declined | LeaveRequested | Noted | Commented | ClosingConfirmed,
    Field(discriminator="event"),
]
"""What a member or the supervisor may ask the lead's desk for."""


class CaseSnapshot(Frozen):
    """The case as it stands after a change."""

    header: CaseHeader
    state: CaseState
    members: Annotated[tuple[Member, ...], Field(max_length=MAX_MEMBERS)]
    summary: Summary | None = None
    confirmed: tuple[BureauCode, ...] = ()
    """Members that confirmed the closing summary."""


class JointEventBody(Frozen):
    case_id: uuid.UUID
    event_id: uuid.UUID
    seq: int = Field(ge=1)
    occurred_at: AwareDatetime
    bureau: BureauCode
    """The bureau on whose behalf the change was made."""
    actor: ShortText
    change: JointChange
    case: CaseSnapshot


class JointCommandBody(Frozen):
    case_id: uuid.UUID
    command_id: uuid.UUID
    """Becomes the event id if the change is made, so a repeated command is made once."""
    issued_at: AwareDatetime
    actor: ShortText
    change: ParticipantChange


class JointCommandRefusedBody(Frozen):
    """Lead's desk -> the asking bureau: the change was not made, and why."""

    case_id: uuid.UUID
    command_id: uuid.UUID
    event: str = Field(max_length=32)
    code: str = Field(max_length=64)
    """A ``protocol.errors.ErrorCode`` value."""
    reason: LongText
    refused_at: AwareDatetime


class JointFileChunkBody(Frozen):
    """One piece of a shared evidence file (bytes ``idx * CHUNK_BYTES`` onwards)."""

    case_id: uuid.UUID
    file: SharedFile
    idx: int = Field(ge=0, lt=MAX_CHUNKS)
    data: ChunkData


JointMetric = Literal[
    "joint_opened", "joint_member_joined", "joint_member_declined", "joint_task_assigned",
    "joint_closed", "joint_outcome",
]


class JointRecordedBody(Frozen):
    """For the hub: something to count about a case, for ``bureau`` (and its province)."""

    event_id: uuid.UUID
    case_id: uuid.UUID
    metric: JointMetric
    bureau: BureauCode
    occurred_at: AwareDatetime
    count: int = Field(1, ge=1, le=MAX_OUTCOMES)
