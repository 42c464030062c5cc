"""Statistics answers kept in the process, each under the counters' version it was read at.

``stat_version`` moves in every transaction that changes a counter or the registry (a
trigger, migration 005), so a kept answer whose version is still current is exactly what
reading the counters again would give. A call costs one indexed read of that number
when the answer is kept; otherwise the answer is computed in one repeatable-read
snapshot together with the version it belongs to.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import asyncpg

VERSION = "SELECT version FROM stat_version"
Compute = Callable[[asyncpg.Connection], Awaitable[Any]]


class Answers:
    """The last ``size`` answers by key (least recently used ones go first)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.kept: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self.hits = self.misses = 0

    async def get(self, pool: asyncpg.Pool, key: Hashable, compute: Compute) -> Any:
        """The answer of ``compute`` for ``key``, as of the counters' current version."""
        async with pool.acquire() as conn:
            version = await conn.fetchval(VERSION)
            kept = self.kept.get(key)
            if kept is not None and kept[0] == version:
                self.hits += 1
                self.kept.move_to_end(key)
                return kept[1]
            self.misses += 1
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                version = await conn.fetchval(VERSION)  # of the snapshot the answer reads
                answer = await compute(conn)
        self.kept[key] = (version, answer)
        self.kept.move_to_end(key)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return answer


def encoded(body: Any) -> bytes:
    """A JSON body as the API sends it (中文 stays readable), encoded once when kept."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
