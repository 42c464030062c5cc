"""An assistance request as the desk holds it: a typed, frozen value, and the steps that
change it.

``Request`` is one row of the ``request`` table with its types; a change never mutates
it but makes a new one (``decide`` for a change this desk decides, ``absorb`` for one the
deciding desk reports). ``Step`` is the change as it is recorded: who, when, what, and
the event id and sequence number it travels under. Pure: standard library and protocol.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, cast

from protocol.errors import ErrorCode
from protocol.v1 import events
from protocol.v1.messages import EventType
from services.desk.domain import lifecycle, workflow
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Party, State, Transition

UNNUMBERED = frozenset({Transition.SUBMIT, Transition.MARK_SENT, Transition.BOUNCE})
"""Changes the requester's desk makes before delivery; all others are decided and numbered."""


@dataclass(frozen=True)
class Step:
    """One change of a request, as recorded on its timeline and sent to the other desks."""

    transition: Transition
    bureau: str
    """The bureau on whose behalf the change is made."""
    actor: str
    at: dt.datetime
    change: events.Change | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    seq: int | None = None

    @property
    def event_type(self) -> EventType:
        return cast(EventType, lifecycle.EVENT_OF[self.transition])


@dataclass(frozen=True)
class Marks:
    """What a request's timeline holds since its last transfer that the hub's figures
    need on an ending event: an overdue reminder, an agreed due date."""

    overdue: bool = False
    due_date_agreed: bool = False


NO_MARKS = Marks()
ENDING = frozenset({"replied", "rejected", "withdrawn", "transferred"})
"""Events after which a request no longer runs at its recipient (no longer overdue there)."""


@dataclass(frozen=True)
class Request:
    id: uuid.UUID
    requester: str
    recipient: str
    kind: str
    content: dict[str, Any]
    state: State
    due_date: dt.date
    correlation_id: str
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    last_seq: int = 0
    due_provisional: bool = False
    pending_due_date: dt.date | None = None
    clock_stopped_on: dt.date | None = None
    transferred_from: tuple[str, ...] = ()
    reply: dict[str, Any] | None = None
    rating: int | None = None
    reminders: int = 0
    last_reminded_at: dt.datetime | None = None
    escalated_at: dt.datetime | None = None
    group_id: uuid.UUID | None = None
    content_sha256: bytes | None = None

    def party_of(self, bureau: str) -> Party | None:
        """The side ``bureau`` is on: requester, (current) recipient, or none."""
        if bureau == self.requester:
            return Party.REQUESTER
        if bureau == self.recipient:
            return Party.RECIPIENT
        return None

    def can_see(self, bureau: str) -> bool:
        """Parties, and bureaus that held the request before a transfer (read only)."""
        return self.party_of(bureau) is not None or bureau in self.transferred_from

    def as_handed_over(self) -> Request:
        """The request as a former recipient may see it: what it held when it transferred
        the request away, never what followed (state, reply, rating, due-date talks)."""
        return replace(self, state=State.TRANSFERRED, reply=None, rating=None,
                       pending_due_date=None, escalated_at=None)

    def require_party(self, bureau: str, party: Party, doing: str) -> None:
        """Refused unless ``bureau`` is the ``party`` of this request."""
        if self.party_of(bureau) is not party:
            raise Refused(ErrorCode.FORBIDDEN, f"only the {party} bureau may {doing}")

    def counterpart(self, bureau: str) -> str:
        """The other party of the request, seen from ``bureau``."""
        return self.recipient if bureau == self.requester else self.requester

    def deciding_bureau(self, change: events.Change | None) -> str:
        """The bureau whose desk decides ``change`` and reports it: the recipient, except
        for a returned hand-over, which the bureau that transferred the request reports
        (no desk serves the recipient it named)."""
        if isinstance(change, events.TransferReturned) and self.transferred_from:
            return self.transferred_from[-1]
        return self.recipient

    def decide(self, step: Step) -> Request:
        """The request after ``step`` by this desk's rules; Refused if not allowed."""
        try:
            after = replace(self, state=lifecycle.apply(self.state, step.transition))
        except lifecycle.IllegalTransition as exc:
            raise Refused(ErrorCode.ILLEGAL_TRANSITION, str(exc)) from None
        return _effects(self, after, step.change, workflow.china_date(step.at), strict=True)

    def absorb(self, step: Step, state: State, due_date: dt.date) -> Request:
        """The request after a change the deciding desk reports with its outcome.

        The deciding desk's word on state and due date stands (it may run newer rules
        than this desk, which must not park every later event of the request); what the
        change itself carries (a reply, a new recipient, a rating) is taken from it.
        """
        after = replace(self, state=state)
        after = _effects(self, after, step.change, workflow.china_date(step.at), strict=False)
        return replace(after, due_date=due_date)


def _effects(
    before: Request, after: Request, change: events.Change | None, today: dt.date,
    *, strict: bool,
) -> Request:
    """What ``change`` does beyond the state; ``strict`` checks the rules that decide it."""
    match change:
        case events.Accepted(proposed_due_date=proposed) if proposed is not None:
            if strict and proposed <= today:
                raise Refused(ErrorCode.VALIDATION_FAILED, "a proposed due date must be later")
            return replace(after, pending_due_date=proposed)
        case events.InfoRequested():
            return replace(after, clock_stopped_on=today)
        case events.InfoProvided():
            stopped = before.clock_stopped_on or today
            due = workflow.extend_for_stop(before.due_date, stopped, today)
            return replace(after, due_date=due, clock_stopped_on=None)
        case events.Transferred(to=to):
            if strict and (to == before.recipient or to in before.transferred_from):
                raise Refused(ErrorCode.VALIDATION_FAILED,
                              "transfer to a bureau that had it already")
            return replace(after, recipient=to, pending_due_date=None,
                           due_date=workflow.due_after_transfer(before.due_date, today),
                           transferred_from=(*before.transferred_from, before.recipient))
        case events.TransferReturned(to=to):
            if strict and before.transferred_from[-1:] != (to,):
                raise Refused(ErrorCode.VALIDATION_FAILED,
                              "a hand-over returns only to the bureau that transferred it")
            return replace(after, recipient=to, transferred_from=before.transferred_from[:-1])
        case events.PartiallyReplied(reply=reply) | events.Replied(reply=reply):
            return replace(after, reply=reply.model_dump(mode="json"))
        case events.Closed(rating=rating):
            return replace(after, rating=rating)
        case events.DueDateAgreed() | events.DueDateRefused():
            if before.pending_due_date is None:
                if strict:
                    raise Refused(ErrorCode.ILLEGAL_TRANSITION, "no due date was proposed")
                return after
            agreed = isinstance(change, events.DueDateAgreed)
            due = before.pending_due_date if agreed else before.due_date
            return replace(after, due_date=due, pending_due_date=None)
    return after
