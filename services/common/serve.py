"""Running an aiohttp app until SIGINT/SIGTERM, shutting down without stack traces.

The services run on uvloop (libuv's event loop): the work of a check is mostly many
small socket reads and writes to PostgreSQL, RabbitMQ and HTTP clients, which libuv
does with less CPU than the standard selector loop (README, Performance).
"""

from __future__ import annotations

import asyncio
import signal

import structlog
import uvloop
from aiohttp import web

log = structlog.get_logger()


async def serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("listening", url=f"http://{host}:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()


def run(app: web.Application, host: str, port: int) -> None:
    uvloop.run(serve(app, host, port))
