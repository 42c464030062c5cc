"""Recording 'sent' once the broker has confirmed a request's message."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

import asyncpg

from protocol.v1.messages import RequestSubmitted
from services.common import outbox
from services.desk import outgoing, recording
from services.desk.domain.lifecycle import State, Transition
from services.desk.recording import Step
from services.desk.store import requests


async def record_sent(
    conn: asyncpg.Connection, rows: Sequence[asyncpg.Record], published_at: dt.datetime
) -> None:
    """Relay hook: put 'sent' on the timeline of every request whose message was confirmed."""
    for row in rows:
        if row["message_type"] != RequestSubmitted.model_fields["type"].default:
            continue
        if json.loads(row["payload"])["body"].get("transferred_from"):
            continue  # a hand-over, not the requester's sending
        request_id = uuid.UUID(json.loads(row["payload"])["body"]["request_id"])
        req = await requests.get(conn, request_id, lock=True)
        if req is None:
            continue
        step = Step(Transition.MARK_SENT, req["requester"], "xiecha", published_at)
        if State(req["state"]) is State.CREATED:
            await recording.originate(conn, req, step)
            continue
        # Delivery was recorded first (a fast recipient): keep the state, log the fact.
        await requests.add_event(conn, event_id=step.event_id, request_id=request_id,
                                 seq=None, type="sent", bureau=step.bureau,
                                 actor=step.actor, at=published_at)
        await outbox.enqueue(conn, outgoing.recorded(req, step, requests.snapshot_of(req)))
