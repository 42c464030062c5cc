"""Housekeeping: tables that would only grow are pruned after a retention window.

The window (default 30 days) is far longer than any redelivery: a failed message is
retried for 24 hours (``retry.RetryPolicy``), so a message id forgotten after 30 days
can no longer come back, except by replaying a dead letter older than the window,
which the operator must not do. Deleting in batches keeps each transaction short.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

log = structlog.get_logger()

RETENTION = dt.timedelta(days=30)


@dataclass(frozen=True)
class Prune:
    """Rows of ``table`` whose ``condition`` holds ($1 is the cut-off instant)."""

    table: str
    condition: str


COMMON = (Prune("processed_message", "processed_at < $1"),)


async def prune(
    pool: asyncpg.Pool, rules: tuple[Prune, ...], cut_off: dt.datetime, batch: int = 5000
) -> dict[str, int]:
    """Delete what ``rules`` select, ``batch`` rows a transaction; how many per table."""
    removed = {}
    for rule in rules:
        total = 0
        while True:
            done = await pool.execute(
                f"DELETE FROM {rule.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {rule.table}"
                f" WHERE {rule.condition} LIMIT {int(batch)}))", cut_off)
            count = int(done.split()[-1])
            total += count
            if count < batch:
                break
        removed[rule.table] = total
    return removed


async def run(
    pool: asyncpg.Pool, rules: tuple[Prune, ...], clock: Callable[[], dt.datetime],
    every: float, alive: Callable[[], None], retention: dt.timedelta = RETENTION,
) -> None:
    """Prune every ``every`` seconds; a failure ends the run (its supervisor restarts it)."""
    while True:
        removed = await prune(pool, rules, clock() - retention)
        if any(removed.values()):
            log.info("housekeeping pruned", **removed)
        alive()
        await asyncio.sleep(every)
