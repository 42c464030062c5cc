"""Builders of the protocol messages of the request feature; pure functions of a request."""

from __future__ import annotations

import uuid
from typing import Any

from protocol.v1 import (
    RequestCommand,
    RequestCommandRefused,
    RequestEvent,
    RequestEventRecorded,
    RequestSubmitted,
    events,
)
from services.desk.domain.request import ENDING, NO_MARKS, Marks, Request, Step
from services.desk.domain.workflow import china_date


def submitted(req: Request, event_id: uuid.UUID) -> RequestSubmitted:
    """The new request, for the recipient's desk."""
    return RequestSubmitted(
        correlation_id=req.correlation_id, sender=req.requester,
        recipient=req.recipient, body=_submission(req, event_id, req.recipient),
    )


def handed_on(req: Request, step: Step, after: Request) -> RequestSubmitted:
    """The transferred request, for the new recipient's desk; its events continue."""
    body = _submission(req, step.event_id, after.recipient) | {
        "due_date": after.due_date, "transferred_from": req.recipient, "seq": step.seq,
    }
    return RequestSubmitted(correlation_id=req.correlation_id, sender=req.recipient,
                            recipient=after.recipient, body=body)


def _submission(req: Request, event_id: uuid.UUID, recipient: str) -> dict[str, Any]:
    return {
        "request_id": req.id, "event_id": event_id, "requester": req.requester,
        "recipient": recipient, "created_at": req.created_at,
        "created_by": req.created_by, "content": req.content,
        "due_date": req.due_date, "group_id": req.group_id,
    }


def recorded(req: Request, step: Step, after: Request,
             marks: Marks = NO_MARKS) -> RequestEventRecorded:
    """The hub's copy of an event, so it can count it exactly once. It comes from a bureau
    of the desk that records it (the broker lets a desk speak only for its own bureaus):
    a numbered change from the deciding desk's recipient, others from their own bureau.
    ``marks`` (read from the timeline for an ending event) tell the hub whether the
    request stops counting as overdue and whether its due date was agreed."""
    body: dict[str, Any] = {
        "event_id": step.event_id, "request_id": req.id, "event_type": step.event_type,
        # the recipient when the step was taken: a transfer is the transferring bureau's,
        # and so is a returned hand-over (the bureau it named was never a recipient)
        "requester": req.requester, "recipient": req.deciding_bureau(step.change),
        "occurred_at": step.at, "kind": req.content.get("kind"),
    }
    days = max(0, (china_date(step.at) - china_date(req.created_at)).days)
    match step.event_type, step.change:
        case "replied", _:
            body |= {"on_time": china_date(step.at) <= after.due_date,
                     "turnaround_days": days, "due_date_agreed": marks.due_date_agreed}
        case "accepted", _:
            body["turnaround_days"] = days
        case "closed", events.Closed(rating=rating):
            body["rating"] = rating
        case "reminded", events.Reminded(rule=events.ReminderRule.OVERDUE):
            body["overdue"] = True
    if step.event_type in ENDING and marks.overdue:
        body["overdue"] = True
    sender = req.deciding_bureau(step.change) if step.seq is not None else step.bureau
    return RequestEventRecorded(correlation_id=req.correlation_id, sender=sender,
                                recipient="hub", body=body)


def event(req: Request, step: Step, after: Request) -> RequestEvent:
    """A decided change and its outcome, for the requester's desk."""
    return RequestEvent(
        correlation_id=req.correlation_id, sender=req.deciding_bureau(step.change),
        recipient=req.requester,
        body={
            "request_id": req.id, "event_id": step.event_id, "seq": step.seq,
            "occurred_at": step.at, "bureau": step.bureau, "actor": step.actor,
            "state": after.state, "due_date": after.due_date,
            "change": step.change or {"event": step.event_type},
        },
    )


def command(req: Request, step: Step) -> RequestCommand:
    """A requester's change, for the deciding desk."""
    return RequestCommand(
        correlation_id=req.correlation_id, sender=req.requester,
        recipient=req.recipient,
        body={"request_id": req.id, "command_id": step.event_id, "issued_at": step.at,
              "actor": step.actor, "change": step.change},
    )


def command_refused(req: Request, command_id: uuid.UUID, event: str,
                    reason: str) -> RequestCommandRefused:
    return RequestCommandRefused(
        correlation_id=req.correlation_id, sender=req.recipient,
        recipient=req.requester,
        body={"request_id": req.id, "command_id": command_id, "event": event,
              "reason": reason},
    )
