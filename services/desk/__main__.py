"""Command line of a regional desk: ``python -m services.desk
serve|migrate|add-investigator|verify``."""

from __future__ import annotations

import asyncio
import uuid

import typer

from services.common import db
from services.common.logs import configure_logging
from services.common.serve import run
from services.desk.app import create_app
from services.desk.settings import DeskSettings
from services.desk.store import investigators
from services.desk.verify import verify_request

cli = typer.Typer(add_completion=False, help=__doc__)


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
def verify(request_id: uuid.UUID) -> None:
    """Check a request's timeline chain here; exit 1 and name the entry if it is broken."""
    settings = DeskSettings()

    async def go() -> tuple[bool, str]:
        pool = await db.open_pool(settings.dsn, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                return await verify_request(conn, request_id)
        finally:
            await pool.close()

    ok, verdict = asyncio.run(go())
    typer.echo(verdict)
    if not ok:
        raise typer.Exit(1)


if __name__ == "__main__":
    cli()
