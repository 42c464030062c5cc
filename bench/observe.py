"""Watching a run complete: requester desks' databases, hub statistics, broker counters.

Completion is read where it matters to a requester: its own desk's database
(read-only). A round trip is complete when the 'replied' event is recorded at the
requester's desk; its latency is that event's ``recorded_at`` minus the request's
``created_at``, both stamped on the same host.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg

from bench import cpu
from bench.environment import ADMIN, BUREAUS
from services.common.rabbit_admin import RabbitAdmin

Stamp = tuple[dt.datetime, dt.datetime]
"""(request created at, reply recorded at the requester's desk)."""

_REPLIED = (
    "FROM request r JOIN request_event e ON e.request_id = r.id AND e.type = 'replied'"
    " WHERE r.requester = ANY($1::text[])"
)


async def read_only(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn, server_settings={"default_transaction_read_only": "on"})


class HomeWatch:
    """Counts replies recorded at their requesters' desks (read-only connections)."""

    def __init__(self, desk_dsns: dict[str, str]) -> None:
        self._dsns = desk_dsns
        self._conns: dict[str, asyncpg.Connection] = {}
        self.recorded = 0

    async def __aenter__(self) -> HomeWatch:
        for region, dsn in self._dsns.items():
            self._conns[region] = await read_only(dsn)
        return self

    async def __aexit__(self, *_: object) -> None:
        for conn in self._conns.values():
            await conn.close()

    async def count(self) -> int:
        total = 0
        for region, conn in self._conns.items():
            cpu.read_own()
            total += await conn.fetchval(f"SELECT count(*) {_REPLIED}", list(BUREAUS[region]))
        self.recorded = total
        return total

    async def wait_for(self, n: int, interval: float = 0.25) -> list[Stamp]:
        """Poll until ``n`` replies are recorded at home; their (created, recorded) stamps."""
        while True:
            if await self.count() >= n:
                break
            await asyncio.sleep(interval)
        if self.recorded > n:
            raise RuntimeError(f"{self.recorded} replies recorded at home, expected {n}")
        stamps: list[Stamp] = []
        for region, conn in self._conns.items():
            cpu.read_own()
            rows = await conn.fetch(f"SELECT r.created_at, e.recorded_at {_REPLIED}",
                                    list(BUREAUS[region]))
            stamps += [(row["created_at"], row["recorded_at"]) for row in rows]
        return stamps


    async def stamps_of(self, ids: list[str]) -> list[Stamp]:
        """(created, reply recorded at home) of those of ``ids`` answered so far."""
        stamps: list[Stamp] = []
        for conn in self._conns.values():
            cpu.read_own()
            rows = await conn.fetch(
                "SELECT r.created_at, e.recorded_at FROM request r JOIN request_event e"
                " ON e.request_id = r.id AND e.type = 'replied' WHERE r.id = ANY($1::uuid[])",
                ids)
            stamps += [(row["created_at"], row["recorded_at"]) for row in rows]
        return stamps

    async def wait_ids(self, ids: list[str], interval: float = 0.25) -> list[Stamp]:
        """Poll until every one of ``ids`` has its reply recorded at home; their stamps."""
        while True:
            stamps = await self.stamps_of(ids)
            if len(stamps) >= len(ids):
                return stamps
            await asyncio.sleep(interval)


async def hub_figures(session: aiohttp.ClientSession, hub_url: str) -> dict[str, int]:
    async with session.get(f"{hub_url}/v1/stats") as resp:
        resp.raise_for_status()
        body: dict[str, Any] = await resp.json()
    figures: dict[str, int] = body["all"]["all_time"]
    return figures


async def wait_hub_replied(session: aiohttp.ClientSession, hub_url: str, n: int,
                           interval: float = 0.25) -> dict[str, int]:
    """Wait until the hub counted ``n`` replies (more than ``n`` is an error)."""
    while True:
        try:
            figures = await hub_figures(session, hub_url)
        except aiohttp.ClientResponseError as exc:  # 503 while its database is away
            if exc.status != 503:
                raise
            await asyncio.sleep(interval)
            continue
        if figures["replied"] > n:
            raise RuntimeError(f"the hub counted {figures['replied']} replied, expected {n}")
        if figures["replied"] == n:
            return figures
        await asyncio.sleep(interval)


async def hub_counted_exactly(session: aiohttp.ClientSession, hub_url: str, n: int) -> int:
    """Wait for the hub to count ``n`` replies; fail if it counts any other number."""
    replied = (await wait_hub_replied(session, hub_url, n))["replied"]
    if replied != n:
        raise RuntimeError(f"the hub counted {replied} replies of {n} checks")
    print(f"  hub counted replied: {replied} of {n}", file=sys.stderr, flush=True)
    return replied


async def queue_publishes(vhost: str) -> dict[str, int]:
    """Messages routed into each queue of ``vhost``, from the management API's counters."""
    rows = await RabbitAdmin(ADMIN).get(f"queues/{quote(vhost, safe='')}")
    assert isinstance(rows, list)
    return {q["name"]: int(q.get("message_stats", {}).get("publish", 0)) for q in rows}


async def settled_publishes(vhost: str, done: Callable[[dict[str, int]], bool],
                            within: float = 20.0) -> dict[str, int]:
    """The management API samples its counters every few seconds: wait for them to settle."""
    deadline = asyncio.get_running_loop().time() + within
    counts = await queue_publishes(vhost)
    while not done(counts) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(1.0)
        counts = await queue_publishes(vhost)
    return counts


async def report_every(seconds: float, line: Callable[[], str],
                       say: Callable[[str], None]) -> None:
    """Print a progress line every ``seconds`` until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        say(line())

