"""The desk's app factory: wires settings, store, bus and HTTP routes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from services.common import outbox
from services.common.http import new_app
from services.common.runtime import Runtime
from services.desk import api, outgoing
from services.desk.attachments.forward import forward_files
from services.desk.auth import Tokens
from services.desk.deadlines import DeadlineWatch
from services.desk.inbound import Inbound
from services.desk.sent import record_sent
from services.desk.settings import DeskSettings
from services.desk.store import registry as registry_store
from services.desk.usecases import Desk, RegistryCache

Clock = Callable[[], dt.datetime]
WATCH = web.AppKey("deadline_watch", DeadlineWatch)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(settings: DeskSettings, clock: Clock = utc_now) -> web.Application:
    app = new_app(settings.max_body_bytes)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        runtime = Runtime("desk", settings.dsn, settings.amqp_url, settings.region,
                          settings.province_codes, settings.consumer_concurrency,
                          settings.db_pool_size, clock)
        await runtime.open()
        app[api.DESK] = Desk(runtime.pool, clock, RegistryCache(), settings.limits,
                             settings.hosts, after_transfer=[forward_files])
        app[api.TOKENS] = Tokens(runtime.pool)
        await runtime.start(Inbound(clock, settings.hosts), after_publish=record_sent)
        async with runtime.pool.acquire() as conn, conn.transaction():
            have = await registry_store.version(conn)
            await outbox.enqueue(conn, outgoing.registry_request(settings.region, have))
        watch = DeadlineWatch(runtime.pool, clock, settings.province_codes, settings.hosts,
                              settings.remind_before_days, settings.escalate_after_days)
        app[WATCH] = watch
        every = settings.deadline_check_seconds
        watching = asyncio.create_task(watch.run(every)) if every else None
        yield
        if watching:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        await runtime.close()

    app.cleanup_ctx.append(resources)
    api.add_routes(app)
    return app
