"""Rate limits as pure arithmetic on a clock reading (seconds), no I/O.

``Buckets``: a token bucket per key (a caller's token), ``rate`` per second sustained
and ``burst`` at once. ``Failures``: at most ``limit`` failed sign-ins per key (a
client address) within ``window`` seconds. Both answer how long to wait (0 = go), which
becomes ``Retry-After``; both forget idle keys so memory stays bounded.
"""

from __future__ import annotations

import math
from collections import deque


class Buckets:
    def __init__(self, rate: float, burst: int, size: int = 100_000) -> None:
        self.rate, self.burst, self.size = rate, burst, size
        self._level: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, now: float) -> float:
        """Spend one token; the seconds to wait instead when there is none."""
        tokens, at = self._level.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._level[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        if len(self._level) >= self.size and key not in self._level:
            self._level.clear()  # bounded; a cleared key starts with a full bucket
        self._level[key] = (tokens - 1.0, now)
        return 0.0


class Failures:
    def __init__(self, limit: int, window: float, size: int = 100_000) -> None:
        self.limit, self.window, self.size = limit, window, size
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds before ``key`` may try again (0 when it may now)."""
        times = self._seen.get(key)
        if times is None:
            return 0.0
        self._trim(times, now)
        if len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window - now)

    def failed(self, key: str, now: float) -> None:
        if len(self._seen) >= self.size and key not in self._seen:
            self._seen.clear()
        times = self._seen.setdefault(key, deque())
        self._trim(times, now)
        times.append(now)

    def _trim(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window:
            times.popleft()


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
