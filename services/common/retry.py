"""When and where a message that failed for an infrastructure reason is tried again.

Retries are measured in time, not in count: after a few quick in-process retries, a
message waits in the broker's delay tiers (``protocol.topology.DELAY_QUEUES``: 1 s up to
10 min, holding no consumer slot) and comes back to its queue, until ``give_up_after``
has passed since its first failure; only then is it dead-lettered. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from protocol import routing

RETRIES = "x-xiecha-retries"
FIRST_FAILURE = "x-xiecha-first-failure"
"""Headers a retried message carries: how many delay rounds, since when (epoch seconds)."""


@dataclass(frozen=True)
class RetryPolicy:
    in_place: int = 3
    """Deliveries retried after an in-process back-off before the delay tiers take over."""
    give_up_after: dt.timedelta = dt.timedelta(hours=24)

    def in_process(self, delivery_count: int) -> bool:
        return delivery_count < self.in_place

    def next_round(
        self, headers: dict[str, Any], now: float
    ) -> tuple[str, dict[str, Any]] | None:
        """(delay exchange, headers for the copy), or None once the window is over."""
        retries = _int(headers.get(RETRIES))
        first = _float(headers.get(FIRST_FAILURE), now)
        if now - first >= self.give_up_after.total_seconds():
            return None
        tiers = routing.RETRY_TIERS
        exchange = routing.retry_exchange(tiers[min(retries, len(tiers) - 1)])
        return exchange, {RETRIES: retries + 1, FIRST_FAILURE: int(first)}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _float(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and 0 < value <= default else default
