"""Retry policy: in place first, then delay tiers growing to 10 min, until the window ends."""

from __future__ import annotations

import datetime as dt

from protocol import routing
from services.common.retry import FIRST_FAILURE, RETRIES, RetryPolicy


def test_tiers_grow_then_stay_at_the_longest() -> None:
    policy = RetryPolicy(in_place=3, give_up_after=dt.timedelta(hours=24))
    assert policy.in_process(2) and not policy.in_process(3)
    headers: dict[str, object] = {}
    tiers = []
    for _ in range(7):
        step = policy.next_round(headers, now=1_000_000.0)
        assert step is not None
        tiers.append(step[0])
        headers = step[1]
    assert tiers == [routing.retry_exchange(s) for s in (1, 5, 30, 120, 600, 600, 600)]
    assert headers == {RETRIES: 7, FIRST_FAILURE: 1_000_000}


def test_gives_up_when_the_window_is_over_not_after_a_count() -> None:
    policy = RetryPolicy(give_up_after=dt.timedelta(hours=24))
    first = {RETRIES: 500, FIRST_FAILURE: 1_000_000}
    assert policy.next_round(first, now=1_000_000 + 23 * 3600) is not None
    assert policy.next_round(first, now=1_000_000 + 24 * 3600) is None


def test_forged_headers_do_not_shorten_or_break_the_window() -> None:
    policy = RetryPolicy()
    step = policy.next_round({RETRIES: "x", FIRST_FAILURE: 9e18}, now=2_000_000.0)
    assert step == (routing.retry_exchange(1), {RETRIES: 1, FIRST_FAILURE: 2_000_000})
