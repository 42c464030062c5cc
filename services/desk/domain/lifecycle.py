"""The life cycle of an assistance request as a pure state machine.

Every legal step is a named ``Transition`` in ``TABLE``; anything else raises
``IllegalTransition``. Each transition also names the party allowed to take it,
so the service layer can refuse a requester who tries to reply, and so on.
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
    REPLIED = "replied"
    """Answered: a completed check."""
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
    ACCEPT = "accept"
    REPLY = "reply"
    BOUNCE = "bounce"


S, T = State, Transition

TABLE: dict[tuple[State | None, Transition], State] = {
    (None, T.SUBMIT): S.CREATED,
    (S.CREATED, T.MARK_SENT): S.SENT,
    # The recipient's desk may take the message before the relay has recorded
    # the broker's confirm, so delivery is legal straight from CREATED.
    (S.CREATED, T.DELIVER): S.DELIVERED,
    (S.SENT, T.DELIVER): S.DELIVERED,
    (S.DELIVERED, T.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, T.REPLY): S.REPLIED,
    (S.CREATED, T.BOUNCE): S.UNDELIVERABLE,
    (S.SENT, T.BOUNCE): S.UNDELIVERABLE,
}

ACTOR: dict[Transition, Party] = {
    T.SUBMIT: Party.REQUESTER,
    T.MARK_SENT: Party.SYSTEM,
    T.DELIVER: Party.SYSTEM,
    T.ACCEPT: Party.RECIPIENT,
    T.REPLY: Party.RECIPIENT,
    T.BOUNCE: Party.SYSTEM,
}

EVENT_OF: dict[Transition, str] = {
    T.SUBMIT: "created",
    T.MARK_SENT: "sent",
    T.DELIVER: "delivered",
    T.ACCEPT: "accepted",
    T.REPLY: "replied",
    T.BOUNCE: "undeliverable",
}
"""The past-tense event each transition records on the timeline."""

TERMINAL = frozenset({S.REPLIED, S.UNDELIVERABLE})


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
