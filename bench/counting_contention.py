"""The hub's counting transaction at concurrency C, by how the statistics version moves.

Each round counts N fresh ``event.recorded`` bodies through ``counters.count_event`` (the
consumer's own code, one transaction each) from C connections at once, on a throw-away
hub database, with the version bumped three ways in turn (interleaved rounds, so the
machine's noise falls on all three alike):
- ``one row``: every transaction bumps the same row (how migration 005 had it);
- ``sharded``: each bumps its connection's shard (migration 006, today's code);
- ``none``: no version at all (the trigger off: what counting costs without it).

    python -m bench.counting_contention [--events 1500] [--concurrency 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import time
import uuid

import asyncpg

from protocol.v1.messages import EventRecordedBody
from services.common import db
from services.hub import counters

DSN = os.environ.get("XIECHA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BUREAUS = ("330106", "440106", "510107", "330110", "440305", "110101", "310101", "320102")
ONE_ROW = """CREATE OR REPLACE FUNCTION stat_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$ DECLARE v bigint; BEGIN
    UPDATE stat_version SET version = version + 1 WHERE shard = 0 RETURNING version INTO v;
    PERFORM pg_notify('stat_version', '0:' || v); RETURN NULL; END $$"""
MODES = ("one row", "sharded", "none")


def event() -> EventRecordedBody:
    requester, recipient = random.sample(BUREAUS, 2)
    return EventRecordedBody(
        event_id=uuid.uuid4(), request_id=uuid.uuid4(), requester=requester,
        recipient=recipient, event_type=random.choice(["created", "accepted", "replied"]),
        occurred_at=dt.datetime.now(dt.UTC), kind="merchant_registration", on_time=True,
        turnaround_days=3)


async def rate(pool: asyncpg.Pool, n: int, concurrency: int) -> float:
    """Events counted per second."""
    todo = iter([event() for _ in range(n)])

    async def worker() -> None:
        for body in todo:
            async with pool.acquire() as conn, conn.transaction():
                await counters.count_event(conn, body)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def use(pool: asyncpg.Pool, mode: str, sharded: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(ONE_ROW if mode == "one row" else sharded)
        state = "DISABLE" if mode == "none" else "ENABLE"
        await conn.execute(f"ALTER TABLE stat_total {state} TRIGGER stat_total_bumps")


async def main(a: argparse.Namespace) -> None:
    dsn = f"{DSN}/xiecha_bench_counting_{uuid.uuid4().hex[:8]}"
    await db.ensure_database(dsn)
    try:
        await db.migrate(dsn, "hub")
        pool = await db.open_pool(dsn, min_size=a.concurrency, max_size=a.concurrency)
        async with pool.acquire() as conn:
            # today's function as the migration made it, to restore between rounds
            sharded = await conn.fetchval(
                "SELECT pg_get_functiondef('stat_version_bump'::regproc)")
        await rate(pool, 300, a.concurrency)  # warm up
        rates: dict[str, list[float]] = {m: [] for m in MODES}
        for _ in range(a.rounds):
            for mode in MODES:
                await use(pool, mode, sharded)
                rates[mode].append(await rate(pool, a.events, a.concurrency))
        await pool.close()
    finally:
        await db.drop_database(dsn)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"counting transactions/s, {a.events} events per round, concurrency"
          f" {a.concurrency}, load average {load}:")
    for mode in MODES:
        print(f"  {mode:8} median {statistics.median(rates[mode]):6.0f}  rounds "
              + " ".join(f"{r:.0f}" for r in rates[mode]))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=1500)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(p.parse_args()))
