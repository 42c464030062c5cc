"""Recording a change of a request: state machine, timeline, and the messages it causes.

All of it happens in the caller's transaction, so the state, the timeline entry and
the outbox messages commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1.messages import EventType
from services.common import outbox
from services.desk import outgoing
from services.desk.domain import lifecycle
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Party, State, Transition
from services.desk.store import requests


@dataclass(frozen=True)
class Change:
    transition: Transition
    bureau: str
    """The bureau on whose behalf the change is made."""
    actor: str
    at: dt.datetime
    seq: int | None = None
    """Recipient-side changes are numbered 1, 2, ... per request."""
    data: dict[str, Any] | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def event_type(self) -> EventType:
        return cast(EventType, lifecycle.EVENT_OF[self.transition])


def is_recipient_side(transition: Transition) -> bool:
    return transition in (Transition.DELIVER, Transition.ACCEPT, Transition.REPLY)


async def apply(conn: asyncpg.Connection, req: asyncpg.Record, change: Change) -> State:
    """Move ``req`` through ``change`` and put it on the timeline (Refused if illegal)."""
    try:
        new = lifecycle.apply(State(req["state"]), change.transition)
    except lifecycle.IllegalTransition as exc:
        raise Refused(ErrorCode.ILLEGAL_TRANSITION, str(exc)) from None
    reply = change.data if change.transition is Transition.REPLY else None
    await requests.set_state(conn, req["id"], new, change.at, last_seq=change.seq, reply=reply)
    await requests.add_event(
        conn, event_id=change.event_id, request_id=req["id"], seq=change.seq,
        type=change.event_type, bureau=change.bureau, actor=change.actor, at=change.at,
        data=change.data,
    )
    return new


async def originate(conn: asyncpg.Connection, req: asyncpg.Record, change: Change) -> State:
    """Apply a change made at this desk and tell the hub (and the requester, if remote)."""
    new = await apply(conn, req, change)
    await outbox.enqueue(
        conn, outgoing.recorded(req, change.event_type, change.event_id, change.at, change.bureau)
    )
    if is_recipient_side(change.transition):
        facts = {
            "request_id": req["id"], "event_id": change.event_id, "seq": change.seq,
            "occurred_at": change.at, "actor": change.actor,
        }
        if change.transition is Transition.REPLY:
            facts["reply"] = change.data
        message = outgoing.to_requester(req, change.event_type, facts)
        if message is not None:
            await outbox.enqueue(conn, message)
    return new


def party_of(req: asyncpg.Record, bureau: str) -> Party | None:
    if bureau == req["requester"]:
        return Party.REQUESTER
    if bureau == req["recipient"]:
        return Party.RECIPIENT
    return None
