"""One-shot set-up of a whole installation: ``python -m services.setup``.

Creates and migrates the hub's and every desk's database, loads the partner
registry, applies the RabbitMQ policies and declares every queue up front, so a
message for a desk that has not started yet waits in its queue instead of
coming back undeliverable. Safe to run again at any time.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote, urlsplit

import aio_pika
import typer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol.provinces import rest_of
from services.common import db, topology
from services.common.logs import configure_logging
from services.common.rabbit_admin import RabbitAdmin
from services.hub.registry_loader import load_registry
from services.hub.settings import HubSettings

OWN_DESKS = {"zj": "33", "gd": "44", "sc": "51"}
"""Regions with a desk of their own in the default installation."""
REST_REGION = "rest"
"""The desk that serves every province without one of its own."""


def default_desks() -> str:
    """zj:33,gd:44,sc:51,rest:11+12+...: every province has a desk."""
    rest = "+".join(rest_of(OWN_DESKS.values()))
    return ",".join([*(f"{r}:{p}" for r, p in OWN_DESKS.items()), f"{REST_REGION}:{rest}"])


class SetupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIECHA_SETUP_", frozen=True)

    desks: str = Field(default_factory=default_desks)
    """Comma-separated region:provinces, provinces joined by '+', e.g. zj:33,south:44+45."""
    desk_dsn_template: str = "postgresql://postgres:postgres@127.0.0.1:5432/xiecha_desk_{region}"

    def desk_list(self) -> list[tuple[str, list[str]]]:
        pairs = [item.split(":", 1) for item in self.desks.split(",") if item.strip()]
        return [(region.strip(), provinces.split("+")) for region, provinces in pairs]


def vhost_of(amqp_url: str) -> str:
    return unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"


async def set_up(hub: HubSettings, setup: SetupSettings) -> int:
    """Prepare databases, registry and broker; returns the registry version."""
    await RabbitAdmin(hub.rabbit_admin_url).apply_policies(vhost_of(hub.amqp_url))
    connection = await aio_pika.connect(hub.amqp_url)
    async with connection:
        channel = await connection.channel()
        await topology.declare_all(channel, "hub")
        for region, provinces in setup.desk_list():
            await topology.declare_all(channel, "desk", region, provinces)
    for region, _ in setup.desk_list():
        dsn = setup.desk_dsn_template.format(region=region)
        await db.ensure_database(dsn)
        await db.migrate(dsn, "desk")
    await db.ensure_database(hub.database_url)
    await db.migrate(hub.database_url, "hub")
    pool = await db.open_pool(hub.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await load_registry(conn, hub.agreements_csv)
    finally:
        await pool.close()


def main() -> None:
    hub, setup = HubSettings(), SetupSettings()
    configure_logging("setup", hub.log_level)
    version = asyncio.run(set_up(hub, setup))
    typer.echo(f"xiecha set up: registry version {version}, desks {setup.desks}")


if __name__ == "__main__":
    typer.run(main)
