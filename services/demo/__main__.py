"""``python -m services.demo``: set up, start the hub and four desks, show them working."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from pathlib import Path
from typing import Annotated

import aiohttp
import typer

from protocol.provinces import rest_of
from services.common import db
from services.common.desks import OWN_DESKS, REST_REGION
from services.common.logs import configure_logging
from services.demo.processes import Service, busy_ports, first_death
from services.demo.traffic import DEMO_BUREAUS, DEMO_COORDINATORS, Traffic, demo_token
from services.desk.store import investigators
from services.hub.settings import HubSettings
from services.setup import SetupSettings, set_up

# Three regions' own desks and the one for every other province: every signed partner
# is reachable out of the box.
PROVINCES = {**OWN_DESKS, REST_REGION: ",".join(rest_of(OWN_DESKS.values()))}


def services(base_port: int, setup: SetupSettings, amqp: dict[str, str]) -> list[Service]:
    """The hub and the desks, each connecting to the broker as its own user (``amqp``)."""
    roles = setup.db_passwords  # the services log in as their roles, not as the owner
    hub = Service("hub", "services.hub", base_port, {
        "XIECHA_HUB_HTTP_PORT": str(base_port), "XIECHA_HUB_AMQP_URL": amqp["hub"],
        "XIECHA_HUB_DATABASE_URL": db.role_dsn(HubSettings().database_url, "hub",
                                               roles.get("hub", ""))})
    desks = [
        Service(f"desk-{region}", "services.desk", base_port + i, {
            "XIECHA_DESK_REGION": region, "XIECHA_DESK_PROVINCES": provinces,
            "XIECHA_DESK_HTTP_PORT": str(base_port + i), "XIECHA_DESK_AMQP_URL": amqp[region],
            "XIECHA_DESK_DATABASE_URL": db.role_dsn(
                setup.desk_dsn_template.format(region=region), "desk", roles.get("desk", "")),
        })
        for i, (region, provinces) in enumerate(PROVINCES.items(), start=1)
    ]
    return [hub, *desks]


async def add_demo_investigators(setup: SetupSettings) -> None:
    for region, bureaus in DEMO_BUREAUS.items():
        pool = await db.open_pool(setup.desk_dsn_template.format(region=region), min_size=1,
                                  max_size=1)
        async with pool.acquire() as conn:
            for code, name in bureaus:
                await investigators.add(conn, name, code, token=demo_token(code))
            code, name = DEMO_COORDINATORS[region]
            await investigators.add(conn, name, code, "coordinator", token=demo_token(code))
        await pool.close()


def banner(procs: list[Service]) -> str:
    lines = ["", "xiecha is running.", f"  hub  {procs[0].url}/v1/stats"]
    lines += [f"  {p.name}  {p.url}" for p in procs[1:]]
    lines += ["", "Workspace in the browser: open a desk's URL and sign in with its investigator's"
                  " token (e.g. desk-zj, token demo-330110).",
              "Demo investigators (sign-in token; also Authorization: Bearer <token>):"]
    for region, bureaus in DEMO_BUREAUS.items():
        lines += [f"  desk-{region}  {code} {name:<8} token {demo_token(code)}"
                  for code, name in [*bureaus, DEMO_COORDINATORS[region]]]
    lines += ["", "Try:  curl -H 'Authorization: Bearer demo-330110'"
                  f" '{procs[1].url}/v1/requests?box=outbox'",
              "Logs: .run/logs/   Stop: Ctrl-C", ""]
    return "\n".join(lines)


async def main_async(traffic: bool, interval: float, base_port: int, log_dir: Path) -> int:
    ports = [base_port + i for i in range(len(PROVINCES) + 1)]
    if busy := busy_ports(ports):
        typer.echo(f"xiecha: ports {', '.join(map(str, busy))} are already in use (is `make run`"
                   " running already?). Stop it, or pass ARGS=--base-port=9100.", err=True)
        return 1
    desks = ",".join(f"{r}:{p.replace(',', '+')}" for r, p in PROVINCES.items())
    # The laptop demo's broker users get fresh passwords each run; guest only sets them up.
    passwords = {key: secrets.token_urlsafe(16) for key in ("hub", *PROVINCES)}
    setup = SetupSettings(desks=desks, amqp_passwords=passwords, db_passwords={
        "desk": secrets.token_urlsafe(16), "hub": secrets.token_urlsafe(16)})
    version, amqp = await set_up(HubSettings(), setup)
    typer.echo(f"databases migrated, queues declared, partner registry version {version}")
    await add_demo_investigators(setup)
    procs = services(base_port, setup, amqp)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failed = 0
    async with aiohttp.ClientSession() as session:
        try:
            for p in procs:
                await p.start(log_dir)
            for p in procs:
                await p.ready(session)
            typer.echo(banner(procs))
            flow = None
            if traffic:
                desk_urls = {p.name.removeprefix("desk-"): p.url for p in procs[1:]}
                flow = asyncio.create_task(Traffic(session, desk_urls).run(interval, typer.echo))
            stopping = asyncio.ensure_future(stop.wait())
            dying = asyncio.ensure_future(first_death(procs))
            await asyncio.wait({stopping, dying}, return_when=asyncio.FIRST_COMPLETED)
            if dying.done():
                typer.echo(dying.result().death_notice(log_dir), err=True)
                failed = 1
            dying.cancel()
            stopping.cancel()
            if flow is not None:
                flow.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flow
        finally:
            typer.echo("stopping ...")
            for p in reversed(procs):
                await p.stop()
    typer.echo("stopped cleanly." if not failed else "stopped.")
    return failed


def main(
    traffic: Annotated[bool, typer.Option(help="Let demo requests flow between regions.")] = True,
    interval: Annotated[float, typer.Option(help="Seconds between demo requests.")] = 2.0,
    base_port: Annotated[int, typer.Option(help="Hub port; desks take the next ports.")] = 8100,
    log_dir: Annotated[Path, typer.Option(help="Where service logs go.")] = Path(".run/logs"),
) -> None:
    configure_logging("demo", "WARNING")
    raise typer.Exit(asyncio.run(main_async(traffic, interval, base_port, log_dir)))


if __name__ == "__main__":
    typer.run(main)
