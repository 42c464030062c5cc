"""A posted action form read into the change the use case takes (pydantic validates)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.v1 import events
from protocol.v1.content import ReplyContent
from services.desk.domain.lifecycle import Transition

T = Transition


def _opt(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _answers(form: Mapping[str, Any], question_ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for qid in question_ids:
        answer = _opt(form, f"answer_{qid}")
        if answer:
            yes_no = _opt(form, f"confirmed_{qid}")
            out.append({"question_id": qid, "answer": answer,
                        "confirmed": None if yes_no is None else yes_no == "yes"})
    return out


def change_of(
    transition: Transition, form: Mapping[str, Any], question_ids: list[str]
) -> events.Change:
    """The change a form asks for; pydantic's ValidationError when it is not valid."""
    f = form
    if transition in (T.REPLY, T.PARTIAL_REPLY):
        reply = ReplyContent.model_validate(
            {"findings": _opt(f, "findings"), "answers": _answers(f, question_ids)})
        return (events.Replied(reply=reply) if transition is T.REPLY
                else events.PartiallyReplied(reply=reply))
    body: dict[Transition, tuple[type[Any], dict[str, Any]]] = {
        T.ACCEPT: (events.Accepted, {"proposed_due_date": _opt(f, "proposed_due_date")}),
        T.REJECT: (events.Rejected, {"reason": _opt(f, "reason"), "note": _opt(f, "note")}),
        T.REQUEST_INFO: (events.InfoRequested, {"questions": _opt(f, "questions")}),
        T.PROVIDE_INFO: (events.InfoProvided, {"info": _opt(f, "info")}),
        T.TRANSFER: (events.Transferred, {"to": _opt(f, "to"), "note": _opt(f, "note")}),
        T.WITHDRAW: (events.Withdrawn, {"note": _opt(f, "note")}),
        T.CLOSE: (events.Closed, {"rating": _opt(f, "rating"), "comment": _opt(f, "comment")}),
        T.REMIND: (events.Reminded, {"rule": events.ReminderRule.MANUAL,
                                     "note": _opt(f, "note")}),
    }
    model, values = body[transition]
    change: events.Change = model.model_validate(values)
    return change
