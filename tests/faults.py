"""Real network faults for tests: a TCP proxy in front of a server that can be cut, and a
broker outage for one vhost.

A service pointed at the proxy sees exactly what an outage looks like (connections
reset mid-query, new ones refused) while the shared server behind it keeps running
for everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from tests.support import ADMIN, eventually


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        """Listen (on the same port after a ``cut``)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Reset every open connection and refuse new ones until ``start`` again."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)


async def proxy_for(url: str) -> tuple[TcpProxy, str]:
    """A started proxy in front of the server of ``url``, and ``url`` through it."""
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
    return proxy, parts._replace(netloc=netloc).geturl()


@contextlib.asynccontextmanager
async def broker_outage(vhost: str, expected: int) -> AsyncIterator[None]:
    """What a broker restart is to its clients, for ``vhost`` only (the shared broker keeps
    running): its ``expected`` connections closed, and none accepted until the block ends
    (a connection limit of 0 on the vhost, lifted afterwards)."""
    url = URL(ADMIN)
    base = str(url.with_user(None).with_password(None)).rstrip("/") + "/api"
    v = quote(vhost, safe="")
    headers = {"Authorization": aiohttp.encode_basic_auth(url.user or "guest",
                                                          url.password or "guest")}
    async with aiohttp.ClientSession(headers=headers) as s:

        async def listed() -> list[Any] | None:  # the statistics may lag a few seconds
            async with s.get(f"{base}/vhosts/{v}/connections") as r:
                r.raise_for_status()
                found: list[Any] = await r.json()
            return found if len(found) >= expected else None

        connections = await eventually(listed, within=30, what=f"{expected} connections")
        async with s.put(f"{base}/vhost-limits/{v}/max-connections", json={"value": 0}) as r:
            assert r.status in (200, 201, 204), await r.text()
        try:
            for c in connections:
                async with s.delete(f"{base}/connections/{quote(c['name'], safe='')}",
                                    headers={"X-Reason": "test: broker restart"}) as r:
                    assert r.status in (204, 404), await r.text()
            yield
        finally:
            async with s.delete(f"{base}/vhost-limits/{v}/max-connections") as r:
                assert r.status in (200, 204), await r.text()
