"""p99 of the statistics feed through HTTP next to the equivalent full-scan query.

``make history`` runs it after loading (the same --checks/--years/--seed): it serves the
hub's HTTP side on the loaded database, calls the all-time summary and a by-province
by-month slice 1,000 times each, then rebuilds the same history as raw events in a
temporary table and times the queries that would answer the same questions by scanning
them. The database is the hub's (``XIECHA_HUB_DATABASE_URL``) unless --dsn says another.

    python -m bench.stats_latency [--dsn postgresql://postgres@127.0.0.1:5432/xiecha_hub]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import asyncpg
from aiohttp import web

from services.common.logs import configure_logging
from services.hub.api import ANSWERS
from services.hub.app import create_web_app
from services.hub.counting import china_day
from services.hub.history import Plan, history
from services.hub.map_data import PageConfig
from services.hub.settings import HubSettings
from services.hub.store import load_registry as registry_rows

SUMMARY_SCAN = (
    "SELECT event_type, sum(n) AS n, sum(tat) AS tat,"
    " count(*) FILTER (WHERE on_time) AS on_time FROM scan_event GROUP BY event_type")
SLICE_SCAN = (
    "SELECT substr(recipient, 1, 2) AS province, date_trunc('month', day) AS month,"
    " event_type, sum(n) FROM scan_event WHERE day BETWEEN $1 AND $2 AND event_type IN"
    " ('created', 'replied', 'item_answered') GROUP BY 1, 2, 3")


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] * 1000


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(n: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t)
    return out


async def http_p99(dsn: str, port: int, since: dt.date, until: dt.date) -> dict[str, float]:
    """p50 and p99 of each call, answered from the kept answers (no counter moved since the
    last call: the usual case, the counters move a few times a minute in production) and
    computed each time (as under a stream of events, each of which moves them)."""
    configure_logging("hub", "WARNING")  # no log line per call
    app = create_web_app(dsn, PageConfig(desks={}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    paths = {"summary": "/v1/stats",
             "slice": f"/v1/stats/slices?by=province&from={since}&to={until}"}
    out = {}
    async with aiohttp.ClientSession() as s:
        for kept, size in (("", app[ANSWERS].size), ("computed_", 0)):
            app[ANSWERS].size = size  # 0: every answer is dropped as soon as it is made
            app[ANSWERS].kept.clear()
            for name, path in paths.items():
                async def get(path: str = path) -> None:
                    async with s.get(base + path) as r:
                        assert r.status == 200, await r.text()
                        await r.read()
                await timed(50, get)  # warm up
                samples = await timed(1000, get)
                out[kept + name], out[kept + name + "_p50"] = p99(samples), p50(samples)
    await runner.cleanup()
    return out


async def scan_p99(conn: asyncpg.Connection, plan: Plan, since: dt.date,
                   until: dt.date) -> dict[str, float]:
    _, bureaus = await registry_rows(conn)
    rows = [
        (e.requester, e.recipient, e.event_type, china_day(e.occurred_at), e.count,
         e.turnaround_days or 0, bool(e.on_time))
        for events, _ in history(plan, [b for b in bureaus if b.status == "signed"])
        for e in events
    ]
    await conn.execute("CREATE TEMP TABLE scan_event (requester text, recipient text,"
                       " event_type text, day date, n int, tat int, on_time bool)")
    await conn.copy_records_to_table("scan_event", records=rows)
    await conn.execute("ANALYZE scan_event")
    summary = await timed(20, lambda: conn.fetch(SUMMARY_SCAN))
    sliced = await timed(20, lambda: conn.fetch(SLICE_SCAN, since, until))
    return {"summary": p99(summary), "slice": p99(sliced), "summary_p50": p50(summary),
            "slice_p50": p50(sliced), "events": float(len(rows))}


async def main(a: argparse.Namespace) -> None:
    a.dsn = a.dsn or HubSettings().database_url
    end = dt.date.today() - dt.timedelta(days=1)
    plan = Plan(a.checks, end.replace(year=end.year - a.years), end, a.seed)
    until = dt.date.today()
    since = until.replace(year=until.year - 1, day=1)
    served = await http_p99(a.dsn, a.port, since, until)
    print(f"load average {_load()}; HTTP, 1000 calls each, p50 / p99:"
          f" all-time summary {served['summary_p50']:.2f} / {served['summary']:.2f} ms,"
          f" by-province by-month slice ({since} to {until})"
          f" {served['slice_p50']:.2f} / {served['slice']:.2f} ms; computed at each call"
          f" (no kept answer): summary {served['computed_summary_p50']:.2f} /"
          f" {served['computed_summary']:.2f} ms, slice {served['computed_slice_p50']:.2f} /"
          f" {served['computed_slice']:.2f} ms")
    if a.http_only:
        return
    conn = await asyncpg.connect(a.dsn)
    try:
        scanned = await scan_p99(conn, plan, since, until)
    finally:
        await conn.close()
    print(f"full scan of {int(scanned['events'])} events, SQL only, 20 runs, p50 / p99:"
          f" summary {scanned['summary_p50']:.0f} / {scanned['summary']:.0f} ms,"
          f" slice {scanned['slice_p50']:.0f} / {scanned['slice']:.0f} ms"
          f" (load average {_load()})")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dsn", default=None, help="the hub's database by default")
    p.add_argument("--port", type=int, default=8191)
    p.add_argument("--checks", type=int, default=1_210_000)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--http-only", action="store_true", help="skip the full-scan comparison")
    asyncio.run(main(p.parse_args()))
