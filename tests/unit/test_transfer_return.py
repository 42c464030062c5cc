"""A hand-over no desk took: the request goes back to the bureau that transferred it,
which decides and reports that change in its own name (pure rules, no servers)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from protocol.v1 import events
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import State, Transition
from services.desk.domain.request import Request, Step

YUHANG, WUHOU, NANJING, TIANHE = "330110", "510107", "320102", "440106"
NOW = dt.datetime(2026, 9, 21, 2, 0, tzinfo=dt.UTC)


def transferred() -> Request:
    """Yuhang's request, transferred by Wuhou to a Nanjing bureau."""
    req = Request(uuid.uuid4(), YUHANG, WUHOU, "merchant_registration", {}, State.ACCEPTED,
                  dt.date(2026, 10, 9), "cid", NOW, "陈敏", NOW, last_seq=2)
    step = Step(Transition.TRANSFER, WUHOU, "张静", NOW, events.Transferred(to=NANJING), seq=3)
    return req.decide(step)


def back(to: str) -> Step:
    change = events.TransferReturned(to=to, unserved=NANJING, reason="no desk serves 32")
    return Step(Transition.RETURN, to, "xiecha", NOW, change, seq=4)


def test_the_request_returns_to_the_inbox_of_the_bureau_that_transferred_it() -> None:
    req = transferred()
    assert (req.recipient, req.transferred_from) == (NANJING, (WUHOU,))
    after = req.decide(back(WUHOU))
    assert (after.state, after.recipient, after.transferred_from) == (
        State.DELIVERED, WUHOU, ())
    # the requester's desk takes the same outcome from the report
    assert req.absorb(back(WUHOU), State.DELIVERED, after.due_date) == after


def test_the_transferring_bureau_reports_the_return_the_recipient_everything_else() -> None:
    req = transferred()
    assert req.deciding_bureau(back(WUHOU).change) == WUHOU
    assert req.deciding_bureau(events.Accepted()) == NANJING


def test_a_hand_over_returns_to_no_other_bureau() -> None:
    with pytest.raises(Refused) as refused:
        transferred().decide(back(TIANHE))
    assert refused.value.code == "validation_failed"
