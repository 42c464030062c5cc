"""The system under chaos: the hub and four desks as real processes on private servers.

The hub and three desks keep their databases in one private PostgreSQL cluster (the one
restarted); the fourth desk, chosen by the seed, in a second cluster (the one paused), so
pausing it stalls exactly one desk's database. The broker is provisioned as everywhere
else (``services.setup.provision_broker``: vhost, policies, topology, one user per
service) on the private node.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

from bench.environment import free_port
from protocol.provinces import rest_of
from services.common import db
from services.common.desks import OWN_DESKS, REST_REGION
from services.common.rabbit_admin import RabbitAdmin
from services.demo.processes import Service
from services.demo.traffic import DEMO_BUREAUS
from services.desk.store import investigators
from services.hub.registry_loader import load_registry
from services.setup import provision_broker
from tests.chaos.servers import Postgres, Rabbit

PROVINCES: dict[str, str] = {**OWN_DESKS, REST_REGION: ",".join(rest_of(OWN_DESKS.values()))}
"""Four desks, every province served (as ``make run``)."""
BUREAUS: dict[str, tuple[str, ...]] = {
    region: tuple(code for code, _ in bureaus) for region, bureaus in DEMO_BUREAUS.items()}
"""Two signed bureaus per desk, each with one simulated investigator."""
VHOST = "xiecha"


def token(bureau: str) -> str:
    return f"chaos-{bureau}"


def region_of(bureau: str) -> str:
    return next(r for r, codes in BUREAUS.items() if bureau in codes)


@dataclass
class Installation:
    root: Path
    main_pg: Postgres
    side_pg: Postgres
    rabbit: Rabbit
    paused_region: str
    """The desk whose database lives in ``side_pg``, the cluster that is paused."""
    hub: Service
    desks: dict[str, Service]
    dsns: dict[str, str]
    """Database of 'hub' and of each desk by region."""

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def services(self) -> list[Service]:
        return [self.hub, *self.desks.values()]

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    async def start(self, session: aiohttp.ClientSession) -> None:
        for s in self.services:
            await s.start(self.logs)
        for s in self.services:
            await s.ready(session, within=180)

    def kill(self) -> None:
        """SIGKILL every service process (teardown)."""
        for s in self.services:
            if s.process is not None and s.process.returncode is None:
                s.process.kill()


async def servers(root: Path, n: int) -> tuple[Postgres, Postgres, Rabbit]:
    """Two PostgreSQL clusters and a RabbitMQ node, started; the caller kills them."""
    main, side, rabbit = Postgres(root, "pg-main"), Postgres(root, "pg-side"), Rabbit(root, n)
    for pg in (main, side):
        await pg.init()
        await pg.start()
    await rabbit.start()
    return main, side, rabbit


async def build(root: Path, main: Postgres, side: Postgres, rabbit: Rabbit,
                paused_region: str) -> Installation:
    """Databases migrated, registry loaded, broker provisioned, investigators added."""
    dsns = {"hub": f"{main.url}/xiecha_hub"}
    for region in PROVINCES:
        cluster = side if region == paused_region else main
        dsns[region] = f"{cluster.url}/xiecha_desk_{region}"
    for key, dsn in dsns.items():
        await db.ensure_database(dsn)
        await db.migrate(dsn, "hub" if key == "hub" else "desk")
    conn = await asyncpg.connect(dsns["hub"])
    try:
        await load_registry(conn)
    finally:
        await conn.close()
    passwords = {key: secrets.token_urlsafe(16) for key in ("hub", *PROVINCES)}
    desks = [(r, p.split(",")) for r, p in PROVINCES.items()]
    urls = await provision_broker(RabbitAdmin(rabbit.admin), f"{rabbit.amqp}/{VHOST}", desks,
                                  passwords)
    for region, bureaus in BUREAUS.items():
        conn = await asyncpg.connect(dsns[region])
        try:
            for code in bureaus:
                await investigators.add(conn, f"chaos {code}", code, token=token(code))
        finally:
            await conn.close()
    hub = service("hub", "hub", database_url=dsns["hub"], amqp_url=urls["hub"],
                  rabbit_admin_url=rabbit.admin, desks=",".join(
                      f"{r}:{p.replace(',', '+')}" for r, p in PROVINCES.items()))
    desk_services = {r: service(f"desk-{r}", "desk", region=r, provinces=PROVINCES[r],
                                database_url=dsns[r], amqp_url=urls[r],
                                # simulated investigators call far faster than people
                                token_rate="100000", token_burst="100000")
                     for r in PROVINCES}
    return Installation(root, main, side, rabbit, paused_region, hub, desk_services, dsns)


def service(name: str, kind: str, **settings: str) -> Service:
    """``python -m services.<kind> serve`` on a free port with ``settings`` (as its
    XIECHA_<KIND>_* environment variables), logging warnings and errors only."""
    port = free_port()
    settings |= {"http_port": str(port), "log_level": "WARNING"}
    env = {f"XIECHA_{kind.upper()}_{key.upper()}": value for key, value in settings.items()}
    return Service(name, f"services.{kind}", port, env)
