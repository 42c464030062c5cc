"""The desk's use cases, as investigators drive them through the HTTP API.

Each runs in one transaction: state, timeline, audit entry and outbox messages
commit together. Refusals are ``Refused`` with a protocol error code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1.content import ReplyContent, RequestContent
from protocol.v1.registry import BureauRecord
from protocol.v1.types import BureauCode
from services.common import outbox
from services.desk import outgoing, recording
from services.desk.domain import jurisdiction, lifecycle
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Transition
from services.desk.recording import Change
from services.desk.store import registry as registry_store
from services.desk.store import requests
from services.desk.store.investigators import Investigator

Clock = Callable[[], dt.datetime]


class CreateRequest(RequestContent):
    """An investigator's new request: the content, and optionally the recipient's code."""

    recipient: BureauCode | None = None


class RegistryCache:
    """The desk's registry in memory, reloaded whenever the stored version changes."""

    def __init__(self) -> None:
        self.version, self.bureaus = 0, dict[str, BureauRecord]()

    async def current(self, conn: asyncpg.Connection) -> dict[str, BureauRecord]:
        if await registry_store.version(conn) != self.version:
            self.version, self.bureaus = await registry_store.load(conn)
        if not self.bureaus:
            raise Refused(ErrorCode.REGISTRY_NOT_READY,
                          "this desk has not yet received the partner registry from the hub")
        return self.bureaus


@dataclass
class Desk:
    pool: asyncpg.Pool
    clock: Clock
    registry: RegistryCache

    async def create(
        self, who: Investigator, cmd: CreateRequest, idempotency_key: str | None, cid: str
    ) -> tuple[asyncpg.Record, bool]:
        """Store a new request and its outgoing message; (request, replayed)."""
        now = self.clock()
        if cmd.due_date is not None and cmd.due_date < now.date():
            raise Refused(ErrorCode.VALIDATION_FAILED, "due_date lies in the past")
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
            req = await self._insert(conn, who, cmd, recipient.code, now, cid,
                                     idempotency_key, digest)
            if req is None:  # a concurrent retry with the same key won the race
                old = await requests.by_idempotency_key(conn, who.bureau, idempotency_key or "")
                return _replay(old, digest), True
            await requests.audit(conn, investigator=who.id, bureau=who.bureau, action="create",
                                 request_id=req["id"], correlation_id=cid)
            return req, False

    async def _insert(
        self, conn: asyncpg.Connection, who: Investigator, cmd: CreateRequest, recipient: str,
        now: dt.datetime, cid: str, key: str | None, digest: bytes,
    ) -> asyncpg.Record | None:
        content = RequestContent.model_validate(cmd.model_dump(exclude={"recipient"}))
        new = requests.NewRequest(
            id=uuid.uuid4(), requester=who.bureau, recipient=recipient, kind=cmd.kind,
            content=content.model_dump(mode="json"), merchant_name=cmd.subject.merchant_name,
            credit_code=cmd.subject.credit_code, due_date=cmd.due_date,
            state=lifecycle.apply(None, Transition.SUBMIT), correlation_id=cid,
            created_at=now, created_by=who.name, idempotency_key=key, content_sha256=digest,
        )
        async with conn.transaction():  # savepoint: a lost key race must not abort the rest
            if not await requests.insert(conn, new):
                return None
        req = await requests.get(conn, new.id)
        created = Change(Transition.SUBMIT, who.bureau, who.name, now)
        await requests.add_event(conn, event_id=created.event_id, request_id=new.id, seq=None,
                                 type="created", bureau=who.bureau, actor=who.name, at=now)
        await outbox.enqueue(conn, outgoing.submitted(req, created.event_id))
        await outbox.enqueue(conn, outgoing.recorded(req, "created", created.event_id, now,
                                                     who.bureau))
        return req

    async def act(
        self, who: Investigator, request_id: uuid.UUID, transition: Transition, cid: str,
        reply: ReplyContent | None = None,
    ) -> asyncpg.Record:
        """Take a recipient's step (accept, reply) on a request."""
        async with self.pool.acquire() as conn, conn.transaction():
            req = await self._visible(conn, who, request_id, lock=True)
            if recording.party_of(req, who.bureau) is not lifecycle.ACTOR[transition]:
                raise Refused(ErrorCode.FORBIDDEN, f"only the {lifecycle.ACTOR[transition]}"
                              f" bureau may {transition.value} this request")
            data = None
            if reply is not None:
                _check_answers(req, reply)
                data = reply.model_dump(mode="json")
            change = Change(transition, who.bureau, who.name, self.clock(),
                            seq=req["last_seq"] + 1, data=data)
            await recording.originate(conn, req, change)
            await requests.audit(conn, investigator=who.id, bureau=who.bureau,
                                 action=transition.value, request_id=request_id,
                                 correlation_id=cid)
            updated = await requests.get(conn, request_id)
            assert updated is not None
            return updated

    async def show(
        self, who: Investigator, request_id: uuid.UUID, cid: str
    ) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
        """A request and its timeline, for a party to it; the access is audited."""
        async with self.pool.acquire() as conn, conn.transaction():
            req = await self._visible(conn, who, request_id)
            await requests.audit(conn, investigator=who.id, bureau=who.bureau, action="view",
                                 request_id=request_id, correlation_id=cid)
            return req, await requests.timeline(conn, request_id)

    async def box(
        self, who: Investigator, box: str, limit: int,
        after: tuple[dt.datetime, uuid.UUID] | None, state: str | None = None,
    ) -> list[asyncpg.Record]:
        column = "recipient" if box == "inbox" else "requester"
        async with self.pool.acquire() as conn:
            return await requests.page(conn, column=column, bureau=who.bureau, limit=limit,
                                       after=after, state=state)

    async def names(self) -> dict[str, BureauRecord]:
        async with self.pool.acquire() as conn:
            return await self.registry.current(conn)

    @staticmethod
    async def _visible(
        conn: asyncpg.Connection, who: Investigator, request_id: uuid.UUID, lock: bool = False
    ) -> asyncpg.Record:
        req = await requests.get(conn, request_id, lock=lock)
        if req is None or recording.party_of(req, who.bureau) is None:
            # Not a party: answer as if it did not exist, so ids leak nothing.
            raise Refused(ErrorCode.NOT_FOUND, f"no request {request_id} for your bureau")
        return req


def _replay(old: asyncpg.Record | None, digest: bytes) -> asyncpg.Record:
    assert old is not None
    if old["content_sha256"] != digest:
        raise Refused(ErrorCode.IDEMPOTENCY_CONFLICT,
                      "this Idempotency-Key was used for a different request")
    return old


def _check_answers(req: asyncpg.Record, reply: ReplyContent) -> None:
    asked = {q["id"] for q in req["content"]["questions"]}
    unknown = sorted({a.question_id for a in reply.answers} - asked)
    if unknown:
        raise Refused(ErrorCode.UNKNOWN_QUESTION, f"no such question(s): {', '.join(unknown)}")
