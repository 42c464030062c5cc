"""The desk's use cases, as investigators and coordinators drive them over HTTP.

Each runs in one transaction: state, timeline, audit entry and outbox messages
commit together. Refusals are ``Refused`` with a protocol error code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1 import events
from protocol.v1.content import RequestContent
from protocol.v1.registry import BureauRecord
from protocol.v1.types import BureauCode
from services.common import outbox
from services.desk import outgoing, recording
from services.desk.bulk import store as bulk_store
from services.desk.domain import calendar, jurisdiction, lifecycle, workflow
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Party, Transition
from services.desk.recording import Step
from services.desk.store import registry as registry_store
from services.desk.store import requests, search
from services.desk.store.investigators import Investigator

Clock = Callable[[], dt.datetime]
MANUAL_REMINDER_GAP = dt.timedelta(hours=1)
"""A manual reminder (催办) needs this long since the last reminder of the request."""


class CreateRequest(RequestContent):
    """An investigator's new request: the content, and optionally the recipient's code."""

    recipient: BureauCode | None = None


class RegistryCache:
    """The desk's registry in memory, reloaded when the stored version changes.

    The stored version is looked at most once per ``recheck`` seconds: a new registry
    (rare) takes effect within that time, and most API calls cost no query for it.
    """

    def __init__(self, recheck: float = 1.0) -> None:
        self.version, self.bureaus = 0, dict[str, BureauRecord]()
        self.recheck, self.checked = recheck, -recheck

    async def current(self, conn: asyncpg.Connection) -> dict[str, BureauRecord]:
        now = time.monotonic()
        if now - self.checked >= self.recheck or not self.bureaus:
            self.checked = now
            if await registry_store.version(conn) != self.version:
                self.version, self.bureaus = await registry_store.load(conn)
        if not self.bureaus:
            raise Refused(ErrorCode.REGISTRY_NOT_READY,
                          "this desk has not yet received the partner registry from the hub")
        return self.bureaus


TransferHook = Callable[[asyncpg.Connection, asyncpg.Record, str], Awaitable[object]]
"""Called in the transaction of a transfer to another desk, with the request as it was
and the new recipient (the evidence files use it to follow the request)."""


@dataclass
class Desk:
    pool: asyncpg.Pool
    clock: Clock
    registry: RegistryCache
    limits: dict[str, int]
    hosts: Callable[[str], bool]
    after_transfer: list[TransferHook] = field(default_factory=list)

    async def create(
        self, who: Investigator, cmd: CreateRequest, idempotency_key: str | None, cid: str
    ) -> tuple[asyncpg.Record, bool]:
        """Store a new request and its outgoing message; (request, replayed)."""
        now = self.clock()
        deadline = self.deadline(cmd, now)
        digest = hashlib.sha256(cmd.model_dump_json().encode()).digest()
        async with self.pool.acquire() as conn, conn.transaction():
            bureaus = await self.registry.current(conn)
            jurisdiction.require_partner(bureaus, who.bureau)
            recipient = jurisdiction.resolve_recipient(
                bureaus, who.bureau, cmd.recipient, cmd.subject.credit_code
            )
            if idempotency_key and (
                old := await requests.by_idempotency_key(conn, who.bureau, idempotency_key)
            ):
                return _replay(old, digest), True
            new = requests.NewRequest(
                id=uuid.uuid4(), requester=who.bureau, recipient=recipient.code, kind=cmd.kind,
                content=RequestContent.model_validate(cmd.model_dump(exclude={"recipient"}))
                .model_dump(mode="json"),
                merchant_name=cmd.subject.merchant_name, credit_code=cmd.subject.credit_code,
                due_date=deadline.due, due_provisional=deadline.provisional,
                state=lifecycle.apply(None, Transition.SUBMIT), correlation_id=cid,
                created_at=now, created_by=who.name, idempotency_key=idempotency_key,
                content_sha256=digest,
            )
            req = await self.insert(conn, new)
            if req is None:  # a concurrent retry with the same key won the race
                old = await requests.by_idempotency_key(conn, who.bureau, idempotency_key or "")
                return _replay(old, digest), True
            await requests.audit(conn, investigator=who.id, bureau=who.bureau, action="create",
                                 request_id=req["id"], correlation_id=cid)
            return req, False

    def deadline(self, cmd: RequestContent, now: dt.datetime) -> calendar.Deadline:
        """The kind's default limit in working days, or a later date the requester set."""
        default = calendar.due_date(workflow.china_date(now), self.limits[cmd.kind])
        if cmd.due_date is None:
            return default
        if cmd.due_date < default.due:
            raise Refused(ErrorCode.VALIDATION_FAILED,
                          f"due_date must not be before {default.due} ({self.limits[cmd.kind]}"
                          f" working days, the limit for {cmd.kind})")
        return calendar.Deadline(cmd.due_date, not calendar.is_covered(cmd.due_date))

    async def insert(
        self, conn: asyncpg.Connection, new: requests.NewRequest
    ) -> asyncpg.Record | None:
        """Store a new request, its 'created' entry and its messages; None on a key clash."""
        async with conn.transaction():  # savepoint: a lost key race must not abort the rest
            if not await requests.insert(conn, new):
                return None
        req = await requests.get(conn, new.id)
        created = Step(Transition.SUBMIT, new.requester, new.created_by, new.created_at)
        await requests.add_event(conn, event_id=created.event_id, request_id=new.id, seq=None,
                                 type="created", bureau=new.requester, actor=new.created_by,
                                 at=new.created_at)
        await outbox.enqueue(conn, outgoing.submitted(req, created.event_id))
        await outbox.enqueue(conn, outgoing.recorded(req, created, requests.snapshot_of(req)))
        return req

    async def act(
        self, who: Investigator, request_id: uuid.UUID, transition: Transition,
        change: events.Change | None, cid: str,
    ) -> tuple[asyncpg.Record, bool]:
        """Make a change; (request, pending) where pending means sent to the deciding desk."""
        async with self.pool.acquire() as conn, conn.transaction():
            req = await visible(conn, who, request_id, lock=True)
            party = recording.party_of(req, who.bureau)
            if party is not lifecycle.ACTOR[transition]:
                raise Refused(ErrorCode.FORBIDDEN, f"only the {lifecycle.ACTOR[transition]}"
                              f" bureau may {transition.value} this request")
            await self._check(conn, req, change)
            step = Step(transition, who.bureau, who.name, self.clock(), change=change)
            pending = party is Party.REQUESTER and not self.hosts(req["recipient"])
            if pending:
                workflow.decide(requests.snapshot_of(req), transition, change,
                                workflow.china_date(step.at))  # refuse early what is illegal
                await outbox.enqueue(conn, outgoing.command(req, step))
            else:
                await recording.originate(conn, req, step)
            if isinstance(change, events.Transferred) and not self.hosts(change.to):
                for hook in self.after_transfer:
                    await hook(conn, req, change.to)
            await requests.audit(conn, investigator=who.id, bureau=who.bureau,
                                 action=transition.value, request_id=request_id,
                                 correlation_id=cid)
            updated = await requests.get(conn, request_id)
            assert updated is not None
            return updated, pending

    async def _check(
        self, conn: asyncpg.Connection, req: asyncpg.Record, change: events.Change | None
    ) -> None:
        match change:
            case events.Replied(reply=reply) | events.PartiallyReplied(reply=reply):
                asked = {q["id"] for q in req["content"]["questions"]}
                unknown = sorted({a.question_id for a in reply.answers} - asked)
                if unknown:
                    raise Refused(ErrorCode.UNKNOWN_QUESTION,
                                  f"no such question(s): {', '.join(unknown)}")
            case events.Transferred(to=to):
                bureau = jurisdiction.require_partner(await self.registry.current(conn), to)
                if bureau.code == req["requester"]:
                    raise Refused(ErrorCode.SAME_BUREAU, "cannot transfer to the requester")
                if await bulk_store.has_items(conn, req["id"]):  # items stay with this desk
                    raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                                  "a request with bulk items cannot be transferred")
            case events.Reminded(rule=events.ReminderRule.MANUAL):
                last = req["last_reminded_at"]
                if last is not None and self.clock() - last < MANUAL_REMINDER_GAP:
                    raise Refused(ErrorCode.TOO_SOON, "the recipient was reminded less than"
                                  f" {MANUAL_REMINDER_GAP} ago; one reminder an hour at most")

    async def show(
        self, who: Investigator, request_id: uuid.UUID, cid: str
    ) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
        """A request and its timeline, for a party to it; the access is audited."""
        async with self.pool.acquire() as conn, conn.transaction():
            req = await visible(conn, who, request_id)
            await requests.audit(conn, investigator=who.id, bureau=who.bureau, action="view",
                                 request_id=request_id, correlation_id=cid)
            return req, await requests.timeline(conn, request_id)

    async def search(
        self, filters: search.Filters, limit: int, after: tuple[dt.datetime, uuid.UUID] | None
    ) -> list[asyncpg.Record]:
        """One page of the caller's inbox or outbox (``filters.bureau`` is the caller's)."""
        async with self.pool.acquire() as conn:
            return await search.search(conn, filters, limit, after)

    async def escalations(self, who: Investigator, limit: int) -> list[asyncpg.Record]:
        """The escalation queue of the coordinator's province."""
        if who.role != "coordinator":
            raise Refused(ErrorCode.FORBIDDEN, "only coordinators see the escalation queue")
        async with self.pool.acquire() as conn:
            return await requests.escalations(conn, who.bureau[:2], limit)

    def today(self) -> dt.date:
        return workflow.china_date(self.clock())

    async def names(self) -> dict[str, BureauRecord]:
        async with self.pool.acquire() as conn:
            return await self.registry.current(conn)


async def visible(
    conn: asyncpg.Connection, who: Investigator, request_id: uuid.UUID, lock: bool = False
) -> asyncpg.Record:
    """The request, if ``who``'s bureau may see it; otherwise "not found", so ids leak nothing."""
    req = await requests.get(conn, request_id, lock=lock)
    if req is None or not recording.can_see(req, who.bureau):
        raise Refused(ErrorCode.NOT_FOUND, f"no request {request_id} for your bureau")
    return req


def _replay(old: asyncpg.Record | None, digest: bytes) -> asyncpg.Record:
    assert old is not None
    if old["content_sha256"] != digest:
        raise Refused(ErrorCode.IDEMPOTENCY_CONFLICT,
                      "this Idempotency-Key was used for a different request")
    return old
