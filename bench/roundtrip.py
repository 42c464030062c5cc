"""``python -m bench.roundtrip [--requests 2000] [--window 64] [--json]``.

Measures xiecha end to end on a throw-away installation (fresh vhost, fresh
databases, the hub and three desks as separate processes): N requests, each from
a bureau to one in another region, created through the HTTP API (at most
``window`` creates in flight), accepted and answered by simulated investigators
through the API. A round trip is complete when the reply is recorded at the
requester's desk. Reported: round trips per second (N / wall time from the first
create to the last reply recorded at home), p50 and p99 latency (reply recorded
at home minus request created), and, on the same broker, the ceiling of a bare
aio-pika request/reply with the same guarantees (bench/raw_broker.py).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated

import aiohttp
import typer

from bench import environment, observe, raw_broker, traffic
from bench.environment import AMQP, Installation, Scratch, say
from bench.report import Bus, EndToEnd, Result
from services.common.logs import configure_logging


async def drive(inst: Installation, session: aiohttp.ClientSession, home: observe.HomeWatch,
                n: int, window: int, concurrency: int,
                progress: traffic.Progress) -> list[observe.Stamp]:
    """Create, answer and wait for all ``n`` replies to be recorded at home."""
    pairs = traffic.plan(n)
    expected = Counter(recipient for _, recipient in pairs)
    urls = {region: desk.url for region, desk in inst.desks.items()}
    api = traffic.Api(session)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(traffic.create_all(api, urls, pairs, window, progress))
        for bureau, count in expected.items():
            url = urls[environment.region_of(bureau)]
            tg.create_task(traffic.answer_all(api, url, bureau, count, concurrency, progress))
        recorded = tg.create_task(home.wait_for(n))
    return recorded.result()


async def end_to_end(inst: Installation, session: aiohttp.ClientSession, n: int, window: int,
                     concurrency: int, patience: float) -> tuple[EndToEnd, int]:
    """Run the load; (figures, replies counted by the hub)."""
    progress = traffic.Progress()
    async with observe.HomeWatch(inst.desk_dsns) as home:
        def line() -> str:
            return f"  {progress.line(n)}, recorded at home {home.recorded}/{n}"

        ticker = asyncio.create_task(observe.report_every(5.0, line, say))
        try:
            async with asyncio.timeout(patience):
                stamps = await environment.guarded(
                    inst, drive(inst, session, home, n, window, concurrency, progress))
                say(line())
                figures = await observe.wait_hub_replied(session, inst.hub.url, n)
        except TimeoutError:
            raise RuntimeError(f"not finished within {patience:.0f} s: {line().strip()}") from None
        finally:
            ticker.cancel()
    say(f"  hub counted replied: {figures['replied']} of {n}")
    return EndToEnd.from_stamps(stamps), figures["replied"]


async def bus_counts(inst: Installation, session: aiohttp.ClientSession, n: int) -> Bus:
    figures = await observe.hub_figures(session, inst.hub.url)

    def settled(counts: dict[str, int]) -> bool:
        inbox = sum(v for k, v in counts.items() if k.endswith(".inbox"))
        return inbox >= 4 * n and counts.get("xiecha.v1.hub.events", 0) >= 5 * n

    return Bus(figures, await observe.settled_publishes(inst.vhost, settled))


async def run(n: int, window: int, concurrency: int, patience: float) -> Result:
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
            say(f"end to end: {n} requests, window {window} ...")
            e2e, replied = await end_to_end(inst, session, n, window, concurrency, patience)
            bus = await bus_counts(inst, session, n)
        await inst.stop()
        say(f"raw broker: {n} round trips, window {window} ...")
        vhost = await scratch.new_vhost("raw")
        async with asyncio.timeout(patience):
            raw = await raw_broker.measure(f"{AMQP}/{vhost}", n, window)
        finished = True
        return Result(n, window, e2e, raw, replied, bus)
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
) -> None:
    """Measure end-to-end round trips against the bare broker's ceiling."""
    configure_logging("bench", "WARNING")
    try:
        result = asyncio.run(run(requests, window, concurrency, timeout))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted; the services were stopped and the vhosts and databases removed")
        raise typer.Exit(130) from None
    typer.echo(result.as_json() if json_out else result.table())


if __name__ == "__main__":
    cli()
