"""What a desk does with the request feature's messages (one transaction per message).

Requests arrive as ``request.submitted`` and are delivered into the recipient's
inbox. Decided changes come back as numbered ``request.event`` messages carrying
their outcome; one that arrives ahead of its predecessor is parked and applied when
the gap closes, so every copy of a request goes through the same states in the same
order. A requester's change, asked for from another desk, arrives as
``request.command`` and is decided here like any local change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from protocol.errors import ErrorCode
from protocol.v1 import (
    RequestCommand,
    RequestCommandRefused,
    RequestEvent,
    RequestSubmitted,
    RequestUndeliverable,
    events,
    parse_message,
)
from services.common import outbox
from services.common.handling import Dispatcher
from services.desk import signing
from services.desk.domain import lifecycle
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import State, Transition
from services.desk.domain.request import Request, Step
from services.desk.domain.seal import Seal
from services.desk.requests import apply, outgoing
from services.desk.signing import Signer
from services.desk.store import requests

log = structlog.get_logger()

Sequenced = RequestEvent | RequestSubmitted
NOT_YET_DELIVERED = frozenset({State.CREATED, State.SENT, State.TRANSFERRED})


class RequestInbound:
    def __init__(self, clock: Callable[[], dt.datetime], hosts: Callable[[str], bool],
                 signer: Signer) -> None:
        self.clock, self.hosts, self.signer = clock, hosts, signer

    def register(self, bus: Dispatcher) -> None:
        bus.register(RequestSubmitted, self.in_sequence)
        bus.register(RequestEvent, self.in_sequence)
        bus.register(RequestCommand, self.on_command)
        bus.register(RequestCommandRefused, self.on_command_refused)
        bus.register(RequestUndeliverable, self.on_undeliverable)

    async def in_sequence(self, conn: asyncpg.Connection, msg: Sequenced) -> None:
        """Apply ``msg`` if it is next for its request, park it if it is early; either way
        only once its signature is that of the desk serving its sender."""
        seal = await signing.check(conn, msg.sender, msg.body)
        position = _position(msg)
        req = await requests.get(conn, msg.body.request_id, lock=True)
        if req is None and isinstance(msg, RequestEvent):
            raise Refused(ErrorCode.NOT_FOUND, f"no request {msg.body.request_id} here")
        if req is not None:
            if position <= req.last_seq:
                return  # applied already: by this desk itself, or an earlier copy
            if position > req.last_seq + 1:
                log.info("message parked until its predecessor arrives", seq=position)
                await requests.park(conn, req.id, position, msg.model_dump_json().encode())
                return
        req = await self._apply(conn, req, msg, seal)
        while (raw := await requests.unpark(conn, req.id, position + 1)) is not None:
            successor = parse_message(raw)
            assert isinstance(successor, RequestEvent | RequestSubmitted)
            successor_seal = await signing.check(conn, successor.sender, successor.body)
            req = await self._apply(conn, req, successor, successor_seal)
            position += 1

    async def _apply(self, conn: asyncpg.Connection, req: Request | None,
                     msg: Sequenced, seal: Seal) -> Request:
        """``msg`` applied to ``req`` (None: not here yet); the request afterwards."""
        if isinstance(msg, RequestSubmitted):
            return await self.deliver(conn, req, msg, seal)
        assert req is not None
        b = msg.body
        if msg.sender != req.deciding_bureau(b.change):
            raise Refused(ErrorCode.FORBIDDEN, "only the deciding desk reports changes")
        step = Step(lifecycle.TRANSITION_OF[b.change.event], b.bureau, b.actor, b.occurred_at,
                    change=b.change, event_id=b.event_id, seq=b.seq)
        after = req.absorb(step, _state(b.state), b.due_date)
        await apply.record(conn, seal, req, after, step)
        return dataclasses.replace(after, last_seq=b.seq)

    async def deliver(self, conn: asyncpg.Connection, req: Request | None,
                      msg: RequestSubmitted, seal: Seal) -> Request:
        """Put a (possibly transferred) request into its recipient's inbox."""
        b = msg.body
        if msg.recipient != b.recipient or msg.sender != (b.transferred_from or b.requester):
            raise Refused(ErrorCode.HANDLER_REFUSED, "envelope and body disagree on the parties")
        if req is None:
            req = await self._arrived(conn, msg, seal)
        if req.requester != b.requester or req.recipient != b.recipient:
            raise Refused(ErrorCode.HANDLER_REFUSED, "request id already used by other parties")
        if req.state in NOT_YET_DELIVERED:
            return await apply.originate(conn, self.signer, req, Step(
                Transition.DELIVER, b.recipient, "xiecha", self.clock()))
        return req

    async def _arrived(self, conn: asyncpg.Connection, msg: RequestSubmitted,
                       seal: Seal) -> Request:
        """Store a request that reached this desk for the first time ('created' sealed by
        the requester's desk)."""
        b = msg.body
        new = Request(
            id=b.request_id, requester=b.requester, recipient=b.recipient, kind=b.content.kind,
            content=b.content.model_dump(mode="json"), due_date=b.due_date,
            state=State.TRANSFERRED if b.transferred_from else State.CREATED,
            correlation_id=msg.correlation_id, created_at=b.created_at,
            created_by=b.created_by, updated_at=b.created_at, group_id=b.group_id,
            last_seq=b.seq, transferred_from=(b.transferred_from,) if b.transferred_from else (),
        )
        req = await requests.insert(conn, new)
        if req is None:  # another message brought it meanwhile
            req = await requests.get(conn, b.request_id, lock=True)
            assert req is not None
        elif not b.transferred_from:
            await requests.add_event(conn, seal, event_id=b.event_id, request_id=b.request_id,
                                     seq=None, type="created", bureau=b.requester,
                                     actor=b.created_by, at=b.created_at)
        return req

    async def on_command(self, conn: asyncpg.Connection, msg: RequestCommand) -> None:
        """Decide a requester's change asked for from the requester's desk."""
        b = msg.body
        req = await requests.get(conn, b.request_id, lock=True)
        if req is None or msg.sender != req.requester:
            raise Refused(ErrorCode.FORBIDDEN, "only the requester asks for changes")
        if await requests.has_event(conn, b.command_id):
            return
        transition = lifecycle.TRANSITION_OF[b.change.event]
        step = Step(transition, req.requester, b.actor, self.clock(), change=b.change,
                    event_id=b.command_id)
        try:
            if not self.hosts(req.recipient):
                raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                              f"the request was transferred to {req.recipient}")
            async with conn.transaction():  # savepoint: a refusal keeps the rest
                await apply.originate(conn, self.signer, req, step)
        except Refused as exc:
            await outbox.enqueue(conn, outgoing.command_refused(req, b.command_id,
                                                                b.change.event, exc.message))

    async def on_command_refused(self, conn: asyncpg.Connection,
                                 msg: RequestCommandRefused) -> None:
        b = msg.body
        req = await requests.get(conn, b.request_id)
        if req is None or msg.sender != req.recipient:
            raise Refused(ErrorCode.FORBIDDEN, "only the deciding desk refuses changes")
        await requests.add_event(conn, self.signer, event_id=b.command_id,
                                 request_id=b.request_id,
                                 seq=None, type="command_refused", bureau=req.recipient,
                                 actor="xiecha", at=self.clock(),
                                 data={"event": b.event, "reason": b.reason})

    async def on_undeliverable(self, conn: asyncpg.Connection, msg: RequestUndeliverable) -> None:
        if msg.body.request_id is None:
            log.warning("undeliverable message without a request", reason=msg.body.reason)
            return
        req = await requests.get(conn, msg.body.request_id, lock=True)
        if req is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no request {msg.body.request_id} here")
        if msg.body.original_type == "request.submitted" and req.state in (
            State.CREATED, State.SENT
        ):
            bounce = Step(Transition.BOUNCE, req.requester, "xiecha", self.clock(),
                          change=events.Undeliverable(reason=msg.body.reason))
            await apply.originate(conn, self.signer, req, bounce)
            return
        if (msg.body.original_type == "request.submitted" and req.state is State.TRANSFERRED
                and req.transferred_from and self.hosts(req.transferred_from[-1])):
            # a hand-over no desk took: the transferring desk takes the request back into
            # its bureau's inbox and tells the requester (a numbered change it reports in
            # its own bureau's name: the broker lets it speak for no other)
            by = req.transferred_from[-1]
            back = Step(Transition.RETURN, by, "xiecha", self.clock(),
                        change=events.TransferReturned(to=by, unserved=req.recipient,
                                                       reason=msg.body.reason))
            await apply.originate(conn, self.signer, req, back)
            return
        # Any other message (a command, a file, ...) that came back: say so on the timeline.
        await requests.add_event(conn, self.signer, event_id=msg.message_id, request_id=req.id,
                                 seq=None,
                                 type="message_undeliverable", bureau=req.requester,
                                 actor="xiecha", at=self.clock(),
                                 data={"message": msg.body.original_type,
                                       "reason": msg.body.reason})


def _state(name: str) -> State:
    try:
        return State(name)
    except ValueError:
        raise Refused(ErrorCode.HANDLER_REFUSED, f"no such state: {name!r}") from None


def _position(msg: Sequenced) -> int:
    """Where ``msg`` stands in its request's decided sequence (a submission: before #1)."""
    return msg.body.seq if isinstance(msg, RequestEvent) else msg.body.seq + 1
