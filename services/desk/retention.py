"""The retention job: requests ended longer ago than the retention period are deleted,
with their files, items, timeline, parked events and unsent messages.

Runs in the background every ``retention_check_seconds``, supervised like the deadline
watch; several desk processes may run it at once (rows are claimed with SKIP LOCKED).
Time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from services.desk.store import retention

log = structlog.get_logger()
BATCH = 500


class Retention:
    def __init__(self, pool: asyncpg.Pool, clock: Callable[[], dt.datetime],
                 keep: dt.timedelta) -> None:
        self.pool, self.clock, self.keep = pool, clock, keep

    async def tick(self) -> int:
        """Delete every request past its retention; how many were deleted."""
        total = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                ids = await retention.expired(conn, self.clock() - self.keep, BATCH)
                if not ids:
                    break
                total += await retention.delete(conn, ids)
        if total:
            log.info("retention: requests deleted", count=total)
        return total

    async def run(self, every: float, alive: Callable[[], None] = lambda: None) -> None:
        """Tick every ``every`` seconds; a failure ends the run (its supervisor restarts it)."""
        while True:
            await self.tick()
            alive()
            await asyncio.sleep(every)
