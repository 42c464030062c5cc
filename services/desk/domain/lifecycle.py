"""The life cycle of an assistance request as a pure state machine.

Every legal step is a named ``Transition`` in ``TABLE``; anything else raises
``IllegalTransition``. Each transition names the party allowed to take it, so the
use cases can refuse a requester who tries to reply, and so on. Some steps leave
the state as it is (a reminder, an escalation, a due-date answer) but are still
checked here: a closed request cannot be chased.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    CREATED = "created"
    """Stored at the requester's desk; its message is waiting in the outbox."""
    SENT = "sent"
    """The broker confirmed the message."""
    DELIVERED = "delivered"
    """In the recipient bureau's inbox."""
    ACCEPTED = "accepted"
    """An investigator of the recipient took it on."""
    INFO_REQUESTED = "info_requested"
    """The recipient waits for more information; the deadline clock is stopped."""
    PARTIALLY_REPLIED = "partially_replied"
    """Part of the answer is in; more will follow."""
    REPLIED = "replied"
    """Answered: a completed check."""
    CLOSED = "closed"
    """The requester closed the answered request, with a rating."""
    REJECTED = "rejected"
    TRANSFERRED = "transferred"
    """Handed to a more competent bureau; delivered there next."""
    WITHDRAWN = "withdrawn"
    UNDELIVERABLE = "undeliverable"
    """No desk hosts the recipient; the message came back."""


class Party(StrEnum):
    REQUESTER = "requester"
    RECIPIENT = "recipient"
    SYSTEM = "system"


class Transition(StrEnum):
    SUBMIT = "submit"
    MARK_SENT = "mark_sent"
    DELIVER = "deliver"
    BOUNCE = "bounce"
    RETURN = "return"
    """A hand-over no desk took comes back to the bureau that transferred it."""
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    PROVIDE_INFO = "provide_info"
    TRANSFER = "transfer"
    PARTIAL_REPLY = "partial_reply"
    REPLY = "reply"
    WITHDRAW = "withdraw"
    CLOSE = "close"
    AGREE_DUE_DATE = "agree_due_date"
    REFUSE_DUE_DATE = "refuse_due_date"
    REMIND = "remind"
    ESCALATE = "escalate"


S, T = State, Transition

OPEN = frozenset({S.DELIVERED, S.ACCEPTED, S.INFO_REQUESTED, S.PARTIALLY_REPLIED})
"""Delivered and not yet finally answered, rejected, transferred or withdrawn."""
RUNNING = frozenset({S.DELIVERED, S.ACCEPTED, S.PARTIALLY_REPLIED})
"""Open with the deadline clock running (it stops while information is awaited)."""
TERMINAL = frozenset({S.CLOSED, S.REJECTED, S.WITHDRAWN, S.UNDELIVERABLE})
ANSWERED = frozenset({S.REPLIED, S.CLOSED})
"""Finally answered: a completed check."""
ENDED = TERMINAL - ANSWERED
"""Ended without an answer."""

TABLE: dict[tuple[State | None, Transition], State] = {
    (None, T.SUBMIT): S.CREATED,
    (S.CREATED, T.MARK_SENT): S.SENT,
    # The recipient's desk may take the message before the relay has recorded
    # the broker's confirm, so delivery is legal straight from CREATED.
    (S.CREATED, T.DELIVER): S.DELIVERED,
    (S.SENT, T.DELIVER): S.DELIVERED,
    (S.TRANSFERRED, T.DELIVER): S.DELIVERED,
    (S.CREATED, T.BOUNCE): S.UNDELIVERABLE,
    (S.SENT, T.BOUNCE): S.UNDELIVERABLE,
    # no desk serves the new recipient: back in the inbox of the bureau that transferred it
    (S.TRANSFERRED, T.RETURN): S.DELIVERED,
    (S.DELIVERED, T.ACCEPT): S.ACCEPTED,
    (S.DELIVERED, T.REJECT): S.REJECTED,
    (S.ACCEPTED, T.REJECT): S.REJECTED,
    # Asking for information is taking the request on: it returns as ACCEPTED.
    (S.DELIVERED, T.REQUEST_INFO): S.INFO_REQUESTED,
    (S.ACCEPTED, T.REQUEST_INFO): S.INFO_REQUESTED,
    (S.INFO_REQUESTED, T.PROVIDE_INFO): S.ACCEPTED,
    (S.DELIVERED, T.TRANSFER): S.TRANSFERRED,
    (S.ACCEPTED, T.TRANSFER): S.TRANSFERRED,
    (S.ACCEPTED, T.PARTIAL_REPLY): S.PARTIALLY_REPLIED,
    (S.PARTIALLY_REPLIED, T.PARTIAL_REPLY): S.PARTIALLY_REPLIED,
    (S.ACCEPTED, T.REPLY): S.REPLIED,
    (S.PARTIALLY_REPLIED, T.REPLY): S.REPLIED,
    (S.REPLIED, T.CLOSE): S.CLOSED,
    **{(s, T.WITHDRAW): S.WITHDRAWN for s in OPEN},
    **{(s, T.AGREE_DUE_DATE): s for s in OPEN},
    **{(s, T.REFUSE_DUE_DATE): s for s in OPEN},
    **{(s, T.REMIND): s for s in RUNNING},
    **{(s, T.ESCALATE): s for s in RUNNING},
}

ACTOR: dict[Transition, Party] = {
    T.SUBMIT: Party.REQUESTER,
    T.MARK_SENT: Party.SYSTEM,
    T.DELIVER: Party.SYSTEM,
    T.BOUNCE: Party.SYSTEM,
    T.RETURN: Party.SYSTEM,
    T.ACCEPT: Party.RECIPIENT,
    T.REJECT: Party.RECIPIENT,
    T.REQUEST_INFO: Party.RECIPIENT,
    T.PROVIDE_INFO: Party.REQUESTER,
    T.TRANSFER: Party.RECIPIENT,
    T.PARTIAL_REPLY: Party.RECIPIENT,
    T.REPLY: Party.RECIPIENT,
    T.WITHDRAW: Party.REQUESTER,
    T.CLOSE: Party.REQUESTER,
    T.AGREE_DUE_DATE: Party.REQUESTER,
    T.REFUSE_DUE_DATE: Party.REQUESTER,
    T.REMIND: Party.REQUESTER,
    T.ESCALATE: Party.SYSTEM,
}

EVENT_OF: dict[Transition, str] = {
    T.SUBMIT: "created",
    T.MARK_SENT: "sent",
    T.DELIVER: "delivered",
    T.BOUNCE: "undeliverable",
    T.RETURN: "transfer_returned",
    T.ACCEPT: "accepted",
    T.REJECT: "rejected",
    T.REQUEST_INFO: "info_requested",
    T.PROVIDE_INFO: "info_provided",
    T.TRANSFER: "transferred",
    T.PARTIAL_REPLY: "partially_replied",
    T.REPLY: "replied",
    T.WITHDRAW: "withdrawn",
    T.CLOSE: "closed",
    T.AGREE_DUE_DATE: "due_date_agreed",
    T.REFUSE_DUE_DATE: "due_date_refused",
    T.REMIND: "reminded",
    T.ESCALATE: "escalated",
}
"""The past-tense event each transition records on the timeline."""

TRANSITION_OF = {event: t for t, event in EVENT_OF.items()}


class IllegalTransition(Exception):
    def __init__(self, state: State | None, transition: Transition) -> None:
        self.state, self.transition = state, transition
        allowed = ", ".join(sorted(allowed_from(state))) or "none"
        super().__init__(
            f"cannot {transition.value} a request that is {state or 'new'}; allowed: {allowed}"
        )


def allowed_from(state: State | None) -> set[Transition]:
    return {t for (s, t) in TABLE if s == state}


def apply(state: State | None, transition: Transition) -> State:
    """The state after ``transition``, or IllegalTransition."""
    try:
        return TABLE[(state, transition)]
    except KeyError:
        raise IllegalTransition(state, transition) from None
