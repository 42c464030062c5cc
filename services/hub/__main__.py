"""Command line of the hub: ``python -m services.hub serve|load-registry|dead-letters``."""

from __future__ import annotations

import asyncio

import typer

from protocol import routing
from services.common import db, dead_letters_cli, topology
from services.common.logs import configure_logging
from services.common.serve import run
from services.hub.app import create_app
from services.hub.registry_loader import load_registry
from services.hub.settings import HubSettings

cli = typer.Typer(add_completion=False, help=__doc__)


def _dead_letter_queues() -> tuple[str, list[str]]:
    queues = [routing.dead_letter_queue(q.name) for q in topology.queues_for("hub")]
    return HubSettings().amqp_url, queues


cli.add_typer(dead_letters_cli.group(_dead_letter_queues), name="dead-letters")


@cli.command()
def serve() -> None:
    """Run the hub's HTTP API and bus consumers until Ctrl-C."""
    s = HubSettings()
    configure_logging("hub", s.log_level)
    app = create_app(s.database_url, s.amqp_url, concurrency=s.consumer_concurrency,
                     pool_size=s.db_pool_size)
    run(app, s.http_host, s.http_port)


@cli.command("load-registry")
def load_registry_cmd() -> None:
    """(Re)load the partner registry; desks receive a changed one over the bus."""
    s = HubSettings()
    configure_logging("hub", s.log_level)

    async def go() -> int:
        await db.ensure_database(s.database_url)
        await db.migrate(s.database_url, "hub")
        pool = await db.open_pool(s.database_url, min_size=1, max_size=1)
        async with pool.acquire() as conn:
            version = await load_registry(conn, s.agreements_csv)
        await pool.close()
        return version

    typer.echo(f"registry version {asyncio.run(go())}")


if __name__ == "__main__":
    cli()
