"""``python -m bench.roundtrip [--requests 2000] [--window 64] [--rate R] [--json]``.

Measures xiecha end to end on a throw-away installation (fresh vhost, fresh
databases, the hub and four desks as separate processes). Closed loop: N requests,
each from a bureau to one in another region, created through the HTTP API (at most
``window`` creates in flight), accepted and answered by simulated investigators
through the API. A check is complete when the reply is recorded at the requester's
desk. Reported: checks per second (N / wall time from the first create to the last
reply recorded at home), latency (reply recorded at home minus request created), CPU
milliseconds per check of each component (bench/cpu.py); then open-loop phases at
25, 50 and 80 % of that sustainable rate (bench/openloop.py; ``--rate R`` runs one
phase at R instead of all this); the hub's count of replies, which must equal the
checks made; and, on the same broker, the ceiling of a bare aio-pika request/reply
with the same guarantees (bench/raw_broker.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import aiohttp
import typer

from bench import harness, observe, openloop, raw_broker
from bench.environment import AMQP, Installation, say
from bench.harness import Options, Run
from bench.report import Bus, EndToEnd, Result
from services.common.logs import configure_logging


@dataclass
class Measured:
    e2e: EndToEnd | None
    cpu_ms: dict[str, float]
    phases: list[openloop.Phase]
    checks: int
    hub_replied: int


async def load(run: Run) -> Measured:
    """The closed loop (unless a fixed rate is asked for), then the open-loop phases."""
    e2e: EndToEnd | None = None
    cpu_ms: dict[str, float] = {}
    done = 0
    if run.opts.rate is None:
        e2e, cpu_ms = await harness.closed_loop(run)
        done = run.opts.n
        rates = [(f"{p} %", e2e.round_trips_per_s * p / 100) for p in (25, 50, 80)]
    else:
        rates = [("fixed", run.opts.rate)]
    phases = []
    for label, rate in rates:
        say(f"open loop at {label} ({rate:.1f}/s) for {run.opts.phase_seconds:.0f} s ...")
        phases.append(await openloop.phase(label, run, rate, run.opts.phase_seconds, done))
        say("  " + phases[-1].line())
        done += phases[-1].checks
    replied = await observe.hub_counted_exactly(run.api.session, run.inst.hub.url, done)
    return Measured(e2e, cpu_ms, phases, done, replied)


async def bus_counts(inst: Installation, session: aiohttp.ClientSession, n: int) -> Bus:
    figures = await observe.hub_figures(session, inst.hub.url)

    def settled(counts: dict[str, int]) -> bool:
        inbox = sum(v for k, v in counts.items() if k.endswith(".inbox"))
        return inbox >= 4 * n and counts.get("xiecha.v1.hub.events", 0) >= 5 * n

    return Bus(figures, await observe.settled_publishes(inst.vhost, settled))


async def run(opts: Options) -> Result:
    """Set up, measure end to end, then the bare broker; always remove what was made."""
    async with harness.installation() as (scratch, inst, session):
        measured = await harness.measure(inst, session, opts, load)
        bus = await bus_counts(inst, session, measured.checks)
        await inst.stop()
        say(f"raw broker: {opts.n} round trips, window {opts.window} ...")
        vhost = await scratch.new_vhost("raw")
        async with asyncio.timeout(opts.patience):
            raw = await raw_broker.measure(f"{AMQP}/{vhost}", opts.n, opts.window)
    return Result(opts.n, opts.window, measured.e2e, raw, measured.hub_replied, bus,
                  measured.cpu_ms, measured.phases, measured.checks)


cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@cli.command()
def main(
    requests: Annotated[int, typer.Option(min=1, help="Round trips to make.")] = 2000,
    window: Annotated[int, typer.Option(min=1, help="Creates (publishes) in flight.")] = 64,
    json_out: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    concurrency: Annotated[int, typer.Option(
        min=1, help="Answers in flight per recipient bureau.")] = 16,
    timeout: Annotated[float, typer.Option(help="Seconds before a phase fails.")] = 900.0,
    rate: Annotated[float | None, typer.Option(
        min=0.1, help="Open loop only: offer this many checks per second.")] = None,
    phase_seconds: Annotated[float, typer.Option(
        min=1, help="Length of each open-loop phase.")] = 20.0,
    profile: Annotated[Path | None, typer.Option(
        help="py-spy the services for 20 s of the closed loop into this folder.")] = None,
) -> None:
    """Measure end-to-end checks against the bare broker's ceiling."""
    configure_logging("bench", "WARNING")
    opts = Options(requests, window, concurrency, timeout, rate, phase_seconds, profile)
    try:
        result = asyncio.run(run(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted; the services were stopped and the vhosts and databases removed")
        raise typer.Exit(130) from None
    typer.echo(result.as_json() if json_out else result.table())


if __name__ == "__main__":
    cli()
