"""``python -m bench.soak [--minutes 10] [--rate R]``: memory under steady load.

Finds the sustainable rate with a short closed loop (or takes ``--rate``), then offers
half of it in an open loop for ``--minutes`` with the simulated investigators
answering, sampling every service's resident memory (``/proc/PID/status``). Prints
each service's RSS at the start of the steady load, its largest, at the end, and
end / start (the target: within 20 %); the latency of the whole soak; and checks
the hub counted exactly one reply per check made.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

import typer

from bench import cpu, harness, observe, openloop
from bench.environment import say
from bench.harness import Options, Run
from services.common.logs import configure_logging


@dataclass
class Memory:
    start: dict[str, float]
    largest: dict[str, float]
    end: dict[str, float]

    def table(self) -> str:
        head = ("service", "start MiB", "max MiB", "end MiB", "end/start")
        lines = [f"{head[0]:<10} {head[1]:>10} {head[2]:>9} {head[3]:>9} {head[4]:>9}"]
        for name, first in self.start.items():
            ratio = self.end[name] / first
            verdict = "within 20 %" if abs(ratio - 1) <= 0.2 else "OUTSIDE 20 %"
            lines.append(f"{name:<10} {first:10.1f} {self.largest[name]:9.1f}"
                         f" {self.end[name]:9.1f} {ratio:9.2f}  {verdict}")
        return "\n".join(lines)


def rss(run: Run) -> dict[str, float]:
    return {s.name: cpu.rss_mib(s.process.pid) or 0.0
            for s in run.inst.services if s.process is not None}


async def sample(run: Run, largest: dict[str, float], every: float) -> None:
    while True:
        for name, mib in rss(run).items():
            largest[name] = max(largest.get(name, 0.0), mib)
        await asyncio.sleep(every)


async def soak(run: Run, minutes: float) -> tuple[openloop.Phase, Memory]:
    done, rate = 0, run.opts.rate
    if rate is None:
        e2e, _ = await harness.closed_loop(run)
        done, rate = run.opts.n, e2e.round_trips_per_s / 2
        say(f"  sustainable {e2e.round_trips_per_s:.1f} checks/s: soaking at {rate:.1f}/s")
    start = rss(run)
    largest = dict(start)
    sampler = asyncio.create_task(sample(run, largest, 10.0))
    try:
        phase = await openloop.phase("soak", run, rate, minutes * 60, done)
    finally:
        sampler.cancel()
    end = rss(run)
    await observe.hub_counted_exactly(run.api.session, run.inst.hub.url, done + phase.checks)
    return phase, Memory(start, largest, end)


async def main_async(opts: Options, minutes: float) -> str:
    async with harness.installation() as (_, inst, session):
        phase, memory = await harness.measure(inst, session, opts,
                                              lambda run: soak(run, minutes))
    return f"{phase.line()}\n\n{memory.table()}"


cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@cli.command()
def main(
    minutes: Annotated[float, typer.Option(min=0.1, help="Length of the steady load.")] = 10.0,
    rate: Annotated[float | None, typer.Option(
        min=0.1, help="Checks per second (default: half the closed loop's rate).")] = None,
    requests: Annotated[int, typer.Option(min=1, help="Closed-loop checks first.")] = 1000,
) -> None:
    """Soak at half the sustainable rate; every service's memory at start and end."""
    configure_logging("bench", "WARNING")
    opts = Options(requests, 64, 16, minutes * 60 + 1800, rate, minutes * 60)
    typer.echo(asyncio.run(main_async(opts, minutes)))


if __name__ == "__main__":
    cli()
