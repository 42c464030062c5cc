"""Command line of the hub: ``python -m services.hub serve|load-registry|simulate-history|
dead-letters``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path

import typer

from protocol import routing
from services.common import db, dead_letters_cli, topology
from services.common.logs import configure_logging
from services.common.serve import run
from services.hub.app import create_app
from services.hub.history import Plan
from services.hub.history_loader import Loaded, load_history
from services.hub.map_data import PageConfig, parse_desks
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
    pages = PageConfig(parse_desks(s.desks), s.map_approval_number)
    app = create_app(s.database_url, s.broker_url, concurrency=s.consumer_concurrency,
                     pool_size=s.db_pool_size, page_config=pages, desk_keys=s.desk_keys())
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
            version = await load_registry(conn, s.agreements_csv, s.desk_keys())
        await pool.close()
        return version

    typer.echo(f"registry version {asyncio.run(go())}")


@cli.command("simulate-history")
def simulate_history(
    checks: int = typer.Option(1_210_000, min=1, help="completed checks to reach"),
    years: int = typer.Option(5, min=1, max=20, help="years of history up to yesterday"),
    seed: int = typer.Option(2026),
) -> None:
    """Fill a fresh hub with a multi-year history through the live counting code."""
    s = HubSettings()
    configure_logging("hub", s.log_level)
    end = dt.date.today() - dt.timedelta(days=1)
    plan = Plan(checks, end.replace(year=end.year - years), end, seed)

    async def go() -> tuple[Loaded, float]:
        await db.ensure_database(s.database_url)
        await db.migrate(s.database_url, "hub")
        pool = await db.open_pool(s.database_url, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                if not await conn.fetchval("SELECT count(*) FROM registry_state"):
                    await load_registry(conn, s.agreements_csv, s.desk_keys())
                backend = await conn.fetchval("SELECT pg_backend_pid()")
                with typer.progressbar(length=checks, label="checks") as bar:
                    loaded = await load_history(conn, plan, bar.update)
                return loaded, _cpu_seconds(backend)
        finally:
            await pool.close()

    try:
        done, pg_cpu = asyncio.run(go())
    except ValueError as exc:
        typer.echo(f"simulate-history: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{checks} completed checks in {done.requests} requests ({done.events} events,"
               f" {done.counter_rows} counter rows) loaded in {done.seconds:.1f} s"
               f" (counting {done.counting_seconds:.1f} s, writing"
               f" {done.seconds - done.counting_seconds:.1f} s); CPU used: this process"
               f" {time.process_time():.1f} s, its PostgreSQL backend {pg_cpu:.1f} s"
               f" (load average {os.getloadavg()[0]:.1f})")


def _cpu_seconds(pid: int) -> float:
    """CPU time of a local process (the database backend), from /proc; 0 if not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    cli()
