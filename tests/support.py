"""Test support: fresh RabbitMQ vhosts and PostgreSQL databases, and a running system.

Each test module gets its own vhost and databases (random names), so tests are
isolated without clean-up between them and never see each other's messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.common import db
from services.common.rabbit_admin import RabbitAdmin
from services.desk.app import create_app as create_desk
from services.desk.settings import DeskSettings
from services.desk.store import investigators
from services.hub.app import create_app as create_hub
from services.hub.registry_loader import load_registry

PG = os.environ.get("XIECHA_TEST_PG", "postgresql://postgres:postgres@127.0.0.1:5432")
AMQP = os.environ.get("XIECHA_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
ADMIN = os.environ.get("XIECHA_TEST_RABBIT_ADMIN", "http://guest:guest@127.0.0.1:15672")

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 15.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


@dataclass
class Scratch:
    """A throw-away vhost and databases, removed by ``close``."""

    vhost: str = field(default_factory=lambda: unique("xt"))
    databases: list[str] = field(default_factory=list)

    @property
    def amqp_url(self) -> str:
        return f"{AMQP}/{self.vhost}"

    def dsn(self, name: str) -> str:
        full = unique(f"xt_{name}")
        self.databases.append(full)
        return f"{PG}/{full}"

    async def pool(self, service: str, name: str) -> asyncpg.Pool:
        """A fresh database with ``service``'s migrations applied, and a pool on it."""
        dsn = self.dsn(name)
        await db.ensure_database(dsn)
        await db.migrate(dsn, service)
        return await db.open_pool(dsn)

    async def open(self) -> None:
        admin = RabbitAdmin(ADMIN)
        await admin.create_vhost(self.vhost)
        await admin.apply_policies(self.vhost)

    async def close(self) -> None:
        await RabbitAdmin(ADMIN).delete_vhost(self.vhost)
        for name in self.databases:
            await db.drop_database(f"{PG}/{name}")


@dataclass
class DeskHandle:
    region: str
    server: TestServer
    settings: DeskSettings
    tokens: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def investigator(
        self, bureau: str, name: str | None = None, role: str = "investigator",
        expires_at: dt.datetime | None = None,
    ) -> str:
        """A fresh investigator (or coordinator) of ``bureau`` on this desk; its token."""
        pool = await db.open_pool(self.settings.dsn, min_size=1, max_size=1)
        async with pool.acquire() as conn:
            _, token = await investigators.add(conn, name or f"inv-{bureau}", bureau, role,
                                               expires_at=expires_at)
        await pool.close()
        return token


@dataclass
class System:
    scratch: Scratch
    hub: TestServer
    desks: dict[str, DeskHandle]
    http: aiohttp.ClientSession
    hub_dsn: str

    async def call(self, method: str, url: str, token: str | None = None,
                   **kw: Any) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, url, headers=headers, **kw) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else None
            return resp.status, body

    def hub_url(self, path: str) -> str:
        return str(self.hub.make_url(path))

    async def close(self) -> None:
        await self.http.close()
        for desk in self.desks.values():
            await desk.server.close()
        await self.hub.close()
        await self.scratch.close()


DESKS = {"zj": "33", "gd": "44", "sc": "51"}


class Clock:
    """A clock tests move by hand: every service of a system reads it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def start_system(
    desks: dict[str, str] = DESKS, clock: Clock | None = None,
    desk_dsn: Callable[[str, str], Awaitable[str]] | None = None, **desk_options: Any,
) -> System:
    """Hub and ``desks``; ``desk_dsn(region, dsn)`` may route a desk's database (a proxy);
    ``desk_options`` are extra DeskSettings of every desk."""
    scratch = Scratch()
    await scratch.open()
    hub_dsn = scratch.dsn("hub")
    hub_app = create_hub(hub_dsn, scratch.amqp_url, **({"clock": clock} if clock else {}))
    hub = TestServer(hub_app)
    await hub.start_server()
    pool = await db.open_pool(hub_dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        await load_registry(conn)
    await pool.close()
    handles = {}
    for region, provinces in desks.items():
        dsn = scratch.dsn(f"desk_{region}")
        settings = DeskSettings(region=region, provinces=provinces,
                                database_url=await desk_dsn(region, dsn) if desk_dsn else dsn,
                                amqp_url=scratch.amqp_url,
                                # a hand-moved clock: the test owns the only deadline tick
                                deadline_check_seconds=0 if clock else 60, **desk_options)
        server = TestServer(create_desk(settings, **({"clock": clock} if clock else {})))
        await server.start_server()
        handles[region] = DeskHandle(region, server, settings)
    system = System(scratch, hub, handles, aiohttp.ClientSession(), hub_dsn)
    for handle in handles.values():
        await eventually(lambda h=handle: registry_ready(h.server.app), what="registry")
    return system


async def registry_ready(app: web.Application) -> bool:
    from services.desk.web import DESK

    async with app[DESK].pool.acquire() as conn:
        return bool(await conn.fetchval("SELECT count(*) FROM partner"))


def new_request(recipient: str | None = None, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "merchant_registration",
        "subject": {
            "merchant_name": "杭州某某电子商务有限公司",
            "platform": "淘宝",
            "shop_url": "https://shop.example.com/123",
        },
        "questions": [
            {"id": "q1", "text": "该商户是否在贵局登记注册？"},
            {"id": "q2", "text": "登记的经营地址是否与网店公示一致？"},
        ],
    }
    if recipient:
        body["recipient"] = recipient
    body.update(over)
    return body


def any_uuid() -> str:
    return str(uuid.uuid4())
