"""The hub's app factory: registry authority, statistics, stray-message return."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from services.common import db, housekeeping, metrics, openapi
from services.common.health import RUNTIME
from services.common.http import new_app
from services.common.runtime import Runtime
from services.hub import api, pages
from services.hub.desk_keys import DeskKeys, no_keys
from services.hub.inbound import HubInbound
from services.hub.map_data import PageConfig
from services.hub.outgoing import publish_registry

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


PRUNE = (*housekeeping.COMMON, housekeeping.Prune("counted_event", "counted_at < $1"))
"""What the hub's housekeeping prunes after the retention window: counted events (their
counts stay in the daily counters) and processed message ids."""


def create_app(dsn: str, amqp_url: str, clock: Clock = utc_now, *,
               concurrency: int = 32, pool_size: int = 10,
               page_config: PageConfig | None = None,
               desk_keys: DeskKeys = no_keys) -> web.Application:
    """The hub; ``desk_keys`` reads the desks' public keys it publishes with the registry."""
    app = new_app(64 * 1024)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        runtime = Runtime("hub", dsn, amqp_url, concurrency=concurrency, pool_size=pool_size,
                          clock=clock, metrics=app[metrics.METRICS])
        await runtime.open()
        app[RUNTIME] = runtime
        app[metrics.POOL] = runtime.pool
        app[api.POOL] = runtime.pool
        await runtime.start(HubInbound(clock, desk_keys))
        async with runtime.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT count(*) FROM registry_state"):
                await publish_registry(conn, "registry-startup", desk_keys())
        runtime.supervisor.start("housekeeping", lambda: housekeeping.run(
            runtime.pool, PRUNE, clock, 3600,
            lambda: runtime.supervisor.mark_healthy("housekeeping")))
        yield
        await runtime.close()

    app.cleanup_ctx.append(resources)
    api.add_routes(app)
    openapi.serve(app, openapi.document("xiecha hub", "1", api.OPS))
    add_web(app, page_config or PageConfig(desks={}))
    return app


def create_web_app(dsn: str, page_config: PageConfig) -> web.Application:
    """The HTTP side alone (no broker, no consumers) on a hub database: for measurements,
    screenshots and browser tests."""
    app = new_app(64 * 1024)

    async def pool(app: web.Application) -> AsyncIterator[None]:
        app[api.POOL] = await db.open_pool(dsn, min_size=2, max_size=4)
        yield
        await app[api.POOL].close()

    app.cleanup_ctx.append(pool)
    add_web(app, page_config)
    return app


def add_web(app: web.Application, page_config: PageConfig) -> None:
    """The HTTP side: JSON API, downloads and pages (needs ``app[api.POOL]`` at start)."""
    api.add_routes(app)
    pages.add_routes(app, page_config)
