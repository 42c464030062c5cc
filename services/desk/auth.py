"""Who is calling: bearer tokens resolved to investigators, briefly remembered.

A token seen in the last ``ttl`` seconds is not looked up again, which saves a
database round trip on most API calls; a changed or removed investigator takes
effect within that time. Unknown tokens are never remembered.
"""

from __future__ import annotations

import time

import asyncpg

from services.desk.store import investigators
from services.desk.store.investigators import Investigator


class Tokens:
    def __init__(self, pool: asyncpg.Pool, ttl: float = 5.0, size: int = 10_000) -> None:
        self.pool, self.ttl, self.size = pool, ttl, size
        self._seen: dict[str, tuple[float, Investigator]] = {}

    async def resolve(self, token: str) -> Investigator | None:
        now = time.monotonic()
        hit = self._seen.get(token)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        async with self.pool.acquire() as conn:
            who = await investigators.by_token(conn, token)
        if who is not None:
            if len(self._seen) >= self.size:
                self._seen.clear()  # crude but bounded; a refill costs one query per token
            self._seen[token] = (now, who)
        return who
