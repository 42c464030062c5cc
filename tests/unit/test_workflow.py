"""Due dates and facts beyond the state: clock stops, agreed dates, transfers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from protocol.errors import ErrorCode
from protocol.v1 import events
from protocol.v1.content import ReplyContent
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import State, Transition
from services.desk.domain.request import Request, Step
from services.desk.domain.workflow import CHINA, TRANSFER_MIN_DAYS

D = dt.date
T0 = dt.datetime(2026, 9, 1, 9, tzinfo=CHINA)


def request_in(state: State, recipient: str, due: dt.date, **more: Any) -> Request:
    """A request with just the facts a test is about."""
    return Request(id=uuid.uuid4(), requester="330110", recipient=recipient, kind="other",
                   content={}, state=state, due_date=due, correlation_id="c", created_at=T0,
                   created_by="a", updated_at=T0, **more)


def step(transition: Transition, change: events.Change | None, day: dt.date) -> Step:
    return Step(transition, "510107", "b", dt.datetime.combine(day, dt.time(10), CHINA), change)


def decide(before: Request, transition: Transition, change: events.Change | None,
           day: dt.date) -> Request:
    return before.decide(step(transition, change, day))


ACCEPTED = request_in(State.ACCEPTED, "510107", D(2026, 10, 13))


def test_clock_stops_while_information_is_awaited() -> None:
    # Given a request due 13 Oct 2026 whose recipient asks for information on 30 Sep
    waiting = decide(ACCEPTED, Transition.REQUEST_INFO, events.InfoRequested(questions="?"),
                     D(2026, 9, 30))
    assert waiting.state is State.INFO_REQUESTED and waiting.clock_stopped_on == D(2026, 9, 30)
    # When it comes on 9 Oct (the National Day holiday in between does not count)
    resumed = decide(waiting, Transition.PROVIDE_INFO, events.InfoProvided(info="!"),
                     D(2026, 10, 9))
    # Then the due date moves on by the working days stopped: 8 and 9 Oct
    assert resumed.due_date == D(2026, 10, 15)
    assert resumed.state is State.ACCEPTED and resumed.clock_stopped_on is None


def test_proposed_due_date_agreed_or_refused() -> None:
    delivered = request_in(State.DELIVERED, "510107", D(2026, 10, 13))
    proposed = decide(delivered, Transition.ACCEPT,
                      events.Accepted(proposed_due_date=D(2026, 10, 30)), D(2026, 10, 9))
    assert proposed.pending_due_date == D(2026, 10, 30) and proposed.due_date == D(2026, 10, 13)
    agreed = decide(proposed, Transition.AGREE_DUE_DATE, events.DueDateAgreed(), D(2026, 10, 9))
    assert agreed.due_date == D(2026, 10, 30) and agreed.pending_due_date is None
    refused = decide(proposed, Transition.REFUSE_DUE_DATE, events.DueDateRefused(),
                     D(2026, 10, 9))
    assert refused.due_date == D(2026, 10, 13) and refused.pending_due_date is None
    with pytest.raises(Refused) as exc:
        decide(agreed, Transition.AGREE_DUE_DATE, events.DueDateAgreed(), D(2026, 10, 9))
    assert exc.value.code is ErrorCode.ILLEGAL_TRANSITION


def test_transfer_keeps_the_due_date_when_enough_time_remains() -> None:
    moved = decide(ACCEPTED, Transition.TRANSFER, events.Transferred(to="510104"),
                   D(2026, 9, 21))
    assert moved.recipient == "510104" and moved.transferred_from == ("510107",)
    assert moved.due_date == D(2026, 10, 13) and moved.state is State.TRANSFERRED


def test_transfer_near_the_deadline_gives_the_minimum() -> None:
    moved = decide(ACCEPTED, Transition.TRANSFER, events.Transferred(to="510104"),
                   D(2026, 10, 12))
    # 5 working days after Mon 12 Oct 2026
    assert TRANSFER_MIN_DAYS == 5 and moved.due_date == D(2026, 10, 19)


def test_transfer_back_to_a_former_holder_is_refused() -> None:
    moved = decide(ACCEPTED, Transition.TRANSFER, events.Transferred(to="510104"),
                   D(2026, 9, 21))
    again = request_in(State.DELIVERED, moved.recipient, moved.due_date,
                     transferred_from=moved.transferred_from)
    with pytest.raises(Refused):
        decide(again, Transition.TRANSFER, events.Transferred(to="510107"), D(2026, 9, 22))


def test_the_requesters_desk_takes_the_deciding_desks_outcome() -> None:
    # Given a copy that saw no acceptance (its rules refuse a reply straight from delivered)
    delivered = request_in(State.DELIVERED, "510107", D(2026, 10, 13))
    reply = events.Replied(reply=ReplyContent(findings="已查明"))
    with pytest.raises(Refused):
        decide(delivered, Transition.REPLY, reply, D(2026, 10, 9))
    # When the deciding desk reports the reply with its outcome
    after = delivered.absorb(step(Transition.REPLY, reply, D(2026, 10, 9)), State.REPLIED,
                             D(2026, 10, 20))
    # Then the outcome stands, with what the change carries
    assert after.state is State.REPLIED and after.due_date == D(2026, 10, 20)
    assert after.reply is not None and after.reply["findings"] == "已查明"
    assert dataclasses.replace(after, state=delivered.state, reply=None,
                               due_date=delivered.due_date) == delivered


def test_an_absorbed_transfer_moves_the_recipient() -> None:
    moved = ACCEPTED.absorb(step(Transition.TRANSFER, events.Transferred(to="510104"),
                                 D(2026, 9, 21)), State.TRANSFERRED, D(2026, 10, 13))
    assert moved.recipient == "510104" and moved.transferred_from == ("510107",)
