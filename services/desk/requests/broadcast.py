"""Broadcast requests: one request to many partners, tracked as a group.

Each recipient gets a child request of its own (own id, state, deadline and
timeline); the group only ties them together for the requester and sums them up.
All children are stored with their outgoing messages in one transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from typing import Annotated, Any

import asyncpg
from pydantic import Field, model_validator

from protocol.errors import ErrorCode
from protocol.v1.content import RequestContent
from protocol.v1.registry import AgreementStatus, BureauRecord
from protocol.v1.types import BureauCode, ProvinceCode
from services.desk.context import Desk
from services.desk.domain import jurisdiction, privacy
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import ANSWERED, ENDED
from services.desk.domain.workflow import is_overdue
from services.desk.requests.usecases import deadline, new_request, submit
from services.desk.store import audit
from services.desk.store.investigators import Investigator

MAX_RECIPIENTS = 1000


class CreateGroup(RequestContent):
    """The request's content and its recipients: a list of bureaus, or a whole province."""

    recipients: Annotated[tuple[BureauCode, ...], Field(max_length=MAX_RECIPIENTS)] = ()
    province: ProvinceCode | None = None

    @model_validator(mode="after")
    def _one_target(self) -> CreateGroup:
        if bool(self.recipients) == (self.province is not None):
            raise ValueError("give either recipients or province")
        return self


def targets(bureaus: dict[str, BureauRecord], who: str, cmd: CreateGroup) -> list[str]:
    """The signed partners the group goes to (never the requester itself)."""
    if cmd.province is not None:
        codes = sorted(code for code, b in bureaus.items() if b.province == cmd.province
                       and b.status is AgreementStatus.SIGNED and code != who)
        if not codes:
            raise Refused(ErrorCode.NO_COMPETENT_BUREAU, f"no signed partner in {cmd.province}")
        return codes
    for code in cmd.recipients:
        jurisdiction.require_partner(bureaus, code)
    if who in cmd.recipients:
        raise Refused(ErrorCode.SAME_BUREAU, "a bureau cannot send a request to itself")
    return list(dict.fromkeys(cmd.recipients))


async def create_group(
    desk: Desk, who: Investigator, cmd: CreateGroup, key: str | None, cid: str
) -> tuple[uuid.UUID, bool]:
    """Store the group and a child request per recipient; (group id, replayed)."""
    now = desk.clock()
    due = deadline(desk, cmd, now)
    digest = hashlib.sha256(cmd.model_dump_json().encode()).digest()
    content = RequestContent.model_construct(  # validated already, as part of ``cmd``
        **{name: getattr(cmd, name) for name in RequestContent.model_fields})
    async with desk.pool.acquire() as conn, conn.transaction():
        bureaus = await desk.registry.current(conn)
        jurisdiction.require_partner(bureaus, who.bureau)
        codes = targets(bureaus, who.bureau, cmd)
        if key and (old := await _by_key(conn, who.bureau, key)):
            if old["content_sha256"] != digest:
                raise Refused(ErrorCode.IDEMPOTENCY_CONFLICT,
                              "this Idempotency-Key was used for a different request")
            return old["id"], True
        group_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO request_group (id, requester, kind, content, target, created_at,"
            " created_by, idempotency_key, content_sha256) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            group_id, who.bureau, cmd.kind, content.model_dump(mode="json"),
            {"recipients": codes}, now, who.name, key, digest,
        )
        for code in codes:
            await submit(conn, desk.signer,
                         new_request(who, code, content, due, cid, now, group_id=group_id))
        await audit.record(conn, who, "create_group", None, cid)
        return group_id, False


async def _by_key(conn: asyncpg.Connection, requester: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, content_sha256 FROM request_group WHERE requester = $1"
        " AND idempotency_key = $2", requester, key,
    )


async def summary(
    desk: Desk, who: Investigator, group_id: uuid.UUID, cid: str
) -> dict[str, Any]:
    """How many children are answered, pending and overdue, and each child's state; the
    read is audited."""
    async with desk.pool.acquire() as conn, conn.transaction():
        group = await conn.fetchrow("SELECT * FROM request_group WHERE id = $1", group_id)
        if group is None or group["requester"] != who.bureau:
            raise Refused(ErrorCode.NOT_FOUND, f"no group {group_id} for your bureau")
        children = await conn.fetch(
            "SELECT id, recipient, state, due_date, updated_at FROM request WHERE group_id = $1"
            " ORDER BY recipient", group_id,
        )
        await audit.record(conn, who, "view_group", None, cid,
                           detail=audit.shown([c["id"] for c in children],
                                              group=str(group_id)))
    today = desk.today()
    content = group["content"]
    if privacy.all_hidden([(c["state"], c["updated_at"]) for c in children], desk.clock(),
                          desk.hide_after):
        content = privacy.without_texts(content)
    by_state = Counter(c["state"] for c in children)
    answered = sum(by_state[s] for s in ANSWERED)
    ended = sum(by_state[s] for s in ENDED)
    overdue = [c for c in children if is_overdue(c["state"], c["due_date"], today)]
    return {
        "id": str(group_id), "kind": group["kind"], "created_at": group["created_at"].isoformat(),
        "content": content,
        "summary": {
            "total": len(children), "answered": answered, "ended": ended,
            "pending": len(children) - answered - ended, "overdue": len(overdue),
            "by_state": dict(by_state),
        },
        "children": [{"id": str(c["id"]), "recipient": c["recipient"], "state": c["state"],
                      "due_date": c["due_date"].isoformat(),
                      "overdue": c in overdue} for c in children],
    }
