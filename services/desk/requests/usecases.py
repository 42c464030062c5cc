"""The request feature's use cases, as investigators and coordinators drive them over HTTP.

Each runs in one transaction: state, timeline, audit entry and outbox messages
commit together. Refusals are ``Refused`` with a protocol error code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from protocol import workdays
from protocol.errors import ErrorCode
from protocol.v1 import events
from protocol.v1.content import RequestContent
from services.common import outbox
from services.desk import access
from services.desk.context import Desk
from services.desk.domain import calendar, jurisdiction, lifecycle, privacy
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import Party, Transition
from services.desk.domain.request import Request, Step
from services.desk.domain.workflow import china_date
from services.desk.requests import apply, outgoing, search
from services.desk.signing import Signer
from services.desk.store import audit, requests
from services.desk.store.investigators import Investigator

MANUAL_REMINDER_GAP = dt.timedelta(hours=1)
"""A manual reminder (催办) needs this long since the last reminder of the request."""


def deadline(desk: Desk, content: RequestContent, now: dt.datetime) -> calendar.Deadline:
    """The kind's default limit in working days, or a later date the requester set."""
    limit = desk.limits[content.kind]
    default = calendar.due_date(china_date(now), limit)
    if content.due_date is None:
        return default
    if content.due_date < default.due:
        raise Refused(ErrorCode.VALIDATION_FAILED,
                      f"due_date must not be before {default.due} ({limit}"
                      f" working days, the limit for {content.kind})")
    return calendar.Deadline(content.due_date, not workdays.is_covered(content.due_date))


def new_request(
    who: Investigator, recipient: str, content: RequestContent, due: calendar.Deadline,
    cid: str, now: dt.datetime, *, group_id: uuid.UUID | None = None,
    digest: bytes | None = None,
) -> Request:
    """A request ``who``'s bureau is about to send: the one builder of new requests."""
    return Request(
        id=uuid.uuid4(), requester=who.bureau, recipient=recipient, kind=content.kind,
        content=content.model_dump(mode="json"), state=lifecycle.apply(None, Transition.SUBMIT),
        due_date=due.due, due_provisional=due.provisional, correlation_id=cid,
        created_at=now, created_by=who.name, updated_at=now, group_id=group_id,
        content_sha256=digest,
    )


def replay(old: Request, digest: bytes) -> Request:
    """The request an Idempotency-Key made before, if it was made of the same content."""
    if old.content_sha256 != digest:
        raise Refused(ErrorCode.IDEMPOTENCY_CONFLICT,
                      "this Idempotency-Key was used for a different request")
    return old


async def submit(conn: asyncpg.Connection, signer: Signer, new: Request,
                 key: str | None = None) -> Request | None:
    """Store a new request, its 'created' entry (sealed by the signature of the submission
    the recipient's desk checks) and its messages; None on a key clash."""
    async with conn.transaction():  # savepoint: a lost key race must not abort the rest
        req = await requests.insert(conn, new, key)
    if req is None:
        return None
    created = Step(Transition.SUBMIT, new.requester, new.created_by, new.created_at)
    submitted, seal = signer.message(outgoing.submitted(req, created.event_id))
    await requests.add_event(conn, seal, event_id=created.event_id, request_id=new.id,
                             seq=None, type=created.event_type, bureau=new.requester,
                             actor=new.created_by, at=new.created_at)
    await outbox.enqueue(conn, submitted, outgoing.recorded(req, created, req))
    return req


async def create(
    desk: Desk, who: Investigator, content: RequestContent, recipient: str | None,
    key: str | None, cid: str, digest: bytes,
) -> tuple[Request, bool]:
    """Store a new request and its outgoing message; (request, replayed)."""
    now = desk.clock()
    due = deadline(desk, content, now)
    async with desk.pool.acquire() as conn, conn.transaction():
        bureaus = await desk.registry.current(conn)
        jurisdiction.require_partner(bureaus, who.bureau)
        to = jurisdiction.resolve_recipient(bureaus, who.bureau, recipient,
                                            content.subject.credit_code)
        if key and (old := await requests.by_idempotency_key(conn, who.bureau, key)):
            return replay(old, digest), True
        req = await submit(conn, desk.signer, new_request(who, to.code, content, due, cid,
                                                          now, digest=digest), key)
        if req is None:  # a concurrent retry with the same key won the race
            old = await requests.by_idempotency_key(conn, who.bureau, key or "")
            assert old is not None
            return replay(old, digest), True
        await audit.record(conn, who, "create", req.id, cid)
        return req, False


async def submit_for(
    desk: Desk, conn: asyncpg.Connection, who: Investigator, recipient: str,
    content: RequestContent, cid: str,
) -> Request:
    """A new request to ``recipient`` in the caller's transaction (a joint case's task)."""
    now = desk.clock()
    jurisdiction.require_partner(await desk.registry.current(conn), recipient)
    if recipient == who.bureau:
        raise Refused(ErrorCode.SAME_BUREAU, "a bureau cannot send a request to itself")
    due = deadline(desk, content, now)
    req = await submit(conn, desk.signer, new_request(who, recipient, content, due, cid, now))
    assert req is not None  # no idempotency key, so no clash
    await audit.record(conn, who, "create", req.id, cid)
    return req


async def act(
    desk: Desk, who: Investigator, request_id: uuid.UUID, transition: Transition,
    change: events.Change | None, cid: str,
) -> tuple[Request, bool]:
    """Make a change; (request, pending) where pending means sent to the deciding desk."""
    async with desk.pool.acquire() as conn, conn.transaction():
        req = await access.as_party(conn, who, request_id, lifecycle.ACTOR[transition],
                                    transition.value)
        await _check(desk, conn, req, change)
        step = Step(transition, who.bureau, who.name, desk.clock(), change=change)
        pending = req.party_of(who.bureau) is Party.REQUESTER and not desk.hosts(req.recipient)
        if pending:
            req.decide(step)  # refuse early what the deciding desk would refuse
            await outbox.enqueue(conn, outgoing.command(req, step))
            after = req
        else:
            after = await apply.originate(conn, desk.signer, req, step)
        if isinstance(change, events.Transferred) and not desk.hosts(change.to):
            for follow in desk.after_transfer:
                await follow(conn, req, change.to)
        await audit.record(conn, who, transition.value, request_id, cid)
        return await requests.get(conn, request_id) or after, pending


async def _check(
    desk: Desk, conn: asyncpg.Connection, req: Request, change: events.Change | None
) -> None:
    """Rules that need more than the request itself: the registry, the clock, other tables."""
    match change:
        case events.Replied(reply=reply) | events.PartiallyReplied(reply=reply):
            asked = {q["id"] for q in req.content["questions"]}
            unknown = sorted({a.question_id for a in reply.answers} - asked)
            if unknown:
                raise Refused(ErrorCode.UNKNOWN_QUESTION,
                              f"no such question(s): {', '.join(unknown)}")
        case events.Transferred(to=to):
            bureau = jurisdiction.require_partner(await desk.registry.current(conn), to)
            if bureau.code == req.requester:
                raise Refused(ErrorCode.SAME_BUREAU, "cannot transfer to the requester")
            for guard in desk.before_transfer:
                await guard(conn, req, to)
        case events.Reminded(rule=events.ReminderRule.MANUAL):
            last = req.last_reminded_at
            if last is not None and desk.clock() - last < MANUAL_REMINDER_GAP:
                raise Refused(ErrorCode.TOO_SOON, "the recipient was reminded less than"
                              f" {MANUAL_REMINDER_GAP} ago; one reminder an hour at most")


async def show(
    desk: Desk, who: Investigator, request_id: uuid.UUID, cid: str
) -> tuple[Request, list[Mapping[str, Any]]]:
    """A request and its timeline, for a party to it; the access is audited."""
    async with desk.pool.acquire() as conn, conn.transaction():
        req = await access.visible(conn, who, request_id)
        await audit.record(conn, who, "view", request_id, cid)
        timeline: list[Mapping[str, Any]] = list(await requests.timeline(conn, request_id))
        until = await access.handed_over_at(conn, who, req)
        if until is not None:
            req = req.as_handed_over()
            timeline = [e for e in timeline if e["occurred_at"] <= until]
        if desk.hidden(req):  # notes may name people: the steps stay, their words go
            req = privacy.without_personal_data(req)
            timeline = [{**e, "data": None} for e in timeline]
        return req, timeline


async def find(
    desk: Desk, who: Investigator, filters: search.Filters, limit: int,
    after: tuple[dt.date, uuid.UUID] | None, cid: str, by_due: bool = False,
) -> list[Request]:
    """One page of the caller's inbox or outbox (``filters.bureau`` is the caller's),
    newest first or (``by_due``) soonest due first; the read is audited with the ids it
    showed."""
    async with desk.pool.acquire() as conn, conn.transaction():
        found = await search.search(conn, filters, limit, after, by_due)
        await audit.record(conn, who, "list_requests", None, cid,
                           detail=audit.shown([r.id for r in found], box=filters.box))
        return [privacy.without_personal_data(r) if desk.hidden(r) else r for r in found]


async def escalations(desk: Desk, who: Investigator, limit: int, cid: str) -> list[Request]:
    """The escalation queue of the coordinator's province; the read is audited."""
    if who.role != "coordinator":
        raise Refused(ErrorCode.FORBIDDEN, "only coordinators see the escalation queue")
    async with desk.pool.acquire() as conn, conn.transaction():
        found = await requests.escalations(conn, who.bureau[:2], limit)
        await audit.record(conn, who, "list_escalations", None, cid,
                           detail=audit.shown([r.id for r in found]))
        return found

