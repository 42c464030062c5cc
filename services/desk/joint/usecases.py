"""The joint-case use cases investigators drive over HTTP; each is one transaction.

Only bureaus that take part in a case (lead, members, supervisor) see it; anyone else
is told it does not exist. Every view and change is written to the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from pydantic import Field, model_validator

from protocol.errors import ErrorCode
from protocol.v1 import joint as j
from protocol.v1.content import Frozen, Handling
from protocol.v1.registry import AgreementStatus, BureauRecord
from protocol.v1.types import BureauCode, LongText, ProvinceCode, ShortText
from services.desk.context import Desk
from services.desk.domain import joint, jurisdiction
from services.desk.domain.errors import Refused
from services.desk.domain.joint import Case, Step
from services.desk.joint import decide, store
from services.desk.store import audit
from services.desk.store.investigators import Investigator

NAMESPACE = uuid.UUID("5b0c2f4e-8f1e-4e55-9d43-6a3f1f0c7a11")
"""Case ids from an Idempotency-Key: the same key of the same bureau names the same case."""


class OpenCase(Frozen):
    """A lead's new case: what it is about, whom it invites (a list or a province)."""

    title: ShortText
    subjects: Annotated[tuple[j.CaseSubject, ...], Field(min_length=1, max_length=50)]
    legal_basis: LongText
    aim: LongText
    members: Annotated[tuple[BureauCode, ...], Field(max_length=j.MAX_MEMBERS)] = ()
    province: ProvinceCode | None = None
    """Invite every signed partner of this province (besides ``members``)."""
    coordinator: ShortText | None = None
    """Defaults to the investigator opening the case."""
    supervisor: BureauCode | None = None
    handling: Annotated[tuple[Handling, ...], Field(max_length=len(Handling))] = ()

    @model_validator(mode="after")
    def _someone(self) -> OpenCase:
        if not self.members and self.province is None:
            raise ValueError("invite members (a list) or a province")
        return self


def invitees(bureaus: dict[str, BureauRecord], lead: str, members: tuple[str, ...],
             province: str | None) -> list[str]:
    """Signed partners to invite, in order, without the lead."""
    for code in members:
        jurisdiction.require_partner(bureaus, code)
    found = list(members)
    if province is not None:
        found += sorted(c for c, b in bureaus.items()
                        if b.province == province and b.status is AgreementStatus.SIGNED)
    out = [c for c in dict.fromkeys(found) if c != lead]
    if not out:
        raise Refused(ErrorCode.NO_COMPETENT_BUREAU, "no partner to invite")
    return out


def _supervisor_above(bureaus: dict[str, BureauRecord], code: str, members: list[str]) -> None:
    """A supervisor is a registered bureau of a higher level than every member."""
    sup = bureaus.get(code)
    if sup is None:
        raise Refused(ErrorCode.UNKNOWN_BUREAU, f"no bureau with code {code} is registered")
    lower = [m for m in members if m in bureaus and bureaus[m].level <= sup.level]
    if lower:
        raise Refused(ErrorCode.VALIDATION_FAILED,
                      f"the supervisor must be above the members; {lower[0]} is not below it")


async def open_case(desk: Desk, who: Investigator, cmd: OpenCase, key: str | None,
                    cid: str) -> tuple[Case, bool]:
    """Open a case led by ``who``'s bureau and invite its members; (case, replayed)."""
    case_id = uuid.uuid5(NAMESPACE, f"{who.bureau}:{key}") if key else uuid.uuid4()
    async with desk.pool.acquire() as conn, conn.transaction():
        if key and (old := await store.get(conn, case_id)):
            return old, True
        bureaus = await desk.registry.current(conn)
        jurisdiction.require_partner(bureaus, who.bureau)
        members = invitees(bureaus, who.bureau, cmd.members, cmd.province)
        if cmd.supervisor:
            _supervisor_above(bureaus, cmd.supervisor, [who.bureau, *members])
        header = j.CaseHeader(
            title=cmd.title, subjects=cmd.subjects, legal_basis=cmd.legal_basis, aim=cmd.aim,
            lead=who.bureau, coordinator=cmd.coordinator or who.name,
            supervisor=cmd.supervisor, handling=cmd.handling)
        case = joint.open_case(case_id, header, [])
        now = desk.clock()
        case = await decide.originate(conn, desk, None, Step(who.bureau, who.name, now,
                                                             j.Opened()), cid, opened=case)
        case = await decide.originate(conn, desk, case, Step(
            who.bureau, who.name, now, j.Invited(bureaus=tuple(members))), cid)
        await store.audit(conn, who, "joint_open", case.id, cid)
        return case, False


async def visible(conn: asyncpg.Connection, who: Investigator, case_id: uuid.UUID,
                  lock: bool = False) -> Case:
    case = await store.get(conn, case_id, lock=lock)
    if case is None or case.role_of(who.bureau) is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no joint case {case_id} for your bureau")
    return case


async def act(desk: Desk, who: Investigator, case_id: uuid.UUID, change: j.JointChange,
              cid: str) -> tuple[Case, bool]:
    """A change by ``who``'s bureau; (case, pending) where pending means sent to the lead."""
    async with desk.pool.acquire() as conn, conn.transaction():
        case = await visible(conn, who, case_id, lock=True)
        if isinstance(change, j.Invited):  # partners only, as when opening
            invitees(await desk.registry.current(conn), case.lead, change.bureaus, None)
        step = Step(who.bureau, who.name, desk.clock(), change)
        case, pending = await decide.ask(conn, desk, case, step, cid)
        await store.audit(conn, who, f"joint_{change.event}", case_id, cid)
        return case, pending


@dataclass(frozen=True)
class Detail:
    """What the caller's bureau sees of a case on this desk."""

    case: Case
    timeline: list[asyncpg.Record]
    files: list[asyncpg.Record]
    tasks: list[asyncpg.Record]
    """At the lead's desk: each task's request state."""
    refusals: list[asyncpg.Record]
    """Changes the caller's bureau asked for that the lead's desk did not make."""


async def show(desk: Desk, who: Investigator, case_id: uuid.UUID, cid: str) -> Detail:
    async with desk.pool.acquire() as conn, conn.transaction():
        case = await visible(conn, who, case_id)
        await store.audit(conn, who, "joint_view", case_id, cid)
        tasks = await store.task_states(conn, case_id) if desk.hosts(case.lead) else []
        timeline = [e for e in await store.timeline(conn, case_id)
                    if case.shows(who.bureau, e["type"])]
        seen = case.shows(who.bureau, "evidence_shared")
        shared = await store.files(conn, case_id) if seen else []
        return Detail(case, timeline, shared, tasks,
                      await store.refusals(conn, case_id, who.bureau))


async def mine(desk: Desk, who: Investigator, limit: int, cid: str) -> list[Case]:
    """The cases of ``who``'s bureau, most recently changed first; the read is audited
    with the ids it showed, as lists of requests are."""
    async with desk.pool.acquire() as conn, conn.transaction():
        cases = await store.of_bureau(conn, who.bureau, limit)
        await audit.record(conn, who, "list_joint_cases", None, cid,
                           detail=audit.shown([c.id for c in cases]))
        return cases


async def version(desk: Desk, who: Investigator, case_id: uuid.UUID) -> str:
    """A token that changes whenever what ``who``'s bureau sees of the case does (for a
    page's live part); not audited, as it shows nothing. 404 for a stranger."""
    async with desk.pool.acquire() as conn:
        await visible(conn, who, case_id)
        return await store.version(conn, case_id, who.bureau)
