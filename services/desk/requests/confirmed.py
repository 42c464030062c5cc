"""Recording 'sent' once the broker has confirmed a request's message (an outbox hook)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from protocol.v1.messages import RequestSubmitted
from services.common import outbox
from services.desk.domain.lifecycle import State, Transition
from services.desk.domain.request import Step
from services.desk.requests import apply, outgoing
from services.desk.signing import Signer
from services.desk.store import requests

SUBMITTED = RequestSubmitted.model_fields["type"].default


async def record_sent(
    signer: Signer, conn: asyncpg.Connection, rows: Sequence[asyncpg.Record],
    published_at: dt.datetime,
) -> None:
    """Relay hook (with ``signer`` bound): put 'sent' on the timeline of every request whose
    message was confirmed."""
    for row in rows:
        if row["message_type"] != SUBMITTED or row["request_id"] is None:
            continue
        req = await requests.get(conn, row["request_id"], lock=True)
        if req is None or row["sender"] not in (None, req.requester):  # None: an old row
            continue  # a hand-over by a former recipient, not the requester's sending
        step = Step(Transition.MARK_SENT, req.requester, "xiecha", published_at)
        if req.state is State.CREATED:
            await apply.originate(conn, signer, req, step)
            continue
        # Delivery was recorded first (a fast recipient): keep the state, log the fact.
        await requests.add_event(conn, signer, event_id=step.event_id, request_id=req.id,
                                 seq=None, type=step.event_type, bureau=step.bureau,
                                 actor=step.actor, at=published_at)
        await outbox.enqueue(conn, outgoing.recorded(req, step, req))
