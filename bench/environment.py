"""A throw-away xiecha installation for the benchmark.

A fresh RabbitMQ vhost and fresh databases (random suffix) for the hub and three
desks; the hub and the desks run as separate processes on free ports. ``Scratch``
remembers everything it made, so ``close`` removes it all, also after a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
import asyncpg

from services.common import db
from services.common.rabbit_admin import RabbitAdmin
from services.common.trust import user_of
from services.demo.processes import Service
from services.desk.store import investigators
from services.hub.settings import HubSettings
from services.setup import SetupSettings, set_up

PG = os.environ.get("XIECHA_BENCH_PG", "postgresql://postgres:postgres@127.0.0.1:5432")
AMQP = os.environ.get("XIECHA_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
ADMIN = os.environ.get("XIECHA_BENCH_RABBIT_ADMIN", "http://guest:guest@127.0.0.1:15672")

T = TypeVar("T")

DESKS: dict[str, str] = {"zj": "33", "gd": "44", "sc": "51", "rest": "11,31"}
"""Region -> the provinces its desk hosts (as ``make run``'s four desks)."""
BUREAUS: dict[str, tuple[str, ...]] = {
    "zj": ("330110", "330106"), "gd": ("440106", "440305"), "sc": ("510104", "510107"),
    "rest": ("110105", "310115"),
}
"""Eight signed bureaus, two per desk, each with one investigator."""
POOL = os.environ.get("XIECHA_BENCH_POOL", "5")
"""Database connections per service: the shared server allows 100 in all."""


def token(bureau: str) -> str:
    return f"bench-{bureau}"


def region_of(bureau: str) -> str:
    return next(r for r, codes in BUREAUS.items() if bureau in codes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def say(text: str) -> None:
    """Progress goes to stderr, so ``--json`` output stays clean."""
    print(text, file=sys.stderr, flush=True)


@dataclass
class Scratch:
    """Fresh vhosts and database names; ``close`` deletes whatever was made."""

    suffix: str = field(default_factory=lambda: secrets.token_hex(4))
    vhosts: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    async def new_vhost(self, name: str) -> str:
        vhost = f"xbench_{name}_{self.suffix}"
        self.vhosts.append(vhost)
        admin = RabbitAdmin(ADMIN)
        await admin.create_vhost(vhost)
        await admin.apply_policies(vhost)
        return vhost

    def database(self, name: str) -> str:
        """The DSN of a fresh database name (created later by whoever needs it)."""
        full = f"xbench_{name}_{self.suffix}"
        self.databases.append(full)
        return f"{PG}/{full}"

    async def close(self) -> None:
        admin = RabbitAdmin(ADMIN)
        for vhost in self.vhosts:
            try:
                await admin.delete_vhost(vhost)
            except Exception as exc:  # keep cleaning up the rest
                say(f"could not delete vhost {vhost}: {exc}")
        for user in self.users:
            try:
                await admin.delete_user(user)
            except Exception as exc:
                say(f"could not delete broker user {user}: {exc}")
        for name in self.databases:
            try:
                await db.drop_database(f"{PG}/{name}")
            except Exception as exc:
                say(f"could not drop database {name}: {exc}")


@dataclass
class Installation:
    """The running hub and desks of one benchmark run."""

    vhost: str
    hub: Service
    desks: dict[str, Service]
    desk_dsns: dict[str, str]
    hub_dsn: str = ""
    """The hub's database as its owner (the CPU meter finds its backends by name)."""

    @property
    def services(self) -> list[Service]:
        return [self.hub, *self.desks.values()]

    def pids(self) -> dict[str, list[int]]:
        """'hub' and 'desks' -> their process ids."""
        def pid(service: Service) -> list[int]:
            return [service.process.pid] if service.process is not None else []
        return {"desks": [p for d in self.desks.values() for p in pid(d)], "hub": pid(self.hub)}

    @property
    def databases(self) -> list[str]:
        return [dsn.rsplit("/", 1)[1] for dsn in (self.hub_dsn, *self.desk_dsns.values()) if dsn]

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()


Running = tuple[Installation, aiohttp.ClientSession, Path]
"""A started installation, the HTTP session that talks to it, and its log folder."""


async def prepare(scratch: Scratch) -> Installation:
    """Create vhost and databases, migrate, load the registry, declare queues."""
    vhost = await scratch.new_vhost("e2e")
    amqp_url = f"{AMQP}/{vhost}"
    hub_dsn = scratch.database("hub")
    desk_dsns = {region: scratch.database(f"desk_{region}") for region in DESKS}
    template = f"{PG}/xbench_desk_{{region}}_{scratch.suffix}"
    hub_settings = HubSettings(database_url=hub_dsn, amqp_url=amqp_url,
                               rabbit_admin_url=ADMIN, log_level="WARNING")
    passwords = {key: secrets.token_urlsafe(16) for key in ("hub", *DESKS)}
    setup = SetupSettings(desks=",".join(f"{r}:{p.replace(',', '+')}"
                                         for r, p in DESKS.items()),
                          desk_dsn_template=template, admin_amqp_url=amqp_url,
                          amqp_passwords=passwords)
    _, urls = await set_up(hub_settings, setup)
    scratch.users += [user_of(url) for url in urls.values()]
    for region, dsn in desk_dsns.items():
        await add_investigators(dsn, BUREAUS[region])
    # the services log in as their roles (set-up migrated as the owner and granted them)
    return Installation(vhost, hub_service(db.role_dsn(hub_dsn, "hub"), urls["hub"]),
                        {r: desk_service(r, db.role_dsn(dsn, "desk"), urls[r])
                         for r, dsn in desk_dsns.items()},
                        desk_dsns, hub_dsn)


async def add_investigators(dsn: str, bureaus: tuple[str, ...]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for code in bureaus:
            await investigators.add(conn, f"bench {code}", code, token=token(code))
    finally:
        await conn.close()


def hub_service(dsn: str, amqp_url: str) -> Service:
    port = free_port()
    return Service("hub", "services.hub", port, {
        "XIECHA_HUB_DATABASE_URL": dsn, "XIECHA_HUB_AMQP_URL": amqp_url,
        "XIECHA_HUB_RABBIT_ADMIN_URL": ADMIN, "XIECHA_HUB_HTTP_PORT": str(port),
        "XIECHA_HUB_LOG_LEVEL": "WARNING", "XIECHA_HUB_DB_POOL_SIZE": POOL,
    })


def desk_service(region: str, dsn: str, amqp_url: str) -> Service:
    port = free_port()
    return Service(f"desk-{region}", "services.desk", port, {
        "XIECHA_DESK_REGION": region, "XIECHA_DESK_PROVINCES": DESKS[region],
        "XIECHA_DESK_DATABASE_URL": dsn, "XIECHA_DESK_AMQP_URL": amqp_url,
        "XIECHA_DESK_HTTP_PORT": str(port), "XIECHA_DESK_LOG_LEVEL": "WARNING",
        "XIECHA_DESK_DB_POOL_SIZE": POOL,
        # one simulated investigator per bureau calls far faster than a person
        "XIECHA_DESK_TOKEN_RATE": "100000", "XIECHA_DESK_TOKEN_BURST": "100000",
    })


async def start(inst: Installation, session: aiohttp.ClientSession, log_dir: Path) -> None:
    """Start the hub and the desks; return once every desk has the partner registry."""
    for service in inst.services:
        await service.start(log_dir)
    await inst.hub.ready(session)
    for desk in inst.desks.values():
        body = await desk.ready(session)
        version = body.get("registry_version")
        if not isinstance(version, int) or version <= 0:
            raise RuntimeError(f"{desk.name} reports registry_version {version!r}")
        say(f"  {desk.name} ready on {desk.url}, registry version {version}")


LOGS = Path("logs")
"""Where a death notice points when the caller names no log folder."""


async def watch(inst: Installation, log_dir: Path = LOGS, every: float = 1.0) -> None:
    """Raise as soon as a service process dies (a stop or ``Service.kill`` is meant, not
    a death), naming it and its exit code; runs until cancelled."""
    while True:
        for service in inst.services:
            if service.died:
                raise RuntimeError(service.death_notice(log_dir))
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def watched(inst: Installation, log_dir: Path) -> AsyncIterator[list[str]]:
    """Say at once when a service dies while the block runs, and fail at its end naming
    each (a test whose system crashed would otherwise only time out somewhere)."""
    deaths: list[str] = []

    async def note() -> None:
        seen: set[int] = set()
        while True:
            for service in inst.services:
                if service.died and id(service.process) not in seen:
                    seen.add(id(service.process))
                    deaths.append(service.death_notice(log_dir))
                    say(deaths[-1])
            await asyncio.sleep(0.5)

    task = asyncio.create_task(note())
    try:
        yield deaths
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if deaths:
        raise RuntimeError("; ".join(deaths))


@contextlib.asynccontextmanager
async def installed(log_prefix: str) -> AsyncIterator[Running]:
    """The hub and the desks as processes on a fresh vhost and databases (as ``make run``
    starts them), watched for deaths nobody meant, stopped and removed afterwards."""
    scratch = Scratch()
    logs = Path(tempfile.mkdtemp(prefix=log_prefix))
    async with aiohttp.ClientSession() as session:
        try:
            inst = await prepare(scratch)
            try:
                await start(inst, session, logs)
                async with watched(inst, logs):  # a death nobody meant fails the block
                    yield inst, session, logs
            finally:
                await inst.stop()
        finally:
            await scratch.close()


async def guarded(inst: Installation, work: Awaitable[T]) -> T:
    """Await ``work``, failing early if a service process dies meanwhile."""
    return await first_of(work, watch(inst))


async def first_of(work: Awaitable[T], background: Awaitable[None]) -> T:
    """``work``'s result; ``background`` runs beside it and fails it if it fails."""
    task, helper = asyncio.ensure_future(work), asyncio.ensure_future(background)
    try:
        await asyncio.wait({task, helper}, return_when=asyncio.FIRST_COMPLETED)
        if helper.done():
            helper.result()
        return task.result()
    finally:
        for t in (task, helper):
            t.cancel()
        await asyncio.gather(task, helper, return_exceptions=True)
