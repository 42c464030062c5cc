"""Command line of a regional desk: ``python -m services.desk serve|migrate|add-investigator|
rotate-token|revoke-token|list-investigators|verify|dead-letters|parked``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
from services.desk.verify import ask, compared, verify_request

T = TypeVar("T")
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


async def _with_conn(
    settings: DeskSettings, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run ``work`` on one connection to the desk's migrated database."""
    await db.ensure_database(settings.dsn)
    await db.migrate(settings.dsn, "desk")
    pool = await db.open_pool(settings.dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await work(conn)
    finally:
        await pool.close()


def _until(settings: DeskSettings, days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days or settings.token_days)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise typer.BadParameter("--id must be an investigator's id (see list-investigators)")\
            from None


@cli.command("add-investigator")
def add_investigator(
    name: str = typer.Option(..., help="Display name"),
    bureau: str = typer.Option(..., help="6-digit code of the investigator's bureau"),
    token: str = typer.Option("", help="Token to use (a random one by default)"),
    role: str = typer.Option("investigator", help="investigator or coordinator"),
    days: int = typer.Option(0, help="Days the token stays valid (XIECHA_DESK_TOKEN_DAYS)"),
) -> None:
    """Register an investigator and print the bearer token (a token someone else holds is
    refused, never moved)."""
    if role not in ("investigator", "coordinator"):
        raise typer.BadParameter("role must be investigator or coordinator")
    settings = DeskSettings()

    async def issue(conn: asyncpg.Connection) -> str:
        _, issued = await investigators.add(conn, name, bureau, role, token=token or None,
                                            expires_at=_until(settings, days))
        return issued

    try:
        typer.echo(asyncio.run(_with_conn(settings, issue)))
    except investigators.TokenTaken as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None


@cli.command("rotate-token")
def rotate_token(
    investigator: str = typer.Option(..., "--id", help="The investigator's id"),
    days: int = typer.Option(0, help="Days the new token stays valid"),
) -> None:
    """Issue a new token for an investigator and print it; the old one stops working."""
    settings = DeskSettings()
    who, until = _uuid(investigator), _until(settings, days)
    new = asyncio.run(_with_conn(settings, lambda c: investigators.rotate(c, who, until)))
    if new is None:
        typer.echo("no such investigator", err=True)
        raise typer.Exit(1)
    typer.echo(new)


@cli.command("revoke-token")
def revoke_token(
    investigator: str = typer.Option(..., "--id", help="The investigator's id"),
) -> None:
    """Revoke an investigator's token (effective within 5 seconds on running desks)."""
    who = _uuid(investigator)
    if not asyncio.run(_with_conn(DeskSettings(), lambda c: investigators.revoke(c, who))):
        typer.echo("no such investigator", err=True)
        raise typer.Exit(1)
    typer.echo("revoked")


@cli.command("list-investigators")
def list_investigators() -> None:
    """Every investigator: id, bureau, role, name, token expiry and revocation (no tokens)."""
    for row in asyncio.run(_with_conn(DeskSettings(), investigators.listing)):
        revoked = row["revoked_at"].isoformat() if row["revoked_at"] else "-"
        typer.echo(f"{row['id']}\t{row['bureau']}\t{row['role']}\t{row['name']}\t"
                   f"expires {row['expires_at'].isoformat()}\trevoked {revoked}")


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


@cli.command()
def verify(request_id: uuid.UUID,
           compare: bool = typer.Option(True, help="also compare with the other party's desk"),
           wait: float = typer.Option(30.0, help="seconds to wait for the other desk")) -> None:
    """Check a request's timeline chain and signatures here, then (``--compare``) against
    the other party's desk over the bus (the desk must be running); exit 1 and name the
    first entry that fails or differs, 2 when the other desk did not answer in time."""
    settings = DeskSettings()
    ok, verdict = asyncio.run(_verify(settings, request_id, compare, wait))
    typer.echo(verdict)
    if not ok:
        raise typer.Exit(2 if "did not answer" in verdict else 1)


async def _verify(settings: DeskSettings, request_id: uuid.UUID, compare: bool,
                  wait: float) -> tuple[bool, str]:
    pool = await db.open_pool(settings.dsn, min_size=1, max_size=1)  # its JSON codec
    try:
        async with pool.acquire() as conn:
            return await _verify_with(conn, settings, request_id, compare, wait)
    finally:
        await pool.close()


async def _verify_with(conn: asyncpg.Connection, settings: DeskSettings,
                       request_id: uuid.UUID, compare: bool, wait: float) -> tuple[bool, str]:
    ok, verdict = await verify_request(conn, request_id)
    if not ok or not compare:
        return ok, verdict
    check = await ask(conn, request_id, settings.hosts, dt.datetime.now(dt.UTC))
    if not isinstance(check, uuid.UUID):
        return ok, f"{verdict}\n{check}"
    deadline = asyncio.get_running_loop().time() + wait
    while (result := await compared(conn, check)) is None:
        if asyncio.get_running_loop().time() > deadline:
            return False, f"{verdict}\nthe other desk did not answer within {wait:g} s"
        await asyncio.sleep(0.2)  # a person waits at the terminal; the answer comes by bus
    return result[0], f"{verdict}\n{result[1]}"


if __name__ == "__main__":
    cli()
