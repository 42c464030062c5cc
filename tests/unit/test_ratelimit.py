"""The rate limits' arithmetic, on a clock the test moves."""

from __future__ import annotations

from services.desk.domain.ratelimit import Buckets, Failures, retry_after


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    b = Buckets(rate=2.0, burst=3)
    assert [b.take("t", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("t", 0.0) == 0.5
    assert b.take("u", 0.0) == 0.0  # another token has its own bucket
    assert b.take("t", 0.5) == 0.0
    assert retry_after(0.01) == "1" and retry_after(2.2) == "3"


def test_failures_lock_an_address_for_the_rest_of_the_window() -> None:
    f = Failures(limit=2, window=60.0)
    assert f.wait("a", 0.0) == 0.0
    f.failed("a", 0.0)
    f.failed("a", 10.0)
    assert f.wait("a", 10.0) == 50.0 and f.wait("b", 10.0) == 0.0
    assert f.wait("a", 60.0) == 0.0  # the first failure has left the window
