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
import shutil
import signal
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

import aiohttp
import typer

from bench import cpu, environment, observe, openloop, raw_broker, traffic
from bench.bell import InboxBells
from bench.environment import AMQP, PG, Installation, Scratch, say
from bench.report import Bus, EndToEnd, Result
from services.common.logs import configure_logging

T = TypeVar("T")


@dataclass
class Options:
    n: int
    window: int
    concurrency: int
    patience: float
    rate: float | None
    """Open loop only, at this rate."""
    phase_seconds: float


@dataclass
class Measured:
    e2e: EndToEnd | None
    cpu_ms: dict[str, float]
    phases: list[openloop.Phase]
    checks: int
    hub_replied: int


async def closed_loop(inst: Installation, api: traffic.Api, home: observe.HomeWatch,
                      meter: cpu.CpuMeter, opts: Options,
                      progress: traffic.Progress) -> tuple[EndToEnd, dict[str, float]]:
    """N checks, ``window`` creates in flight; figures and CPU ms per check by component."""
    say(f"closed loop: {opts.n} checks, window {opts.window} ...")
    urls = {region: desk.url for region, desk in inst.desks.items()}
    before = await meter.reading()
    await traffic.create_all(api, urls, traffic.plan(opts.n), opts.window, progress)
    stamps = await home.wait_for(opts.n)
    await observe.wait_hub_replied(api.session, inst.hub.url, opts.n)
    used = cpu.used_between(before, await meter.reading())
    return EndToEnd.from_stamps(stamps), {k: 1000 * v / opts.n for k, v in used.items()}


async def load(inst: Installation, api: traffic.Api, home: observe.HomeWatch,
               meter: cpu.CpuMeter, opts: Options, progress: traffic.Progress) -> Measured:
    """The closed loop (unless a fixed rate is asked for), then the open-loop phases."""
    e2e: EndToEnd | None = None
    cpu_ms: dict[str, float] = {}
    done = 0
    if opts.rate is None:
        e2e, cpu_ms = await closed_loop(inst, api, home, meter, opts, progress)
        done = opts.n
        rates = [(f"{p} %", e2e.round_trips_per_s * p / 100) for p in (25, 50, 80)]
    else:
        rates = [("fixed", opts.rate)]
    urls = {region: desk.url for region, desk in inst.desks.items()}
    phases = []
    for label, rate in rates:
        say(f"open loop at {label} ({rate:.1f}/s) for {opts.phase_seconds:.0f} s ...")
        phases.append(await openloop.phase(label, api, urls, home, meter, rate,
                                           opts.phase_seconds, done, progress))
        say("  " + phases[-1].line())
        done += phases[-1].checks
    figures = await observe.wait_hub_replied(api.session, inst.hub.url, done)
    assert figures["replied"] == done, (figures["replied"], done)
    say(f"  hub counted replied: {figures['replied']} of {done}")
    return Measured(e2e, cpu_ms, phases, done, figures["replied"])


async def answering(inst: Installation, api: traffic.Api, bells: InboxBells,
                    opts: Options, progress: traffic.Progress) -> None:
    """Every bureau's simulated investigator, until cancelled."""
    async with asyncio.TaskGroup() as tg:
        for region, desk in inst.desks.items():
            for bureau in environment.BUREAUS[region]:
                tg.create_task(traffic.answer_all(api, desk.url, bureau, None,
                                                  opts.concurrency, progress,
                                                  bells.bells[bureau]))


async def measure(inst: Installation, session: aiohttp.ClientSession,
                  opts: Options) -> Measured:
    progress, api = traffic.Progress(), traffic.Api(session)
    meter = cpu.CpuMeter(inst.pids(), f"{PG}/postgres", inst.databases)
    async with observe.HomeWatch(inst.desk_dsns) as home, InboxBells(inst.desk_dsns) as bells:
        def line() -> str:
            return f"  {progress.line()}, recorded at home {home.recorded}"

        ticker = asyncio.create_task(observe.report_every(5.0, line, say))
        meter.start()
        try:
            async with asyncio.timeout(opts.patience):
                return await environment.guarded(
                    inst, first_of(load(inst, api, home, meter, opts, progress),
                                   answering(inst, api, bells, opts, progress)))
        except TimeoutError:
            raise RuntimeError(f"not finished within {opts.patience:.0f} s: {line()}") from None
        finally:
            ticker.cancel()
            await meter.stop()


async def first_of(work: Awaitable[T], background: Awaitable[None]) -> T:
    """``work``'s result; ``background`` runs beside it and fails it if it fails."""
    task, helper = asyncio.ensure_future(work), asyncio.ensure_future(background)
    try:
        await asyncio.wait({task, helper}, return_when=asyncio.FIRST_COMPLETED)
        if helper.done():
            helper.result()
        return task.result()
    finally:
        for t in (task, helper):
            t.cancel()
        await asyncio.gather(task, helper, return_exceptions=True)


async def bus_counts(inst: Installation, session: aiohttp.ClientSession, n: int) -> Bus:
    figures = await observe.hub_figures(session, inst.hub.url)

    def settled(counts: dict[str, int]) -> bool:
        inbox = sum(v for k, v in counts.items() if k.endswith(".inbox"))
        return inbox >= 4 * n and counts.get("xiecha.v1.hub.events", 0) >= 5 * n

    return Bus(figures, await observe.settled_publishes(inst.vhost, settled))


async def run(opts: Options) -> Result:
    """Set up, measure end to end, then the bare broker; always remove what was made."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # clean up too
    scratch, log_dir = Scratch(), Path(tempfile.mkdtemp(prefix="xiecha-bench-"))
    inst: Installation | None = None
    finished = False
    try:
        say(f"setting up a fresh installation (suffix {scratch.suffix}) ...")
        inst = await environment.prepare(scratch)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await environment.start(inst, session, log_dir)
            measured = await measure(inst, session, opts)
            bus = await bus_counts(inst, session, measured.checks)
        await inst.stop()
        say(f"raw broker: {opts.n} round trips, window {opts.window} ...")
        vhost = await scratch.new_vhost("raw")
        async with asyncio.timeout(opts.patience):
            raw = await raw_broker.measure(f"{AMQP}/{vhost}", opts.n, opts.window)
        finished = True
        return Result(opts.n, opts.window, measured.e2e, raw, measured.hub_replied, bus,
                      measured.cpu_ms, measured.phases, measured.checks)
    finally:
        if inst is not None:
            await inst.stop()
        await scratch.close()
        if finished:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"service logs kept in {log_dir}")


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
) -> None:
    """Measure end-to-end checks against the bare broker's ceiling."""
    configure_logging("bench", "WARNING")
    opts = Options(requests, window, concurrency, timeout, rate, phase_seconds)
    try:
        result = asyncio.run(run(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted; the services were stopped and the vhosts and databases removed")
        raise typer.Exit(130) from None
    typer.echo(result.as_json() if json_out else result.table())


if __name__ == "__main__":
    cli()
