"""Builders of the bulk messages a desk sends; pure functions of a request."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from protocol.v1.bulk import BATCH_SIZE, AnyItem, BulkAnswersBody, BulkItemsBody, ItemAnswer
from protocol.v1.messages import BulkAnswers, BulkItems, RequestEventRecorded
from services.desk.domain.request import Request


def item_batches(req: Request, first_idx: int, items: Sequence[AnyItem]) -> list[BulkItems]:
    """Items numbered from ``first_idx``, for the recipient's desk, at most BATCH_SIZE each."""
    return [
        BulkItems(
            correlation_id=req.correlation_id, sender=req.requester,
            recipient=req.recipient,
            body=BulkItemsBody(request_id=req.id, batch_id=uuid.uuid4(),
                               first_idx=first_idx + start,
                               items=tuple(items[start:start + BATCH_SIZE])),
        )
        for start in range(0, len(items), BATCH_SIZE)
    ]


def answer_batches(
    req: Request, answers: Sequence[ItemAnswer], at: dt.datetime, by: str
) -> list[BulkAnswers]:
    """Newly given answers, for the requester's desk, at most BATCH_SIZE each."""
    return [
        BulkAnswers(
            correlation_id=req.correlation_id, sender=req.recipient,
            recipient=req.requester,
            body=BulkAnswersBody(request_id=req.id, batch_id=uuid.uuid4(), answered_at=at,
                                 answered_by=by,
                                 answers=tuple(answers[start:start + BATCH_SIZE])),
        )
        for start in range(0, len(answers), BATCH_SIZE)
    ]


def items_answered(req: Request, count: int, at: dt.datetime) -> RequestEventRecorded:
    """For the hub: ``count`` items newly answered, each one completed check."""
    return RequestEventRecorded(
        correlation_id=req.correlation_id, sender=req.recipient, recipient="hub",
        body={"event_id": uuid.uuid4(), "request_id": req.id, "event_type": "item_answered",
              "requester": req.requester, "recipient": req.recipient,
              "occurred_at": at, "count": count, "kind": req.content.get("kind")},
    )
