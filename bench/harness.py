"""What every load of the benchmark shares: a throw-away installation, the simulated
investigators answering beside the load, progress lines, the CPU meter, a deadline."""

from __future__ import annotations

import asyncio
import functools
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp

from bench import cpu, environment, observe, profile, traffic
from bench.bell import InboxBells
from bench.environment import PG, Installation, Scratch, say
from bench.report import EndToEnd

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
    profile: Path | None = None
    """Sample the hub and the desks with py-spy during the closed loop, into this folder."""


@dataclass
class Run:
    """One measurement's parts, handed to the load."""

    inst: Installation
    api: traffic.Api
    home: observe.HomeWatch
    meter: cpu.CpuMeter
    opts: Options
    progress: traffic.Progress

    @property
    def urls(self) -> dict[str, str]:
        return {region: desk.url for region, desk in self.inst.desks.items()}


@asynccontextmanager
async def installation() -> AsyncIterator[tuple[Scratch, Installation, aiohttp.ClientSession]]:
    """A fresh, started installation; stopped and removed afterwards, also after a failure
    or SIGTERM (service logs are kept then, and their folder named)."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    scratch, log_dir = Scratch(), Path(tempfile.mkdtemp(prefix="xiecha-bench-"))
    inst: Installation | None = None
    finished = False
    try:
        say(f"setting up a fresh installation (suffix {scratch.suffix}) ...")
        inst = await environment.prepare(scratch)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await environment.start(inst, session, log_dir)
            yield scratch, inst, session
        finished = True
    finally:
        if inst is not None:
            await inst.stop()
        await scratch.close()
        if finished:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"service logs kept in {log_dir}")


async def closed_loop(run: Run) -> tuple[EndToEnd, dict[str, float]]:
    """N checks, ``window`` creates in flight; figures and CPU ms per check by component."""
    n = run.opts.n
    say(f"closed loop: {n} checks, window {run.opts.window} ...")
    before = await run.meter.reading()
    spying = None
    if run.opts.profile is not None:  # from 3 s in, for 20 s: the steady middle
        spying = asyncio.create_task(profile.record(run.inst.services, 20, run.opts.profile,
                                                    delay=3.0))
    await traffic.create_all(run.api, run.urls, traffic.plan(n), run.opts.window, run.progress)
    stamps = await run.home.wait_for(n)
    await observe.wait_hub_replied(run.api.session, run.inst.hub.url, n)
    used = cpu.used_between(before, await run.meter.reading())
    if spying is not None:
        for path in await spying:
            say(profile.summary(path))
    return EndToEnd.from_stamps(stamps), per_check(used, n)


def per_check(used: dict[str, float], n: int) -> dict[str, float]:
    """CPU milliseconds per check by component, and 'transactions' per check."""
    return {k: v / n if k == "transactions" else 1000 * v / n for k, v in used.items()}


async def answering(run: Run, bells: InboxBells) -> None:
    """Every bureau's simulated investigator, until cancelled."""
    async with asyncio.TaskGroup() as tg:
        for region, desk in run.inst.desks.items():
            for bureau in environment.BUREAUS[region]:
                tg.create_task(traffic.answer_all(
                    run.api, desk.url, bureau, None, run.opts.concurrency, run.progress,
                    bells.bells[bureau], functools.partial(bells.delivered, region, bureau)))


async def measure(inst: Installation, session: aiohttp.ClientSession, opts: Options,
                  load: Callable[[Run], Awaitable[T]]) -> T:
    """Run ``load`` with investigators answering, within ``opts.patience`` seconds."""
    meter = cpu.CpuMeter(inst.pids(), f"{PG}/postgres", inst.databases)
    async with observe.HomeWatch(inst.desk_dsns) as home, InboxBells(inst.desk_dsns) as bells:
        run = Run(inst, traffic.Api(session), home, meter, opts, traffic.Progress())
        ticker = asyncio.create_task(observe.report_every(
            5.0, lambda: "  " + run.progress.line(), say))
        meter.start()
        try:
            async with asyncio.timeout(opts.patience):
                return await environment.guarded(
                    inst, environment.first_of(load(run), answering(run, bells)))
        except TimeoutError:
            raise RuntimeError(f"not finished within {opts.patience:.0f} s:"
                               f" {run.progress.line()}") from None
        finally:
            ticker.cancel()
            await meter.stop()
