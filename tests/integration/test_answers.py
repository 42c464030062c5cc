"""The statistics answers kept under the counters' version (``services/hub/answers.py``):
a counter change on any shard makes a kept answer old, and two counting transactions do
not wait for each other on the version."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from services.common import db
from services.hub.answers import Answers
from tests.support import Scratch, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

COUNT = ("INSERT INTO stat_total (scope, metric, n) VALUES ($1, 'created', 1)"
         " ON CONFLICT (scope, metric) DO UPDATE SET n = stat_total.n + 1")
SHARDS = 16


@pytest_asyncio.fixture(loop_scope="session")
async def hub() -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    """A fresh hub database: a pool on it, and its address."""
    s = Scratch()
    dsn = s.dsn("answers")
    await db.ensure_database(dsn)
    await db.migrate(dsn, "hub")
    pool = await db.open_pool(dsn)
    yield pool, dsn
    await pool.close()
    await s.close()


async def two_shards(dsn: str) -> list[asyncpg.Connection]:
    """Two connections whose transactions bump different shards (backend pid mod 16)."""
    held: list[asyncpg.Connection] = []
    while len({c.get_server_pid() % SHARDS for c in held}) < 2:
        held.append(await asyncpg.connect(dsn))
    first, *rest = held
    second = next(c for c in rest if c.get_server_pid() % SHARDS != first.get_server_pid() % SHARDS)
    for c in held:
        if c not in (first, second):
            await c.close()
    return [first, second]


async def test_a_counter_change_on_any_shard_is_in_the_next_answer(
    hub: tuple[asyncpg.Pool, str]
) -> None:
    pool, dsn = hub
    answers, computed = Answers(), []

    async def total(conn: asyncpg.Connection) -> int:
        computed.append(1)
        return int(await conn.fetchval("SELECT coalesce(sum(n), 0) FROM stat_total"))

    writers = await two_shards(dsn)
    await answers.listen(pool)
    try:
        assert await answers.get(pool, "total", total) == 0
        assert await answers.get(pool, "total", total) == 0 and len(computed) == 1  # kept
        for n, writer in enumerate(writers, start=1):
            await writer.execute(COUNT, f"bureau={n}")

            async def fresh(n: int = n) -> bool:
                return bool(await answers.get(pool, "total", total) == n)

            await eventually(fresh, what=f"change {n} in the answer")
        assert len(computed) == 3
    finally:
        for w in writers:
            await w.close()
        await answers.stop(pool)


async def test_two_counting_transactions_do_not_queue_on_the_version(
    hub: tuple[asyncpg.Pool, str]
) -> None:
    first, second = await two_shards(hub[1])
    try:
        async with first.transaction():
            await first.execute(COUNT, "bureau=a")  # holds its shard's row until commit
            await second.execute("SET lock_timeout = '2s'")
            # another bureau's counter, in another connection: no row in common
            await second.execute(COUNT, "bureau=b")
    finally:
        await first.close()
        await second.close()
