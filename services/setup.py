"""One-shot set-up of a whole installation: ``python -m services.setup``.

Creates and migrates the hub's and every desk's database (as their owner), grants the
services' login roles their rows (``db.grant_service_role``), makes each desk's SM2 key
if it has none, loads the partner
registry, and provisions the broker (``provision_broker``): the vhost, its policies,
every queue declared up front (so a message for a desk that has not started yet waits
in its queue instead of coming back undeliverable), and one RabbitMQ user per desk and
for the hub with the permissions of ``protocol/topology.py``. Safe to run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import typer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol import topology as names
from services.common import db, sm2, topology
from services.common.desks import default_desks, desk_list
from services.common.logs import configure_logging
from services.common.paths import desk_key_file, keys_dir
from services.common.rabbit_admin import RabbitAdmin
from services.common.trust import service_url, vhost_of
from services.hub.registry_loader import load_registry
from services.hub.settings import HubSettings

Desks = Sequence[tuple[str, Sequence[str]]]
"""(region, provinces) of every desk."""
class SetupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIECHA_SETUP_", frozen=True)

    desks: str = Field(default_factory=default_desks)
    """Comma-separated region:provinces, provinces joined by '+', e.g. zj:33,south:44+45."""
    desk_dsn_template: str = "postgresql://postgres:postgres@127.0.0.1:5432/xiecha_desk_{region}"
    admin_amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    """The broker's admin identity, which declares the topology (the vhost is the path)."""
    amqp_passwords: dict[str, str] = {}
    """Password of each service's broker user, by 'hub' or desk region (JSON)."""
    db_passwords: dict[str, str] = {}
    """Password of the services' database roles xiecha_desk and xiecha_hub, by 'desk' or
    'hub' (JSON); none set where PostgreSQL trusts local connections."""

    def desk_list(self) -> list[tuple[str, list[str]]]:
        return desk_list(self.desks)


def users(desks: Desks, vhost: str) -> dict[str, names.User]:
    """The broker user of the hub and of each desk (by region), on ``vhost``."""
    out = {"hub": names.user_for("hub", vhost=vhost)}
    return out | {region: names.user_for("desk", region, provinces, vhost)
                  for region, provinces in desks}


async def provision_broker(
    admin: RabbitAdmin, admin_amqp_url: str, desks: Desks, passwords: Mapping[str, str]
) -> dict[str, str]:
    """Vhost, policies, topology and users; returns each service's AMQP URL by 'hub' or
    region. The one provisioning of the broker: setup, demo, tests and compose use it."""
    vhost = vhost_of(admin_amqp_url)
    missing = [key for key in ("hub", *(r for r, _ in desks)) if not passwords.get(key)]
    if missing:
        raise ValueError(f"no broker password for {', '.join(missing)}"
                         " (XIECHA_SETUP_AMQP_PASSWORDS)")
    await admin.create_vhost(vhost, urlsplit(admin_amqp_url).username or "guest")
    await admin.apply_policies(vhost)
    connection = await aio_pika.connect(admin_amqp_url)
    async with connection:
        channel = await connection.channel()
        await topology.declare_all(channel, "hub")
        for region, provinces in desks:
            await topology.declare_all(channel, "desk", region, provinces)
    urls = {}
    for key, user in users(desks, vhost).items():
        await admin.put_user(user, passwords[key], vhost)
        urls[key] = service_url(admin_amqp_url, user.name, passwords[key])
    return urls


async def set_up(hub: HubSettings, setup: SetupSettings) -> tuple[int, dict[str, str]]:
    """Prepare broker, databases and registry; returns the registry version and each
    service's AMQP URL (by 'hub' or region)."""
    urls = await provision_broker(RabbitAdmin(hub.rabbit_admin_url), setup.admin_amqp_url,
                                  setup.desk_list(), setup.amqp_passwords)
    keys = Path(hub.desk_keys_dir) if hub.desk_keys_dir else keys_dir()
    for region, _ in setup.desk_list():
        sm2.ensure_key(desk_key_file(region, keys))  # a laptop's demo: every desk's key here
        dsn = setup.desk_dsn_template.format(region=region)
        await db.ensure_database(dsn)
        await db.migrate(dsn, "desk")
        await db.grant_service_role(dsn, "desk", setup.db_passwords.get("desk", ""))
    await db.ensure_database(hub.database_url)
    await db.migrate(hub.database_url, "hub")
    await db.grant_service_role(hub.database_url, "hub", setup.db_passwords.get("hub", ""))
    pool = await db.open_pool(hub.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await load_registry(conn, hub.agreements_csv, hub.desk_keys()), urls
    finally:
        await pool.close()


def main() -> None:
    hub, setup = HubSettings(), SetupSettings()
    configure_logging("setup", hub.log_level)
    version, _ = asyncio.run(set_up(hub, setup))
    typer.echo(f"xiecha set up: registry version {version}, desks {setup.desks}")


if __name__ == "__main__":
    typer.run(main)
