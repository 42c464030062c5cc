"""Command line of a regional desk: ``python -m services.desk serve|migrate|add-investigator|
dead-letters|parked``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import asyncpg
import typer

from protocol import routing
from services.common import db, dead_letters_cli, topology
from services.common.logs import configure_logging
from services.common.serve import run
from services.desk import parked as parked_events
from services.desk.app import create_app
from services.desk.settings import DeskSettings
from services.desk.store import investigators

cli = typer.Typer(add_completion=False, help=__doc__)


def _dead_letter_queues() -> tuple[str, list[str]]:
    s = DeskSettings()
    specs = topology.queues_for("desk", s.region, s.province_codes)
    return s.amqp_url, [routing.dead_letter_queue(q.name) for q in specs]


cli.add_typer(dead_letters_cli.group(_dead_letter_queues), name="dead-letters")


@cli.command()
def serve() -> None:
    """Run the desk's HTTP API and bus consumers until Ctrl-C."""
    settings = DeskSettings()
    configure_logging(f"desk.{settings.region}", settings.log_level)
    run(create_app(settings), settings.http_host, settings.http_port)


@cli.command()
def migrate() -> None:
    """Create the desk's database if needed and apply pending migrations."""
    settings = DeskSettings()
    configure_logging(f"desk.{settings.region}", settings.log_level)

    async def go() -> None:
        await db.ensure_database(settings.dsn)
        await db.migrate(settings.dsn, "desk")

    asyncio.run(go())


@cli.command("add-investigator")
def add_investigator(
    name: str = typer.Option(..., help="Display name"),
    bureau: str = typer.Option(..., help="6-digit code of the investigator's bureau"),
    token: str = typer.Option("", help="Token to use (a random one by default)"),
    role: str = typer.Option("investigator", help="investigator or coordinator"),
) -> None:
    """Register an investigator and print the bearer token."""
    if role not in ("investigator", "coordinator"):
        raise typer.BadParameter("role must be investigator or coordinator")
    settings = DeskSettings()

    async def go() -> str:
        await db.ensure_database(settings.dsn)
        await db.migrate(settings.dsn, "desk")
        pool = await db.open_pool(settings.dsn, min_size=1, max_size=1)
        async with pool.acquire() as conn:
            _, issued = await investigators.add(conn, name, bureau, role, token=token or None)
        await pool.close()
        return issued

    typer.echo(asyncio.run(go()))


@cli.command()
def parked(older_than: int = typer.Option(60, help="Minutes an event has waited")) -> None:
    """List events parked longer than ``--older-than`` minutes; exit 1 when there are any."""
    settings = DeskSettings()

    async def go() -> list[dict[str, object]]:
        conn = await asyncpg.connect(settings.dsn)
        try:
            return await parked_events.older_than(
                conn, dt.timedelta(minutes=older_than), dt.datetime.now(dt.UTC))
        finally:
            await conn.close()

    found = asyncio.run(go())
    for row in found:
        typer.echo(json.dumps(row))
    if found:
        raise typer.Exit(1)


if __name__ == "__main__":
    cli()
