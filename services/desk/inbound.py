"""What a desk does with each message it consumes (one transaction per message).

Requests arrive as ``request.submitted`` and are delivered into the recipient's
inbox. Recipient-side events come back numbered per request; one that arrives
ahead of its predecessor is parked and applied when the gap closes, so every
copy of a request goes through the same states in the same order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from protocol.errors import ErrorCode
from protocol.v1 import (
    AnyMessage,
    RegistryPublished,
    RequestAccepted,
    RequestDelivered,
    RequestReplied,
    RequestSubmitted,
    RequestUndeliverable,
    parse_message,
)
from services.common.consumer import MessageRefused
from services.desk import recording
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import State, Transition
from services.desk.recording import Change
from services.desk.store import registry as registry_store
from services.desk.store import requests

log = structlog.get_logger()

RecipientEvent = RequestDelivered | RequestAccepted | RequestReplied
_TRANSITION = {
    "request.delivered": Transition.DELIVER,
    "request.accepted": Transition.ACCEPT,
    "request.replied": Transition.REPLY,
}


class Inbound:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock

    async def __call__(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        try:
            await self._dispatch(conn, message)
        except Refused as exc:
            raise MessageRefused(exc.code, exc.message) from None

    async def _dispatch(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        match message:
            case RequestSubmitted():
                await self.on_submitted(conn, message)
            case RequestDelivered() | RequestAccepted() | RequestReplied():
                await self.on_recipient_event(conn, message, message.model_dump_json().encode())
            case RequestUndeliverable():
                await self.on_undeliverable(conn, message)
            case RegistryPublished():
                await registry_store.replace(
                    conn, message.body.version, message.body.bureaus, self.clock()
                )
            case _:
                raise MessageRefused(ErrorCode.UNKNOWN_MESSAGE_TYPE,
                                     f"a desk does not take {message.type} messages")

    async def on_submitted(self, conn: asyncpg.Connection, msg: RequestSubmitted) -> None:
        b = msg.body
        if msg.sender != b.requester or msg.recipient != b.recipient:
            raise Refused(ErrorCode.HANDLER_REFUSED, "envelope and body disagree on the parties")
        inserted = await requests.insert(conn, requests.NewRequest(
            id=b.request_id, requester=b.requester, recipient=b.recipient, kind=b.content.kind,
            content=b.content.model_dump(mode="json"),
            merchant_name=b.content.subject.merchant_name,
            credit_code=b.content.subject.credit_code, due_date=b.content.due_date,
            state=State.CREATED, correlation_id=msg.correlation_id, created_at=b.created_at,
            created_by=b.created_by, idempotency_key=None, content_sha256=None,
        ))
        if inserted:  # else: the requester is on this desk too, or this is a re-sent copy
            await requests.add_event(conn, event_id=b.event_id, request_id=b.request_id,
                                     seq=None, type="created", bureau=b.requester,
                                     actor=b.created_by, at=b.created_at)
        req = await requests.get(conn, b.request_id, lock=True)
        assert req is not None
        if (req["requester"], req["recipient"]) != (b.requester, b.recipient):
            raise Refused(ErrorCode.HANDLER_REFUSED, "request id already used by other parties")
        if State(req["state"]) in (State.CREATED, State.SENT):
            change = Change(Transition.DELIVER, b.recipient, "xiecha", self.clock(),
                            seq=req["last_seq"] + 1)
            await recording.originate(conn, req, change)

    async def on_recipient_event(
        self, conn: asyncpg.Connection, msg: RecipientEvent, raw: bytes
    ) -> None:
        req = await requests.get(conn, msg.body.request_id, lock=True)
        if req is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no request {msg.body.request_id} here")
        if msg.sender != req["recipient"]:
            raise Refused(ErrorCode.FORBIDDEN, "only the recipient bureau reports its events")
        seq = msg.body.seq
        if await requests.has_event(conn, msg.body.event_id) or seq <= req["last_seq"]:
            return  # already applied (same desk, or a copy of an applied event)
        if seq > req["last_seq"] + 1:
            log.info("event parked until its predecessor arrives", seq=seq)
            await requests.park(conn, req["id"], seq, raw)
            return
        await recording.apply(conn, req, _change_from(msg))
        await self._drain(conn, msg)

    async def _drain(self, conn: asyncpg.Connection, msg: RecipientEvent) -> None:
        """Apply parked successors of the event just applied, in order."""
        seq = msg.body.seq
        while (raw := await requests.unpark(conn, msg.body.request_id, seq + 1)) is not None:
            successor = parse_message(raw)
            assert isinstance(successor, RequestDelivered | RequestAccepted | RequestReplied)
            req = await requests.get(conn, msg.body.request_id, lock=True)
            assert req is not None
            await recording.apply(conn, req, _change_from(successor))
            seq += 1

    async def on_undeliverable(self, conn: asyncpg.Connection, msg: RequestUndeliverable) -> None:
        if msg.body.request_id is None:
            log.warning("undeliverable message without a request", reason=msg.body.reason)
            return
        req = await requests.get(conn, msg.body.request_id, lock=True)
        if req is None or State(req["state"]) not in (State.CREATED, State.SENT):
            return
        change = Change(Transition.BOUNCE, req["requester"], "xiecha", self.clock(),
                        data={"reason": msg.body.reason})
        await recording.originate(conn, req, change)


def _change_from(msg: RecipientEvent) -> Change:
    b = msg.body
    data = msg.body.reply.model_dump(mode="json") if isinstance(msg, RequestReplied) else None
    return Change(_TRANSITION[msg.type], msg.sender, b.actor, b.occurred_at, seq=b.seq,
                  data=data, event_id=b.event_id)
