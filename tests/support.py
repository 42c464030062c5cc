"""Test support: fresh RabbitMQ vhosts and PostgreSQL databases, and a running system.

Each test module gets its own vhost and databases (random names), so tests are
isolated without clean-up between them and never see each other's messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import aiohttp
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractConnection
from aiohttp import web
from aiohttp.test_utils import TestServer

from protocol.v1 import RequestEvent, RequestSubmitted
from services.common import db, sm2
from services.common.health import RUNTIME
from services.common.paths import desk_key_file
from services.common.rabbit_admin import RabbitAdmin
from services.common.trust import user_of
from services.desk.app import create_app as create_desk
from services.desk.settings import DeskSettings
from services.desk.signing import Signer
from services.desk.store import investigators
from services.hub.app import create_app as create_hub
from services.hub.desk_keys import from_directory
from services.hub.registry_loader import load_registry
from services.setup import provision_broker

PG = os.environ.get("XIECHA_TEST_PG", "postgresql://postgres:postgres@127.0.0.1:5432")
AMQP = os.environ.get("XIECHA_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
ADMIN = os.environ.get("XIECHA_TEST_RABBIT_ADMIN", "http://guest:guest@127.0.0.1:15672")

SignedMessage = TypeVar("SignedMessage", RequestEvent, RequestSubmitted)
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
        await asyncio.sleep(0.02)  # the poll interval, not a wait for something to happen


def refused(result: tuple[int, Any], status: int, code: str) -> dict[str, Any]:
    """Assert a refusal by its HTTP status and machine-readable error code; the error."""
    got, body = result
    error = body.get("error", {}) if isinstance(body, dict) else {}
    assert (got, error.get("code")) == (status, code), body
    assert error.get("message"), body
    return dict(error)


def until(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """``condition`` as a probe for ``eventually``."""

    async def probe() -> bool:
        return condition()

    return probe


def log_entries(text: str) -> list[dict[str, Any]]:
    """The complete JSON lines of a log (a line being written is not read yet). Split on
    newline only: a logged value may hold characters ``str.splitlines`` breaks at (\\x1c,
    \\x85, \\u2028...), which JSON leaves unescaped."""
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].split("\n") if line]


async def logged(log_file: Path, msg: str, *, within: float = 15.0, **fields: str
                 ) -> dict[str, Any]:
    """Wait for the run's JSON log to hold an entry ``msg`` with ``fields``; return it."""

    async def entry() -> dict[str, Any] | None:
        text = await asyncio.to_thread(log_file.read_text, encoding="utf-8")
        for e in log_entries(text):
            if e.get("msg") == msg and all(str(e.get(k)) == v for k, v in fields.items()):
                return e
        return None

    return await eventually(entry, within=within, what=f"log entry {msg!r} {fields}")


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


@dataclass
class Scratch:
    """A throw-away vhost and databases, removed by ``close``."""

    vhost: str = field(default_factory=lambda: unique("xt"))
    databases: list[str] = field(default_factory=list)
    service_urls: dict[str, str] = field(default_factory=dict)
    """AMQP URL of each provisioned service's own user, by 'hub' or desk region."""

    @property
    def amqp_url(self) -> str:
        """The admin identity (guest on a laptop): declares, and forges in tests."""
        return f"{AMQP}/{self.vhost}"

    async def provision(self, desks: dict[str, str]) -> dict[str, str]:
        """The broker users and topology of the hub and ``desks`` (region -> provinces),
        with fresh passwords, as ``services.setup`` provisions them."""
        passwords = {key: secrets.token_urlsafe(12) for key in ("hub", *desks)}
        self.service_urls = await provision_broker(
            RabbitAdmin(ADMIN), self.amqp_url, [(r, p.split(",")) for r, p in desks.items()],
            passwords)
        return self.service_urls

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
        admin = RabbitAdmin(ADMIN)
        await admin.delete_vhost(self.vhost)
        for url in self.service_urls.values():
            await admin.delete_user(user_of(url))
        for name in self.databases:
            await db.drop_database(f"{PG}/{name}")


@dataclass
class DeskHandle:
    region: str
    server: TestServer
    settings: DeskSettings
    tokens: dict[str, str] = field(default_factory=dict)
    owner_dsn: str = ""
    """The database as its owner (set-up, and tests playing someone who may alter rows);
    ``settings.dsn`` is the service's role, xiecha_desk."""

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
    _buses: dict[str, AbstractConnection] = field(default_factory=dict)
    deaths: list[str] = field(default_factory=list)
    """Background tasks that gave up (``watch_give_ups``): closing the system fails then."""
    keys: Path = field(default_factory=Path)
    """The desks' SM2 key files (``desk-<region>.key`` and ``.pub``), made for this system."""

    def signed(self, message: SignedMessage) -> SignedMessage:
        """A hand-made change signed by the desk serving its sender, as that desk would."""
        region = self.serving(message.sender)
        signer = Signer(region, sm2.read_key(desk_key_file(region, self.keys)))
        return signer.message(message)[0]

    def serving(self, sender: str) -> str:
        """'hub' or the region of the desk that serves ``sender``."""
        if sender == "hub" or sender.startswith("desk."):
            return sender.removeprefix("desk.")
        return next((r for r, d in self.desks.items() if d.settings.hosts(sender)), "zj")

    async def bus(self, who: str) -> AbstractChannel:
        """A channel of ``who`` ('hub' or a desk's region), connected as its own user."""
        if who not in self._buses:
            self._buses[who] = await aio_pika.connect(self.scratch.service_urls[who])
        return await self._buses[who].channel(publisher_confirms=True)

    async def send(self, exchange: str, key: str, body: bytes, message_id: str | None = None,
                   who: str | None = None) -> None:
        """Publish ``body`` as a hand-made message of the service serving its sender (or
        ``who``), with that service's user-id, as its outbox relay would."""
        if who is None:
            try:
                who = self.serving(json.loads(body)["sender"])
            except (ValueError, KeyError, TypeError):
                who = "zj"
        channel = await self.bus(who)
        ex = await channel.get_exchange(exchange, ensure=False)
        await ex.publish(aio_pika.Message(
            body, message_id=message_id or str(uuid.uuid4()),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            user_id=user_of(self.scratch.service_urls[who])), key)
        await channel.close()

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
        for connection in self._buses.values():
            await connection.close()
        for desk in self.desks.values():
            await desk.server.close()
        await self.hub.close()
        await self.scratch.close()
        if self.keys.name.startswith("xiecha-keys-"):  # made by start_system
            shutil.rmtree(self.keys, ignore_errors=True)
        if self.deaths:
            raise RuntimeError("; ".join(self.deaths))


def watch_give_ups(app: web.Application, service: str, deaths: list[str]) -> None:
    """A service that runs in the test process has no process manager: a background task
    that keeps failing would end the whole run with exit code 70. Name it instead, at once
    on stderr and again when its system closes."""
    def gave_up(task: str) -> None:
        deaths.append(f"{service}: background task {task} kept failing and gave up"
                      " (its process would exit with code 70)")
        print(deaths[-1], file=sys.stderr, flush=True)

    app[RUNTIME].supervisor.on_give_up = gave_up


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
    ``desk_options`` are extra DeskSettings of every desk. Tests poll with one token every
    20 ms, faster than any person: unless a test sets them, per-token limits stay out of
    the way."""
    desk_options = {"token_rate": 10_000.0, "token_burst": 10_000, **desk_options}
    scratch = Scratch()
    await scratch.open()
    urls = await scratch.provision(desks)
    keys = Path(tempfile.mkdtemp(prefix="xiecha-keys-"))  # as set-up makes them
    for region in desks:
        sm2.ensure_key(desk_key_file(region, keys))
    desk_keys = from_directory([(r, p.split(",")) for r, p in desks.items()], keys)
    hub_dsn = await owned(scratch, "hub", "hub")
    hub_app = create_hub(db.role_dsn(hub_dsn, "hub"), urls["hub"],
                         **({"clock": clock} if clock else {}), desk_keys=desk_keys)
    hub = TestServer(hub_app)
    await hub.start_server()
    deaths: list[str] = []
    watch_give_ups(hub_app, "hub", deaths)
    pool = await db.open_pool(hub_dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        await load_registry(conn, desk_keys=desk_keys)
    await pool.close()
    handles = {}
    for region, provinces in desks.items():
        owner = await owned(scratch, "desk", f"desk_{region}")
        dsn = db.role_dsn(owner, "desk")  # the service logs in as xiecha_desk
        settings = DeskSettings(region=region, provinces=provinces,
                                database_url=await desk_dsn(region, dsn) if desk_dsn else dsn,
                                amqp_url=urls[region],
                                signing_key=str(desk_key_file(region, keys)),
                                # a hand-moved clock: the test owns the only deadline tick
                                deadline_check_seconds=0 if clock else 60, **desk_options)
        server = TestServer(create_desk(settings, **({"clock": clock} if clock else {})))
        await server.start_server()
        watch_give_ups(server.app, f"desk-{region}", deaths)
        handles[region] = DeskHandle(region, server, settings, owner_dsn=owner)
    system = System(scratch, hub, handles, aiohttp.ClientSession(), hub_dsn, deaths=deaths,
                    keys=keys)
    for handle in handles.values():
        await eventually(lambda h=handle: registry_ready(h.server.app), what="registry")
    return system


async def owned(scratch: Scratch, service: str, name: str) -> str:
    """A fresh database migrated by its owner, as set-up leaves it (the service's role
    granted its rows); its owner's DSN."""
    dsn = scratch.dsn(name)
    await db.ensure_database(dsn)
    await db.migrate(dsn, service)
    await db.grant_service_role(dsn, service)
    return dsn


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
