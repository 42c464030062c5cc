"""Applying a change of a request: its outcome, its timeline entry, the messages it causes.

All of it happens in the caller's transaction, so the state, the timeline entry and
the outbox messages commit together or not at all. After delivery, one desk decides
every change of a request: the desk hosting its recipient (``originate``). It numbers
each decided change and sends it to the requester's desk, which takes the outcome it
reports (``absorb``) in that order.
"""

from __future__ import annotations

import dataclasses

import asyncpg

from protocol.v1 import Message, events
from services.common import outbox
from services.desk.domain.lifecycle import Transition
from services.desk.domain.request import ENDING, NO_MARKS, UNNUMBERED, Request, Step
from services.desk.domain.seal import Sealer
from services.desk.requests import outgoing
from services.desk.signing import Signer
from services.desk.store import requests


async def record(conn: asyncpg.Connection, seal: Sealer, before: Request, after: Request,
                 step: Step) -> None:
    """Store ``after`` (the request once ``step`` is made) and the step's timeline entry,
    sealed by ``seal``."""
    if step.seq is not None:
        after = dataclasses.replace(after, last_seq=step.seq)
    await requests.save(conn, after, step.at, reminded=step.transition is Transition.REMIND,
                        escalated=step.transition is Transition.ESCALATE)
    data = step.change.model_dump(mode="json", exclude={"event"}) if step.change else None
    if after.due_date != before.due_date:  # a clock stop, an agreed date, a transfer
        data = (data or {}) | {"due_date": {"from": before.due_date.isoformat(),
                                            "to": after.due_date.isoformat()}}
    await requests.add_event(
        conn, seal, event_id=step.event_id, request_id=before.id, seq=step.seq,
        type=step.event_type, bureau=step.bureau, actor=step.actor, at=step.at, data=data,
    )


async def originate(conn: asyncpg.Connection, signer: Signer, req: Request,
                    step: Step) -> Request:
    """Decide ``step`` here, record it signed by ``signer``, and tell the hub and the
    requester's desk (a numbered change carries the signature of its message's body)."""
    if step.transition not in UNNUMBERED and step.seq is None:
        step = dataclasses.replace(step, seq=req.last_seq + 1)
    after = req.decide(step)
    # read before this step joins the timeline (a transfer would hide its own past)
    marks = (await requests.marks_since_transfer(conn, req.id)
             if step.event_type in ENDING else NO_MARKS)
    seal: Sealer = signer
    if step.seq is not None:
        message, seal = signer.message(outgoing.event(req, step, after))
    await record(conn, seal, req, after, step)
    if step.transition is Transition.ESCALATE:  # into the recipient region's queue, here
        await requests.escalate(conn, req.id, after.recipient[:2], step.at)
    messages: list[Message] = [outgoing.recorded(req, step, after, marks)]
    if step.seq is not None:
        messages.append(message)
    if isinstance(step.change, events.Transferred):
        messages.append(signer.message(outgoing.handed_on(req, step, after))[0])
    await outbox.enqueue(conn, *messages)
    return after
