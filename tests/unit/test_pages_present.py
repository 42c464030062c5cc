"""Pure rules of the workspace's pages: deadline badges, offered actions, the credit code
explained, action forms read into changes."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from protocol.v1 import events
from services.desk.domain.lifecycle import Party, Transition
from services.desk.pages import forms, present

TODAY = dt.date(2026, 6, 10)


@pytest.mark.parametrize(("state", "due", "status"), [
    ("accepted", dt.date(2026, 6, 9), "overdue"),
    ("delivered", TODAY, "due_soon"),
    ("accepted", dt.date(2026, 6, 12), "due_soon"),
    ("accepted", dt.date(2026, 6, 13), "on_time"),
    ("info_requested", dt.date(2026, 6, 1), "none"),  # the clock stands still
    ("replied", dt.date(2026, 6, 1), "none"),
])
def test_deadline_badge(state: str, due: dt.date, status: str) -> None:
    badge = present.deadline(state, due, TODAY)
    assert badge.status == status
    assert bool(badge.icon) == (status != "none")  # an icon besides the text, not colour alone


def test_only_the_callers_allowed_steps_are_offered() -> None:
    T = Transition
    assert present.actions("delivered", Party.RECIPIENT) == [
        T.ACCEPT, T.REQUEST_INFO, T.TRANSFER, T.REJECT]
    assert present.actions("delivered", Party.REQUESTER) == [T.REMIND, T.WITHDRAW]
    assert present.actions("accepted", Party.RECIPIENT)[:2] == [T.REPLY, T.PARTIAL_REPLY]
    assert present.actions("replied", Party.REQUESTER) == [T.CLOSE]
    assert present.actions("closed", Party.REQUESTER) == []
    assert present.actions("delivered", None) == []


def test_the_credit_code_is_explained() -> None:
    assert present.check_credit_code(" 91510107ma6cj4kx0w ").code == "91510107MA6CJ4KX0W"
    wrong = present.check_credit_code("91510107MA6CJ4KX01")
    assert (wrong.problem, wrong.expected) == ("check_character", "W")
    assert present.check_credit_code("9151").problem == "length"
    assert present.check_credit_code("9151010IMA6CJ4KX0W").problem == "format"


def test_forms_become_changes() -> None:
    reply = forms.change_of(Transition.REPLY, {
        "findings": " 已核实 ", "answer_q1": "是", "confirmed_q1": "yes", "answer_q2": ""},
        ["q1", "q2"])
    assert isinstance(reply, events.Replied)
    assert reply.reply.findings == "已核实"
    assert [(a.question_id, a.confirmed) for a in reply.reply.answers] == [("q1", True)]
    accept = forms.change_of(Transition.ACCEPT, {"proposed_due_date": "2026-07-01"}, [])
    assert accept == events.Accepted(proposed_due_date=dt.date(2026, 7, 1))
    with pytest.raises(ValidationError):
        forms.change_of(Transition.REJECT, {"note": "no reason given"}, [])
    with pytest.raises(ValidationError):
        forms.change_of(Transition.TRANSFER, {"to": "51010"}, [])
