"""The hub's app factory: registry authority, statistics, stray-message return."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from services.common import db
from services.common.health import RUNTIME
from services.common.http import new_app
from services.common.runtime import Runtime
from services.hub import api, pages
from services.hub.inbound import HubInbound
from services.hub.map_data import PageConfig
from services.hub.outgoing import publish_registry

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(dsn: str, amqp_url: str, clock: Clock = utc_now, *,
               concurrency: int = 32, pool_size: int = 10,
               page_config: PageConfig | None = None) -> web.Application:
    app = new_app(64 * 1024)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        runtime = Runtime("hub", dsn, amqp_url, concurrency=concurrency, pool_size=pool_size,
                          clock=clock)
        await runtime.open()
        app[RUNTIME] = runtime
        app[api.POOL] = runtime.pool
        await runtime.start(HubInbound(clock))
        async with runtime.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT count(*) FROM registry_state"):
                await publish_registry(conn, "registry-startup")
        yield
        await runtime.close()

    app.cleanup_ctx.append(resources)
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
