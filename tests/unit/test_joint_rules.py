"""The pure rules of a joint case: membership, who may do what, closing, what is counted."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from protocol.errors import ErrorCode
from protocol.v1 import joint as j
from protocol.v1.joint import CaseState, MemberStatus
from services.desk.domain import joint
from services.desk.domain.errors import Refused
from services.desk.joint import outgoing

LEAD, GD, SC, SUP = "330110", "440106", "510107", "330000"


def header(supervisor: str | None = SUP) -> j.CaseHeader:
    return j.CaseHeader(title="案", subjects=(j.CaseSubject(merchant_name="某公司"),),
                        legal_basis="法", aim="查", lead=LEAD, coordinator="组长",
                        supervisor=supervisor)


def opened(*members: str) -> joint.Case:
    return joint.open_case(uuid.uuid4(), header(), members)


def refused(case: joint.Case, bureau: str, change: j.JointChange) -> ErrorCode:
    with pytest.raises(Refused) as exc:
        joint.decide(case, bureau, change)
    return exc.value.code


def test_invited_members_accept_or_decline_once() -> None:
    case = opened(GD, SC)
    assert {m.status for m in case.members} == {MemberStatus.INVITED}
    case = joint.decide(case, GD, j.Accepted())
    case = joint.decide(case, SC, j.Declined(reason="不在辖区"))
    assert case.status_of(GD) is MemberStatus.ACCEPTED
    assert case.member(SC) == j.Member(bureau=SC, status=MemberStatus.DECLINED,
                                       reason="不在辖区")
    assert refused(case, GD, j.Accepted()) is ErrorCode.ILLEGAL_TRANSITION
    assert refused(case, "110105", j.Accepted()) is ErrorCode.FORBIDDEN


def test_a_declined_bureau_can_be_invited_again_but_not_a_member_twice() -> None:
    case = joint.decide(opened(GD, SC), SC, j.Declined(reason="忙"))
    case = joint.decide(case, LEAD, j.Invited(bureaus=(SC,)))
    assert case.status_of(SC) is MemberStatus.INVITED
    assert refused(case, LEAD, j.Invited(bureaus=(GD,))) is ErrorCode.ILLEGAL_TRANSITION
    assert refused(case, LEAD, j.Invited(bureaus=(SUP,))) is ErrorCode.SAME_BUREAU
    assert refused(case, GD, j.Invited(bureaus=("110105",))) is ErrorCode.FORBIDDEN


def test_leaving_needs_the_leads_agreement() -> None:
    case = joint.decide(opened(GD), GD, j.Accepted())
    case = joint.decide(case, GD, j.LeaveRequested(reason="人手不足"))
    assert case.status_of(GD) is MemberStatus.LEAVING and GD in case.readers()
    assert refused(case, GD, j.LeaveAgreed(bureau=GD)) is ErrorCode.FORBIDDEN
    back = joint.decide(case, LEAD, j.LeaveRefused(bureau=GD))
    assert back.status_of(GD) is MemberStatus.ACCEPTED
    gone = joint.decide(case, LEAD, j.LeaveAgreed(bureau=GD))
    assert gone.status_of(GD) is MemberStatus.LEFT
    assert GD not in gone.reached() and GD not in gone.readers()
    assert refused(gone, GD, j.Noted(text="还在吗")) is ErrorCode.ILLEGAL_TRANSITION


def test_tasks_go_only_to_accepted_members() -> None:
    case = opened(GD, SC)
    task = j.Task(request_id=uuid.uuid4(), assignee=GD, kind="merchant_registration",
                  due_date="2026-12-01")
    assert refused(case, LEAD, j.TaskAssigned(task=task)) is ErrorCode.ILLEGAL_TRANSITION
    case = joint.decide(case, GD, j.Accepted())
    assert joint.decide(case, LEAD, j.TaskAssigned(task=task)) == case
    assert refused(case, GD, j.TaskAssigned(task=task)) is ErrorCode.FORBIDDEN


def test_the_supervisor_comments_and_members_post_but_not_the_other_way() -> None:
    case = joint.decide(opened(GD), GD, j.Accepted())
    joint.decide(case, SUP, j.Commented(text="督办"))
    assert refused(case, GD, j.Commented(text="督办")) is ErrorCode.FORBIDDEN
    assert refused(case, SUP, j.Noted(text="x")) is ErrorCode.FORBIDDEN
    assert joint.decide(case, GD, j.Noted(text="已出发")) == case


def test_the_case_closes_when_every_working_member_confirmed() -> None:
    case = opened(GD, SC)
    case = joint.decide(case, GD, j.Accepted())
    case = joint.decide(case, SC, j.Accepted())
    summary = j.Summary(findings="查明", outcomes=(
        j.Outcome(kind=j.OutcomeKind.FINE, bureau=GD, amount_yuan=1000),))
    case = joint.decide(case, LEAD, j.ClosingProposed(summary=summary))
    assert case.state is CaseState.CLOSING
    case = joint.decide(case, GD, j.ClosingConfirmed())
    assert refused(case, GD, j.ClosingConfirmed()) is ErrorCode.ILLEGAL_TRANSITION
    before = case
    case = joint.decide(case, SC, j.ClosingConfirmed())
    assert case.state is CaseState.CLOSED
    assert joint.counts(before, case, SC, j.ClosingConfirmed()) == [
        ("joint_closed", LEAD, 1), ("joint_outcome", GD, 1)]
    assert refused(case, GD, j.Noted(text="x")) is ErrorCode.ILLEGAL_TRANSITION
    joint.decide(case, SUP, j.Commented(text="结案后点评"))


def test_a_new_proposal_asks_for_confirmations_again() -> None:
    case = joint.decide(opened(GD), GD, j.Accepted())
    first = joint.decide(case, LEAD, j.ClosingProposed(summary=j.Summary(findings="一")))
    assert joint.decide(first, LEAD, j.ClosingProposed(
        summary=j.Summary(findings="二"))).confirmed == ()


def test_outcomes_belong_to_bureaus_that_worked_the_case() -> None:
    case = opened(GD, SC)
    summary = j.Summary(findings="查明", outcomes=(
        j.Outcome(kind=j.OutcomeKind.WARNING, bureau=SC),))
    assert refused(case, LEAD, j.ClosingProposed(summary=summary)) is \
        ErrorCode.VALIDATION_FAILED


def test_with_nobody_working_the_lead_closes_alone() -> None:
    case = joint.decide(opened(GD), GD, j.Declined(reason="否"))
    closed = joint.decide(case, LEAD, j.ClosingProposed(summary=j.Summary(findings="无")))
    assert closed.state is CaseState.CLOSED


def test_counts_name_the_bureau_each_figure_belongs_to() -> None:
    case = opened(GD)
    assert joint.counts(None, case, LEAD, j.Opened()) == [("joint_opened", LEAD, 1)]
    assert joint.counts(case, case, GD, j.Accepted()) == [("joint_member_joined", GD, 1)]
    assert joint.counts(case, case, GD, j.Declined(reason="x")) == [
        ("joint_member_declined", GD, 1)]


def test_the_lead_cannot_supervise_itself() -> None:
    with pytest.raises(Refused):
        joint.open_case(uuid.uuid4(), header(supervisor=LEAD), [GD])


def test_only_working_members_see_what_the_case_holds() -> None:
    case = opened(GD, SC)
    case = joint.decide(case, GD, j.Accepted())
    case = joint.decide(case, SC, j.Declined(reason="否"))
    assert case.shows(GD, "noted") and case.shows(SUP, "evidence_shared")
    assert not case.shows(SC, "noted") and case.shows(SC, "declined")
    assert case.readers() == {GD, SUP} and case.reached() == {GD, SUP}


def test_the_closing_summary_goes_only_to_those_who_work_the_case() -> None:
    case = joint.decide(opened(GD, SC), GD, j.Accepted())
    case = joint.decide(case, LEAD, j.ClosingProposed(summary=j.Summary(findings="内部结论")))
    step = joint.Step(SC, "四川", dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
                      j.Declined(reason="否"), seq=5)
    case = joint.decide(case, SC, step.change)
    assert outgoing.event(case, step, GD, "c").body.case.summary is not None
    assert outgoing.event(case, step, SC, "c").body.case.summary is None


def test_a_case_is_opened_once() -> None:
    assert refused(opened(GD), LEAD, j.Opened()) is ErrorCode.ILLEGAL_TRANSITION
