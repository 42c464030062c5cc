"""Rings a bureau's simulated investigator as soon as its desk may have a new request.

A desk writes to its outbox in the transaction that records a delivery (the
'delivered' event for the requester and the hub), and a trigger NOTIFYs channel
``outbox`` on every such write. Listening there on each desk's database lets the
investigators look at their inbox at once instead of polling it on a timer. Most
writes are not deliveries, so before an investigator lists its inbox through the API
the bell reads (one indexed query on the desk's database) whether a delivered request
it has not seen waits: the desk's CPU then goes to the checks, not to empty listings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from bench import cpu
from bench.environment import BUREAUS


class InboxBells:
    """One ``asyncio.Event`` per bureau, set whenever its desk writes to its outbox."""

    def __init__(self, desk_dsns: dict[str, str]) -> None:
        self._dsns = desk_dsns
        self._conns: dict[str, asyncpg.Connection] = {}
        self._locks = {region: asyncio.Lock() for region in desk_dsns}
        self.bells = {bureau: asyncio.Event() for codes in BUREAUS.values() for bureau in codes}

    async def __aenter__(self) -> InboxBells:
        for region, dsn in self._dsns.items():
            conn = await asyncpg.connect(dsn)
            self._conns[region] = conn
            events = [self.bells[b] for b in BUREAUS[region]]

            def ring(*_: Any, events: list[asyncio.Event] = events) -> None:
                for event in events:
                    event.set()

            await conn.add_listener("outbox", ring)
        return self

    async def __aexit__(self, *_: object) -> None:
        for conn in self._conns.values():
            await conn.close()

    async def delivered(self, region: str, bureau: str) -> set[str]:
        """Ids of the requests waiting in ``bureau``'s inbox, state 'delivered'."""
        async with self._locks[region]:
            cpu.read_own()
            rows = await self._conns[region].fetch(
                "SELECT id FROM request WHERE recipient = $1 AND state = 'delivered'", bureau)
        return {str(row["id"]) for row in rows}
