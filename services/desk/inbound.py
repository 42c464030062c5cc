"""What a desk does with each message it consumes (one transaction per message).

Requests arrive as ``request.submitted`` and are delivered into the recipient's
inbox. Decided changes come back as numbered ``request.event`` messages; one that
arrives ahead of its predecessor is parked and applied when the gap closes, so
every copy of a request goes through the same states in the same order. A
requester's change, asked for from another desk, arrives as ``request.command``
and is decided here like any local change.
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
    RequestCommand,
    RequestCommandRefused,
    RequestEvent,
    RequestSubmitted,
    RequestUndeliverable,
    events,
    parse_message,
)
from protocol.v1.messages import AttachmentChunk, AttachmentOffered
from services.common import outbox
from services.common.consumer import MessageRefused
from services.desk import outgoing, recording
from services.desk.attachments import inbound as attachments_inbound
from services.desk.bulk import inbound as bulk_inbound
from services.desk.domain import lifecycle
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import State, Transition
from services.desk.recording import Step
from services.desk.store import registry as registry_store
from services.desk.store import requests

log = structlog.get_logger()

Sequenced = RequestEvent | RequestSubmitted


class Inbound:
    def __init__(self, clock: Callable[[], dt.datetime], hosts: Callable[[str], bool]) -> None:
        self.clock, self.hosts = clock, hosts

    async def __call__(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        try:
            await self._dispatch(conn, message)
        except Refused as exc:
            raise MessageRefused(exc.code, exc.message) from None

    async def _dispatch(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        match message:
            case RequestSubmitted() | RequestEvent():
                await self.in_sequence(conn, message)
            case RequestCommand():
                await self.on_command(conn, message)
            case RequestCommandRefused():
                await self.on_command_refused(conn, message)
            case RequestUndeliverable():
                await self.on_undeliverable(conn, message)
            case AttachmentOffered() | AttachmentChunk():
                await attachments_inbound.receive(conn, message, self.clock())
            case bulk_inbound.BulkItems() | bulk_inbound.BulkAnswers():
                await bulk_inbound.handle(conn, message, self.clock())
            case RegistryPublished():
                await registry_store.replace(
                    conn, message.body.version, message.body.bureaus, self.clock()
                )
            case _:
                raise MessageRefused(ErrorCode.UNKNOWN_MESSAGE_TYPE,
                                     f"a desk does not take {message.type} messages")

    async def in_sequence(self, conn: asyncpg.Connection, msg: Sequenced) -> None:
        """Apply ``msg`` if it is next for its request, park it if it is early."""
        position = _position(msg)
        req = await requests.get(conn, msg.body.request_id, lock=True)
        if req is None and isinstance(msg, RequestEvent):
            raise Refused(ErrorCode.NOT_FOUND, f"no request {msg.body.request_id} here")
        if req is not None:
            if position <= req["last_seq"]:
                return  # applied already: by this desk itself, or an earlier copy
            if position > req["last_seq"] + 1:
                log.info("message parked until its predecessor arrives", seq=position)
                await requests.park(conn, req["id"], position, msg.model_dump_json().encode())
                return
        await self._apply(conn, msg)
        while (raw := await requests.unpark(conn, msg.body.request_id, position + 1)) is not None:
            successor = parse_message(raw)
            assert isinstance(successor, RequestEvent | RequestSubmitted)
            await self._apply(conn, successor)
            position += 1

    async def _apply(self, conn: asyncpg.Connection, msg: Sequenced) -> None:
        if isinstance(msg, RequestSubmitted):
            await self.deliver(conn, msg)
            return
        req = await requests.get(conn, msg.body.request_id, lock=True)
        assert req is not None
        if msg.sender != req["recipient"]:
            raise Refused(ErrorCode.FORBIDDEN, "only the deciding desk reports changes")
        b = msg.body
        step = Step(lifecycle.TRANSITION_OF[b.change.event], b.bureau, b.actor, b.occurred_at,
                    change=b.change, event_id=b.event_id, seq=b.seq)
        await recording.apply(conn, req, step, due=b.due_date)

    async def deliver(self, conn: asyncpg.Connection, msg: RequestSubmitted) -> None:
        """Put a (possibly transferred) request into its recipient's inbox."""
        b = msg.body
        if msg.recipient != b.recipient or msg.sender != (b.transferred_from or b.requester):
            raise Refused(ErrorCode.HANDLER_REFUSED, "envelope and body disagree on the parties")
        inserted = await requests.insert(conn, requests.NewRequest(
            id=b.request_id, requester=b.requester, recipient=b.recipient, kind=b.content.kind,
            content=b.content.model_dump(mode="json"),
            merchant_name=b.content.subject.merchant_name,
            credit_code=b.content.subject.credit_code, due_date=b.due_date,
            state=State.TRANSFERRED if b.transferred_from else State.CREATED,
            correlation_id=msg.correlation_id, created_at=b.created_at,
            created_by=b.created_by, idempotency_key=None, content_sha256=None,
            group_id=b.group_id, last_seq=b.seq,
            transferred_from=(b.transferred_from,) if b.transferred_from else (),
        ))
        if inserted and not b.transferred_from:
            await requests.add_event(conn, event_id=b.event_id, request_id=b.request_id,
                                     seq=None, type="created", bureau=b.requester,
                                     actor=b.created_by, at=b.created_at)
        req = await requests.get(conn, b.request_id, lock=True)
        assert req is not None
        if req["requester"] != b.requester or req["recipient"] != b.recipient:
            raise Refused(ErrorCode.HANDLER_REFUSED, "request id already used by other parties")
        if State(req["state"]) in (State.CREATED, State.SENT, State.TRANSFERRED):
            await recording.originate(conn, req, Step(Transition.DELIVER, b.recipient, "xiecha",
                                                      self.clock()))

    async def on_command(self, conn: asyncpg.Connection, msg: RequestCommand) -> None:
        """Decide a requester's change asked for from the requester's desk."""
        b = msg.body
        req = await requests.get(conn, b.request_id, lock=True)
        if req is None or msg.sender != req["requester"]:
            raise Refused(ErrorCode.FORBIDDEN, "only the requester asks for changes")
        if await requests.has_event(conn, b.command_id):
            return
        transition = lifecycle.TRANSITION_OF[b.change.event]
        step = Step(transition, req["requester"], b.actor, self.clock(), change=b.change,
                    event_id=b.command_id)
        try:
            if not self.hosts(req["recipient"]):
                raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                              f"the request was transferred to {req['recipient']}")
            async with conn.transaction():  # savepoint: a refusal keeps the rest
                await recording.originate(conn, req, step)
        except Refused as exc:
            await outbox.enqueue(conn, outgoing.command_refused(req, b.command_id,
                                                                b.change.event, exc.message))

    async def on_command_refused(self, conn: asyncpg.Connection,
                                 msg: RequestCommandRefused) -> None:
        b = msg.body
        req = await requests.get(conn, b.request_id)
        if req is None or msg.sender != req["recipient"]:
            raise Refused(ErrorCode.FORBIDDEN, "only the deciding desk refuses changes")
        await requests.add_event(conn, event_id=b.command_id, request_id=b.request_id,
                                 seq=None, type="command_refused", bureau=req["recipient"],
                                 actor="xiecha", at=self.clock(),
                                 data={"event": b.event, "reason": b.reason})

    async def on_undeliverable(self, conn: asyncpg.Connection, msg: RequestUndeliverable) -> None:
        if msg.body.request_id is None:
            log.warning("undeliverable message without a request", reason=msg.body.reason)
            return
        req = await requests.get(conn, msg.body.request_id, lock=True)
        if req is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no request {msg.body.request_id} here")
        if msg.body.original_type == "request.submitted" and State(req["state"]) in (
            State.CREATED, State.SENT
        ):
            bounce = Step(Transition.BOUNCE, req["requester"], "xiecha", self.clock(),
                          change=events.Undeliverable(reason=msg.body.reason))
            await recording.originate(conn, req, bounce)
            return
        # Any other message (a command, a file, ...) that came back: say so on the timeline.
        await requests.add_event(conn, event_id=msg.message_id, request_id=req["id"], seq=None,
                                 type="message_undeliverable", bureau=req["requester"],
                                 actor="xiecha", at=self.clock(),
                                 data={"message": msg.body.original_type,
                                       "reason": msg.body.reason})


def _position(msg: Sequenced) -> int:
    """Where ``msg`` stands in its request's decided sequence (a submission: before #1)."""
    return msg.body.seq if isinstance(msg, RequestEvent) else msg.body.seq + 1
