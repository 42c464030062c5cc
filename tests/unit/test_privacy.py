"""When a request's personal data is hidden, and what is left of it then."""

from __future__ import annotations

import datetime as dt
import uuid

from services.desk.domain import privacy
from services.desk.domain.lifecycle import State
from services.desk.domain.request import Request

ENDED = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)


def request(state: State) -> Request:
    return Request(uuid.uuid4(), "330110", "510107", "merchant_registration",
                   {"subject": {"merchant_name": "某某商贸"},
                    "questions": [{"id": "q1", "text": "投诉人张三是否属实？"}]},
                   state, dt.date(2026, 1, 12), "c", ENDED, "a", ENDED,
                   reply={"findings": "张三，电话 13912345678"}, rating=4)


def test_only_ended_requests_are_hidden_and_only_after_the_period() -> None:
    later = ENDED + privacy.HIDE_AFTER
    assert privacy.is_hidden(request(State.CLOSED), later, privacy.HIDE_AFTER)
    assert not privacy.is_hidden(request(State.CLOSED), later - dt.timedelta(seconds=1),
                                 privacy.HIDE_AFTER)
    assert not privacy.is_hidden(request(State.ACCEPTED), later, privacy.HIDE_AFTER)


def test_hiding_keeps_the_facts_and_drops_the_words() -> None:
    hidden = privacy.without_personal_data(request(State.CLOSED))
    assert hidden.reply is None and hidden.content["questions"][0]["text"] == privacy.HIDDEN
    assert (hidden.state, hidden.rating, hidden.content["subject"]) == (
        State.CLOSED, 4, {"merchant_name": "某某商贸"})
