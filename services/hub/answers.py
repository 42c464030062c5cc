"""Statistics answers kept in the process, each under the counters' version it was read at.

``stat_version`` moves in every transaction that changes a counter or the registry (a
trigger, migrations 005 and 006), which also notifies the new number on the channel
``stat_version`` when it commits. The version is a vector, one number per shard (each
transaction bumps its connection's), so concurrent counting does not queue on one row.
A kept answer whose version is still current is what reading the counters again would
give. While the hub listens, a kept answer is served without asking the database (a
counter that moves reaches the answers a notification later, milliseconds); without the
listening connection, each call reads the version (16 rows of one small table). A
missing answer is computed in one repeatable-read snapshot together with the version it
belongs to.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger()

VERSION = "SELECT array_agg(version ORDER BY shard) FROM stat_version"
CHANNEL = "stat_version"
Compute = Callable[[asyncpg.Connection], Awaitable[Any]]
Version = tuple[int, ...]


class Answers:
    """The last ``size`` answers by key (least recently used ones go first)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.kept: OrderedDict[Hashable, tuple[Version, Any]] = OrderedDict()
        self.hits = self.misses = 0
        self.current: Version | None = None
        """The latest version notified; None while not listening."""
        self._shards: list[int] = []
        self._listener: asyncpg.Connection | None = None

    async def listen(self, pool: asyncpg.Pool) -> None:
        """Hold one connection of ``pool`` to hear of every new version."""
        conn = await pool.acquire()
        await conn.add_listener(CHANNEL, self._notified)
        conn.add_termination_listener(self._lost)
        self._shards = list(await conn.fetchval(VERSION))
        self._listener, self.current = conn, tuple(self._shards)

    async def stop(self, pool: asyncpg.Pool) -> None:
        conn, self._listener, self.current = self._listener, None, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._lost)
            await conn.remove_listener(CHANNEL, self._notified)
            await pool.release(conn)

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        """``shard:version``; a shard's notifications come in commit order, but keep the
        highest anyway."""
        shard, _, version = payload.partition(":")
        if self.current is None or not shard.isdigit() or int(shard) >= len(self._shards):
            return
        self._shards[int(shard)] = max(self._shards[int(shard)], int(version))
        self.current = tuple(self._shards)

    def _lost(self, conn: object) -> None:
        log.warning("statistics answers: version listener lost, reading it per call")
        self._listener, self.current = None, None

    async def get(self, pool: asyncpg.Pool, key: Hashable, compute: Compute) -> Any:
        """The answer of ``compute`` for ``key``, as of the counters' current version."""
        kept = self.kept.get(key)
        if kept is not None and self.current is not None and kept[0] == self.current:
            return self._hit(key, kept[1])
        async with pool.acquire() as conn:
            version = tuple(await conn.fetchval(VERSION))
            if kept is not None and kept[0] == version:
                return self._hit(key, kept[1])
            self.misses += 1
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                version = tuple(await conn.fetchval(VERSION))  # of the answer's snapshot
                answer = await compute(conn)
        self.kept[key] = (version, answer)
        self.kept.move_to_end(key)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return answer

    def _hit(self, key: Hashable, answer: Any) -> Any:
        self.hits += 1
        self.kept.move_to_end(key)
        return answer


def encoded(body: Any) -> bytes:
    """A JSON body as the API sends it (中文 stays readable), encoded once when kept."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
