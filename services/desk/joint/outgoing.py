"""Builders of the joint-case messages a desk sends; pure functions of a case and a step."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from protocol.v1 import joint as j
from protocol.v1.files import CHUNK_BYTES, encode_chunk
from protocol.v1.messages import (
    JointCommand,
    JointCommandRefused,
    JointEvent,
    JointFileChunk,
    JointRecorded,
)
from services.desk.domain.joint import Case, Step


def event(case: Case, step: Step, to: str, cid: str) -> JointEvent:
    """A decided change and the case after it, for participant ``to``'s desk."""
    body = step.body(case.id) | {"case": _for(case, to)}
    return JointEvent(correlation_id=cid, sender=case.lead, recipient=to, body=body)


def _for(case: Case, to: str) -> j.CaseSnapshot:
    """The case as ``to`` may see it: without the closing summary unless it works the case."""
    snap = case.snapshot()
    if case.shows(to, "closing_proposed"):
        return snap
    return snap.model_copy(update={"summary": None, "confirmed": ()})


def replayed(case: Case, entry: dict[str, object], to: str, cid: str) -> JointEvent:
    """An earlier timeline entry for a newly accepted member, with the case as it is now
    (a desk keeps the copy of the highest seq, so the older number does no harm)."""
    body = {**entry, "case_id": case.id, "case": case.snapshot()}
    return JointEvent(correlation_id=cid, sender=case.lead, recipient=to, body=body)


def command(case: Case, step: Step, cid: str) -> JointCommand:
    """A participant's change, for the lead's desk to decide."""
    return JointCommand(
        correlation_id=cid, sender=step.bureau, recipient=case.lead,
        body={"case_id": case.id, "command_id": step.event_id, "issued_at": step.at,
              "actor": step.actor, "change": step.change},
    )


def command_refused(case: Case, asked: JointCommand, code: str, reason: str,
                    at: dt.datetime) -> JointCommandRefused:
    """Why the lead's desk did not make an asked-for change, for the asking desk."""
    return refusal(case, asked.sender, asked.body.command_id, asked.body.change.event,
                   code, reason, at, asked.correlation_id)


def refusal(case: Case, to: str, command_id: uuid.UUID, event: str, code: str, reason: str,
            at: dt.datetime, cid: str) -> JointCommandRefused:
    """A change ``to`` asked for (a command, or sharing a file: its id) was not made."""
    return JointCommandRefused(
        correlation_id=cid, sender=case.lead, recipient=to,
        body={"case_id": case.id, "command_id": command_id, "event": event, "code": code,
              "reason": reason, "refused_at": at},
    )


def file_chunks(case_id: uuid.UUID, meta: j.SharedFile, data: bytes, sender: str,
                to: str, cid: str) -> list[JointFileChunk]:
    """The file in ``CHUNK_BYTES`` pieces for ``to``'s desk, each with the metadata."""
    view = memoryview(data)
    return [
        JointFileChunk(correlation_id=cid, sender=sender, recipient=to, body={
            "case_id": case_id, "file": meta, "idx": i,
            "data": encode_chunk(view[start:start + CHUNK_BYTES])})
        for i, start in enumerate(range(0, len(data), CHUNK_BYTES))
    ]


def recorded(case: Case, step: Step, counts: Sequence[tuple[j.JointMetric, str, int]],
             cid: str) -> list[JointRecorded]:
    """What the hub counts for ``step``; ids derived from the step's, so they are stable."""
    return [
        JointRecorded(correlation_id=cid, sender=case.lead, recipient="hub", body={
            "event_id": uuid.uuid5(step.event_id, f"{metric}:{bureau}"), "case_id": case.id,
            "metric": metric, "bureau": bureau, "occurred_at": step.at, "count": n})
        for metric, bureau, n in counts
    ]
