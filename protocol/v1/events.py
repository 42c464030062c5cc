"""What can happen to a request after it was submitted, as wire data.

Each change is a small model selected by its ``event`` name. Changes travel in
``request.event`` messages (decided, numbered) and, when a requester on another
desk asks for one, in ``request.command`` messages (asked, not yet decided).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from protocol.v1.content import Frozen, ReplyContent
from protocol.v1.types import BureauCode, LongText, SaneDate, ShortText


class RejectReason(StrEnum):
    NOT_COMPETENT = "not_competent"
    """The recipient is not competent and knows no one who is."""
    INSUFFICIENT_INFORMATION = "insufficient_information"
    SUBJECT_NOT_FOUND = "subject_not_found"
    OUTSIDE_LEGAL_BASIS = "outside_legal_basis"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ReminderRule(StrEnum):
    MANUAL = "manual"
    """An investigator of the requester chased (催办)."""
    BEFORE_DUE = "before_due"
    OVERDUE = "overdue"


class Delivered(Frozen):
    event: Literal["delivered"] = "delivered"


class Undeliverable(Frozen):
    """No desk serves the recipient; recorded by the requester's desk."""

    event: Literal["undeliverable"] = "undeliverable"
    reason: ShortText


class Accepted(Frozen):
    event: Literal["accepted"] = "accepted"
    proposed_due_date: SaneDate | None = None
    """The recipient may propose another due date when accepting."""


class Rejected(Frozen):
    event: Literal["rejected"] = "rejected"
    reason: RejectReason
    note: LongText | None = None


class InfoRequested(Frozen):
    """The recipient needs more information; the deadline clock stops."""

    event: Literal["info_requested"] = "info_requested"
    questions: LongText


class InfoProvided(Frozen):
    """The requester answered; the clock runs again and the due date moves on."""

    event: Literal["info_provided"] = "info_provided"
    info: LongText


class Transferred(Frozen):
    event: Literal["transferred"] = "transferred"
    to: BureauCode
    note: LongText | None = None


class TransferReturned(Frozen):
    """No desk serves the bureau a request was transferred to: the hand-over came back,
    and the request is again in the inbox of the bureau that transferred it (``to``)."""

    event: Literal["transfer_returned"] = "transfer_returned"
    to: BureauCode
    unserved: BureauCode
    """The bureau no desk took the request for."""
    reason: ShortText


class PartiallyReplied(Frozen):
    event: Literal["partially_replied"] = "partially_replied"
    reply: ReplyContent


class Replied(Frozen):
    event: Literal["replied"] = "replied"
    reply: ReplyContent


class Withdrawn(Frozen):
    event: Literal["withdrawn"] = "withdrawn"
    note: LongText | None = None


class Closed(Frozen):
    event: Literal["closed"] = "closed"
    rating: int = Field(ge=1, le=5)
    comment: LongText | None = None


class DueDateAgreed(Frozen):
    event: Literal["due_date_agreed"] = "due_date_agreed"


class DueDateRefused(Frozen):
    event: Literal["due_date_refused"] = "due_date_refused"
    note: LongText | None = None


class Reminded(Frozen):
    event: Literal["reminded"] = "reminded"
    rule: ReminderRule
    note: ShortText | None = None


class Escalated(Frozen):
    """Overdue past the margin: the recipient region's coordinators step in."""

    event: Literal["escalated"] = "escalated"
    province: Annotated[str, Field(pattern=r"^\d{2}$")]


Change = Annotated[
    Delivered | Undeliverable | Accepted | Rejected | InfoRequested | InfoProvided | Transferred
    | TransferReturned | PartiallyReplied | Replied | Withdrawn | Closed | DueDateAgreed
    | DueDateRefused | Reminded | Escalated,
    Field(discriminator="event"),
]

RequesterChange = Annotated[
    InfoProvided | Withdrawn | Closed | DueDateAgreed | DueDateRefused | Reminded | Escalated,
    Field(discriminator="event"),
]
"""What a requester's desk may ask the deciding desk for."""
