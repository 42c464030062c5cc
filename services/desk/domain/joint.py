"""A joint case (联合行动) as the desk holds it: membership and life cycle, pure.

The lead bureau's desk decides every change with ``decide``: who may make it (lead,
member in a given status, supervisor), in which state of the case, and what the case
is after it. The same rules run on a member's desk before it asks the lead, so most
refusals are told at once. ``counts`` says what the hub counts for a change.
Standard library and protocol only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from protocol.errors import ErrorCode
from protocol.v1 import joint as j
from protocol.v1.joint import CaseState, MemberStatus
from services.desk.domain.errors import Refused

ACTIVE = frozenset({MemberStatus.ACCEPTED, MemberStatus.LEAVING})
"""Members that work the case: they read evidence, post, and confirm the closing."""
REACHED = ACTIVE | {MemberStatus.INVITED}
"""Members whose desks receive the case's events."""
MEMBERSHIP = frozenset({"opened", "invited", "accepted", "declined", "leave_requested",
                        "leave_agreed", "leave_refused"})
"""Timeline entries a bureau sees before it accepts (or after it declined or left)."""


@dataclass(frozen=True)
class Step:
    """One change of a case: who made it on whose behalf, when, its id and number."""

    bureau: str
    actor: str
    at: dt.datetime
    change: j.JointChange
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    seq: int = 0

    def body(self, case_id: uuid.UUID) -> dict[str, Any]:
        """The timeline entry, as stored and as sent (``JointEventBody`` less the case)."""
        return {"case_id": case_id, "event_id": self.event_id, "seq": self.seq,
                "occurred_at": self.at, "bureau": self.bureau, "actor": self.actor,
                "change": self.change.model_dump(mode="json")}


class Role(StrEnum):
    LEAD = "lead"
    MEMBER = "member"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    header: j.CaseHeader
    state: CaseState
    members: tuple[j.Member, ...]
    seq: int = 0
    summary: j.Summary | None = None
    confirmed: tuple[str, ...] = ()

    @property
    def lead(self) -> str:
        return self.header.lead

    def member(self, bureau: str) -> j.Member | None:
        return next((m for m in self.members if m.bureau == bureau), None)

    def status_of(self, bureau: str) -> MemberStatus | None:
        m = self.member(bureau)
        return m.status if m else None

    def role_of(self, bureau: str) -> Role | None:
        if bureau == self.lead:
            return Role.LEAD
        if bureau == self.header.supervisor:
            return Role.SUPERVISOR
        return Role.MEMBER if self.member(bureau) else None

    def reached(self) -> set[str]:
        """Bureaus other than the lead whose desks get the case's events."""
        out = {m.bureau for m in self.members if m.status in REACHED}
        return out | ({self.header.supervisor} if self.header.supervisor else set())

    def readers(self) -> set[str]:
        """Bureaus other than the lead that receive the shared evidence."""
        out = {m.bureau for m in self.members if m.status in ACTIVE}
        return out | ({self.header.supervisor} if self.header.supervisor else set())

    def shows(self, bureau: str, event: str) -> bool:
        """Whether ``bureau`` sees a timeline entry of type ``event``: the lead, the
        supervisor and working members all; others only who is in the case."""
        if self.role_of(bureau) in (Role.LEAD, Role.SUPERVISOR):
            return True
        return self.status_of(bureau) in ACTIVE or event in MEMBERSHIP

    def active(self) -> set[str]:
        return {m.bureau for m in self.members if m.status in ACTIVE}

    def snapshot(self) -> j.CaseSnapshot:
        return j.CaseSnapshot(header=self.header, state=self.state, members=self.members,
                              summary=self.summary, confirmed=self.confirmed)

    @classmethod
    def of(cls, case_id: uuid.UUID, seq: int, snap: j.CaseSnapshot) -> Case:
        return cls(case_id, snap.header, snap.state, snap.members, seq, snap.summary,
                   snap.confirmed)


def open_case(case_id: uuid.UUID, header: j.CaseHeader, invited: Sequence[str]) -> Case:
    """A new case at its lead's desk, with its first invitations."""
    if header.supervisor == header.lead:
        raise Refused(ErrorCode.SAME_BUREAU, "the lead cannot supervise its own case")
    case = Case(case_id, header, CaseState.OPEN, ())
    return decide(case, header.lead, j.Invited(bureaus=tuple(invited))) if invited else case


def decide(case: Case, bureau: str, change: j.JointChange) -> Case:
    """The case after ``bureau`` made ``change``; ``Refused`` if it may not."""
    after = _decided(case, bureau, change)
    return _settled(after)


def _decided(case: Case, bureau: str, change: j.JointChange) -> Case:
    if change.event in MEMBERSHIP:
        return _membership(case, bureau, change)
    return _work(case, bureau, change)


def _membership(case: Case, bureau: str, change: j.JointChange) -> Case:
    """Who is in the case: invitations, answers, leaving."""
    match change:
        case j.Invited(bureaus=bureaus):
            _require(case, bureau, Role.LEAD, states=(CaseState.OPEN,))
            return _invite(case, bureaus)
        case j.Accepted():
            _require_member(case, bureau, {MemberStatus.INVITED}, (CaseState.OPEN,))
            return _set_status(case, bureau, MemberStatus.ACCEPTED, None)
        case j.Declined(reason=reason):
            _require_member(case, bureau, {MemberStatus.INVITED})
            return _set_status(case, bureau, MemberStatus.DECLINED, reason)
        case j.LeaveRequested(reason=reason):
            _require_member(case, bureau, {MemberStatus.ACCEPTED})
            return _set_status(case, bureau, MemberStatus.LEAVING, reason)
        case j.LeaveAgreed(bureau=leaving) | j.LeaveRefused(bureau=leaving):
            _require(case, bureau, Role.LEAD)
            m = case.member(leaving)
            if m is None or m.status is not MemberStatus.LEAVING:
                raise Refused(ErrorCode.ILLEGAL_TRANSITION, f"{leaving} has not asked to leave")
            if isinstance(change, j.LeaveAgreed):
                return _set_status(case, leaving, MemberStatus.LEFT, m.reason)
            return _set_status(case, leaving, MemberStatus.ACCEPTED, None)
    raise Refused(ErrorCode.ILLEGAL_TRANSITION, "a case is opened once")


def _work(case: Case, bureau: str, change: j.JointChange) -> Case:
    """The case's work: posts, comments, evidence, tasks, closing."""
    match change:
        case j.Noted():
            _require_worker(case, bureau)
        case j.Commented():
            _require(case, bureau, Role.SUPERVISOR, states=tuple(CaseState))
        case j.EvidenceShared(file=file):
            _require_worker(case, bureau)
            if file.shared_by != bureau:
                raise Refused(ErrorCode.FORBIDDEN, "a bureau shares only its own files")
        case j.TaskAssigned(task=task):
            _require(case, bureau, Role.LEAD, states=(CaseState.OPEN,))
            if case.status_of(task.assignee) is not MemberStatus.ACCEPTED:
                raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                              f"tasks go to accepted members; {task.assignee} is not one")
        case j.ClosingProposed(summary=summary):
            _require(case, bureau, Role.LEAD, states=(CaseState.OPEN, CaseState.CLOSING))
            _check_outcomes(case, summary.outcomes)
            return replace(case, state=CaseState.CLOSING, summary=summary, confirmed=())
        case j.ClosingConfirmed():
            _require_member(case, bureau, set(ACTIVE), (CaseState.CLOSING,))
            if bureau in case.confirmed:
                raise Refused(ErrorCode.ILLEGAL_TRANSITION, "already confirmed")
            return replace(case, confirmed=(*case.confirmed, bureau))
    return case


def _settled(case: Case) -> Case:
    """A closing summary every working member confirmed closes the case."""
    if case.state is CaseState.CLOSING and case.active() <= set(case.confirmed):
        return replace(case, state=CaseState.CLOSED)
    return case


def _invite(case: Case, bureaus: Iterable[str]) -> Case:
    members = list(case.members)
    for b in dict.fromkeys(bureaus):
        if b in (case.lead, case.header.supervisor):
            raise Refused(ErrorCode.SAME_BUREAU, f"{b} leads or supervises this case")
        status = case.status_of(b)
        if status in REACHED:
            raise Refused(ErrorCode.ILLEGAL_TRANSITION, f"{b} is already {status}")
        members = [m for m in members if m.bureau != b]
        members.append(j.Member(bureau=b, status=MemberStatus.INVITED))
    if len(members) > j.MAX_MEMBERS:
        raise Refused(ErrorCode.VALIDATION_FAILED, f"at most {j.MAX_MEMBERS} members")
    return replace(case, members=tuple(members))


def _set_status(case: Case, bureau: str, status: MemberStatus, reason: str | None) -> Case:
    members = tuple(j.Member(bureau=bureau, status=status, reason=reason)
                    if m.bureau == bureau else m for m in case.members)
    return replace(case, members=members)


def _check_outcomes(case: Case, outcomes: Sequence[j.Outcome]) -> None:
    known = {case.lead} | {m.bureau for m in case.members if m.status is not
                           MemberStatus.INVITED and m.status is not MemberStatus.DECLINED}
    strangers = sorted({o.bureau for o in outcomes} - known)
    if strangers:
        raise Refused(ErrorCode.VALIDATION_FAILED,
                      f"outcomes of bureaus that did not work the case: {', '.join(strangers)}")


def _require(case: Case, bureau: str, role: Role,
             states: tuple[CaseState, ...] = (CaseState.OPEN, CaseState.CLOSING)) -> None:
    if case.role_of(bureau) is not role:
        raise Refused(ErrorCode.FORBIDDEN, f"only the case's {role} may do this")
    _require_state(case, states)


def _require_member(case: Case, bureau: str, statuses: set[MemberStatus],
                    states: tuple[CaseState, ...] = (CaseState.OPEN, CaseState.CLOSING)) -> None:
    status = case.status_of(bureau)
    if status is None:
        raise Refused(ErrorCode.FORBIDDEN, "only members may do this")
    if status not in statuses:
        raise Refused(ErrorCode.ILLEGAL_TRANSITION, f"not while your bureau is {status}")
    _require_state(case, states)


def _require_worker(case: Case, bureau: str) -> None:
    """The lead, or a member that accepted (and has not left)."""
    if bureau != case.lead:
        _require_member(case, bureau, set(ACTIVE))
    _require_state(case, (CaseState.OPEN, CaseState.CLOSING))


def _require_state(case: Case, states: tuple[CaseState, ...]) -> None:
    if case.state not in states:
        raise Refused(ErrorCode.ILLEGAL_TRANSITION, f"not while the case is {case.state}")


def counts(before: Case | None, after: Case, bureau: str,
           change: j.JointChange) -> list[tuple[j.JointMetric, str, int]]:
    """What the hub counts for a change: (metric, bureau it is counted for, amount)."""
    out: list[tuple[j.JointMetric, str, int]] = []
    match change:
        case j.Opened():
            out.append(("joint_opened", after.lead, 1))
        case j.Accepted():
            out.append(("joint_member_joined", bureau, 1))
        case j.Declined():
            out.append(("joint_member_declined", bureau, 1))
        case j.TaskAssigned(task=task):
            out.append(("joint_task_assigned", task.assignee, 1))
    if after.state is CaseState.CLOSED and (before is None or before.state is not CaseState.CLOSED):
        out.append(("joint_closed", after.lead, 1))
        outcomes = after.summary.outcomes if after.summary else ()
        for b, n in sorted(Counter(o.bureau for o in outcomes).items()):
            out.append(("joint_outcome", b, n))
    return out
