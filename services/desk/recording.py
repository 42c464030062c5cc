"""Recording a change of a request: decision, timeline, and the messages it causes.

All of it happens in the caller's transaction, so the state, the timeline entry and
the outbox messages commit together or not at all. After delivery, one desk decides
every change of a request: the desk hosting its recipient. It numbers each decided
change and sends it to the requester's desk, which applies them in that order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import cast

import asyncpg

from protocol.v1 import events
from protocol.v1.messages import EventType
from services.common import outbox
from services.desk import outgoing
from services.desk.domain import lifecycle, workflow
from services.desk.domain.lifecycle import Party, Transition
from services.desk.domain.workflow import Snapshot, china_date
from services.desk.store import requests

UNNUMBERED = frozenset({Transition.SUBMIT, Transition.MARK_SENT, Transition.BOUNCE})
"""Changes the requester's desk makes before delivery; all others are decided and numbered."""


@dataclass(frozen=True)
class Step:
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


async def apply(
    conn: asyncpg.Connection, req: asyncpg.Record, step: Step, *, due: dt.date | None = None
) -> Snapshot:
    """Decide ``step`` on ``req``, store the outcome and the timeline entry.

    ``due`` is the deciding desk's due date, which a copy takes as it is.
    """
    after = workflow.decide(requests.snapshot_of(req), step.transition, step.change,
                            china_date(step.at))
    if due is not None:
        after = replace(after, due_date=due)
    await requests.save(conn, req["id"], after, step.at, last_seq=step.seq,
                        reminded=step.transition is Transition.REMIND,
                        escalated=step.transition is Transition.ESCALATE)
    data = step.change.model_dump(mode="json", exclude={"event"}) if step.change else None
    if after.due_date != req["due_date"]:  # a clock stop, an agreed date, a transfer
        data = (data or {}) | {"due_date": {"from": req["due_date"].isoformat(),
                                            "to": after.due_date.isoformat()}}
    await requests.add_event(
        conn, event_id=step.event_id, request_id=req["id"], seq=step.seq,
        type=step.event_type, bureau=step.bureau, actor=step.actor, at=step.at, data=data,
    )
    return after


async def originate(conn: asyncpg.Connection, req: asyncpg.Record, step: Step) -> Snapshot:
    """Apply a change decided at this desk and tell the hub and the requester's desk."""
    if step.transition not in UNNUMBERED and step.seq is None:
        step = replace(step, seq=req["last_seq"] + 1)
    after = await apply(conn, req, step)
    if step.transition is Transition.ESCALATE:  # into the recipient region's queue, here
        await requests.escalate(conn, req["id"], after.recipient[:2], step.at)
    await outbox.enqueue(conn, outgoing.recorded(req, step, after))
    if step.seq is not None:
        await outbox.enqueue(conn, outgoing.event(req, step, after))
    if isinstance(step.change, events.Transferred):
        await outbox.enqueue(conn, outgoing.handed_on(req, step, after))
    return after


def party_of(req: asyncpg.Record, bureau: str) -> Party | None:
    if bureau == req["requester"]:
        return Party.REQUESTER
    if bureau == req["recipient"]:
        return Party.RECIPIENT
    return None


def can_see(req: asyncpg.Record, bureau: str) -> bool:
    """Parties, and bureaus that held the request before a transfer (read only)."""
    return party_of(req, bureau) is not None or bureau in req["transferred_from"]
