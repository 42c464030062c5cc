"""Prometheus metrics of one service, each service (app) with a registry of its own.

Counted as they happen: HTTP requests by route, method and status with latency;
messages published (by type) and consumed (by queue, type and outcome); background task
restarts. Read at scrape time (``/metrics``): outbox rows and the age of the oldest, dead
letters by queue, and what the service adds (a desk: parked events, requests by state).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

HandlerT = Callable[[web.Request], Awaitable[web.StreamResponse]]
Collect = Callable[["Metrics", asyncpg.Connection], Awaitable[None]]
"""Sets gauges from the database at scrape time."""


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.http = Counter("xiecha_http_requests", "HTTP requests answered",
                            ["route", "method", "status"], registry=r)
        self.latency = Histogram("xiecha_http_request_seconds", "HTTP answer time", ["route"],
                                 registry=r)
        self.published = Counter("xiecha_messages_published", "Messages confirmed by the broker",
                                 ["type"], registry=r)
        self.consumed = Counter("xiecha_messages_consumed", "Deliveries handled, by outcome",
                                ["queue", "type", "outcome"], registry=r)
        self.restarts = Counter("xiecha_background_task_restarts", "Supervised task restarts",
                                ["task"], registry=r)
        self.outbox_rows = Gauge("xiecha_outbox_rows", "Messages waiting in the outbox",
                                 registry=r)
        self.outbox_age = Gauge("xiecha_outbox_oldest_age_seconds",
                                "Age of the oldest outbox row (0 when empty)", registry=r)
        self.dead_letters = Gauge("xiecha_dead_letters", "Messages in a dead-letter queue",
                                  ["queue"], registry=r)
        self.parked = Gauge("xiecha_parked_events", "Events waiting for a predecessor",
                            registry=r)
        self.parked_age = Gauge("xiecha_parked_event_oldest_age_seconds",
                                "Age of the oldest parked event (0 when none)", registry=r)
        self.requests = Gauge("xiecha_requests", "Requests by state", ["state"], registry=r)
        self.collectors: list[Collect] = [outbox]
        self.dead_letter_counts: Callable[[], Awaitable[dict[str, int]]] | None = None

    def observe_delivery(self, queue: str, message_type: str, outcome: str, _: float) -> None:
        self.consumed.labels(queue, message_type or "unknown", outcome).inc()

    def observe_published(self, types: Sequence[str]) -> None:
        for t in types:
            self.published.labels(t).inc()

    async def exposition(self, pool: asyncpg.Pool | None) -> bytes:
        if pool is not None:
            async with pool.acquire() as conn:
                for collect in self.collectors:
                    await collect(self, conn)
        if self.dead_letter_counts is not None:
            for queue, count in (await self.dead_letter_counts()).items():
                self.dead_letters.labels(queue).set(count)
        return generate_latest(self.registry)


async def outbox(metrics: Metrics, conn: asyncpg.Connection) -> None:
    row = await conn.fetchrow("SELECT count(*) AS n, coalesce(extract(epoch FROM"
                              " now() - min(created_at)), 0) AS age FROM outbox")
    metrics.outbox_rows.set(row["n"])
    metrics.outbox_age.set(float(row["age"]))


METRICS = web.AppKey("metrics", Metrics)
POOL = web.AppKey("metrics_pool", asyncpg.Pool)


def middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def measure(request: web.Request, handler: HandlerT) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            info = request.match_info.route.resource
            route = info.canonical if info is not None else "unmatched"
            metrics.http.labels(route, request.method, str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)

    return measure


async def exposition(request: web.Request) -> web.Response:
    body = await request.app[METRICS].exposition(request.app.get(POOL))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
