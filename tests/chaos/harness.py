"""One chaos run: private servers, the system, traffic under faults, drain, accounting.

Everything it starts (servers, services) is SIGKILLed and its temporary directory removed
on every way out, a failure included.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from tests.chaos import servers as private
from tests.chaos.accounting import ONCE, Accounts, account, queued
from tests.chaos.injector import Injector, Scale
from tests.chaos.installation import BUREAUS, PROVINCES, Installation, build, region_of
from tests.chaos.traffic import Client, Ledger, answer_until, create_all, plan

Say = Callable[[str], None]


@dataclass
class Result:
    seed: int
    requests: int
    faults: Counter[str]
    accounts: Accounts
    ledger: Ledger
    drain_seconds: float
    total_seconds: float
    unexpected_exits: list[str] = field(default_factory=list)
    restarts: dict[str, int] = field(default_factory=dict)
    """Supervised restarts of each service's background tasks (``/healthz``), after a
    fault; a SIGKILLed process starts counting again."""

    @property
    def ok(self) -> bool:
        """Nothing lost, doubled or left, no 5xx but 503, no service died by itself."""
        return (self.accounts.clean and not self.ledger.anomalies
                and not self.unexpected_exits)

    def lines(self) -> list[str]:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        return [
            f"seed {self.seed}",
            f"requests accepted {self.requests} (replayed after a lost answer"
            f" {self.ledger.replayed}), replies recorded {len(self.ledger.answered)}",
            "faults " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
            + f" (total {sum(self.faults.values())})",
            f"client retries {dict(self.ledger.retries)}; anomalies {dict(self.ledger.anomalies)}",
            f"unexpected service exits {self.unexpected_exits or 0};"
            f" background task restarts {self.restarts or 0}",
            f"lost {self.accounts.lost_requests}, duplicated"
            f" {self.accounts.duplicated_requests} (requests), left over"
            f" {len(self.accounts.leftovers)}",
            *[f"  {x}" for x in (self.accounts.lost + self.accounts.duplicated
                                 + self.accounts.leftovers)[:30]],
            f"drain after the last fault {self.drain_seconds:.1f} s,"
            f" total {self.total_seconds:.1f} s, load average {load}",
        ]


Afterwards = Callable[[Installation, aiohttp.ClientSession, "Result"], Awaitable[None]]
"""Called with the system still running once the result is in (a test's extra checks)."""


async def run(scale: Scale, seed: int, say: Say = print, drain_within: float = 900,
              afterwards: Afterwards | None = None) -> Result:
    started = time.monotonic()
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="xiecha-chaos-"))
    os.chmod(root, 0o755)  # the servers' own users work inside
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    say(f"chaos: seed {seed}, {scale.requests} requests, in {root}, load average {load}")
    started_servers: list[private.Server] = []
    inst: Installation | None = None
    try:
        main, side = private.Postgres(root, "pg-main"), private.Postgres(root, "pg-side")
        rabbit = private.Rabbit(root, os.getpid())  # a node name no other run on this host has
        for pg in (main, side):
            started_servers.append(pg)
            await pg.init()
            await pg.start()
        started_servers.append(rabbit)
        await rabbit.start()
        inst = await build(root, main, side, rabbit, rng.choice(sorted(PROVINCES)))
        say(f"  servers up; desk-{inst.paused_region}'s database is the one paused")
        async with aiohttp.ClientSession() as session:
            await inst.start(session)
            say("  hub and four desks ready")
            result = await exercise(inst, session, scale, seed, rng, say, drain_within,
                                    started)
            if afterwards is not None:
                await afterwards(inst, session, result)
            return result
    finally:
        if inst is not None:
            inst.kill()
        for s in started_servers:
            s.kill()
        if os.environ.get("XIECHA_CHAOS_KEEP"):
            say(f"  kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


async def exercise(inst: Installation, session: aiohttp.ClientSession, scale: Scale,
                   seed: int, rng: random.Random, say: Say, drain_within: float,
                   started: float) -> Result:
    ledger = Ledger()
    client = Client(session, {r: s.url for r, s in inst.desks.items()}, ledger)
    injector = Injector(inst, session, rng, log=say)
    stop = asyncio.Event()
    exits: list[str] = []
    background = [asyncio.create_task(answer_until(client, b, stop))
                  for codes in BUREAUS.values() for b in codes]
    background.append(asyncio.create_task(watchdog(inst, injector, session, exits, say)))
    try:
        # the run stops by itself: a desk that never answers again fails it, not hangs it
        async with asyncio.timeout(scale.create_seconds + drain_within):
            await asyncio.gather(
                create_all(client, plan(scale.requests), seed, scale.window,
                           scale.create_seconds),
                injector.run(scale, ledger))
        say(f"  {len(ledger.accepted)} requests accepted, every fault injected; draining")
        await drain(inst, session, ledger, drain_within, say)
        drained = time.monotonic() - injector.last_fault_at
    finally:
        stop.set()
        for task in background:  # an answerer may be retrying a call; its work is done
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
    accounts = await account(inst, session, ledger.accepted)
    return Result(seed, len(ledger.accepted), injector.injected, accounts, ledger, drained,
                  time.monotonic() - started, exits, await restarts(inst, session))


async def watchdog(inst: Installation, injector: Injector, session: aiohttp.ClientSession,
                   exits: list[str], say: Say) -> None:
    """Restart a service that died by itself (not by a fault); each is a finding."""
    while True:
        for s in inst.services:
            code = s.process.returncode if s.process is not None else None
            if code is not None and s.name not in injector.busy:
                exits.append(f"{s.name} exited with {code}")
                say(f"  UNEXPECTED: {s.name} exited with {code}; restarting it")
                await s.start(inst.logs)
                try:
                    await s.ready(session, within=180)
                except RuntimeError as exc:  # dead again: the next round restarts it
                    say(f"  UNEXPECTED: {exc}")
        await asyncio.sleep(0.5)  # the watch interval


async def healthz(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
    """The parts of a service that says it is well; None otherwise."""
    try:
        async with session.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=10)
                               ) as resp:
            body: dict[str, Any] = await resp.json()
            return body["parts"] if resp.status == 200 else None
    except (aiohttp.ClientError, TimeoutError):
        return None


async def restarts(inst: Installation, session: aiohttp.ClientSession) -> dict[str, int]:
    found = {}
    for s in inst.services:
        for name, part in (await healthz(session, s.url) or {}).items():
            if part.get("restarts"):
                found[f"{s.name} {name}"] = int(part["restarts"])
    return found


async def scalar(dsn: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def drain(inst: Installation, session: aiohttp.ClientSession, ledger: Ledger,
                within: float, say: Say) -> None:
    """Wait until every accepted request's reply is home, every outbox and queue is empty,
    the hub counted every entry and every service says it is well (``/healthz`` 200); on
    the deadline the accounting reports what is missing."""
    ids = list(ledger.accepted)
    home = {r: [i for i in ids if region_of(ledger.accepted[i].requester) == r]
            for r in inst.desks}

    async def replied() -> bool:
        done = 0
        for region, mine in home.items():
            done += await scalar(inst.dsns[region], "SELECT count(*) FROM request"
                                 " WHERE state = 'replied' AND id = ANY($1::uuid[])", mine)
        return done == len(ids)

    async def quiet() -> bool:
        outboxes = [await scalar(dsn, "SELECT count(*) FROM outbox") for dsn in inst.dsns.values()]
        counted = await scalar(inst.dsns["hub"], "SELECT count(*) FROM counted_event"
                               " WHERE request_id = ANY($1::uuid[])", ids)
        return (not any(outboxes) and counted >= len(ONCE) * len(ids)
                and not await queued(inst))

    async def well() -> bool:
        return all([await healthz(session, s.url) is not None for s in inst.services])

    # the broker's queue figures are sampled each second: quiet must hold on 4 polls in a
    # row, so a message still in flight (a republished duplicate, a retry) is waited for
    for what, probe, times in (("replies home", replied, 1), ("every service well", well, 1),
                               ("outboxes, queues and hub", quiet, 4)):
        if not await until(probe, within, times):
            say(f"  drain: {what} not reached within {within:.0f} s")
            return


async def until(probe: Callable[[], Awaitable[bool]], within: float, times: int = 1) -> bool:
    """Poll ``probe`` until it holds ``times`` polls in a row; False after ``within`` s."""
    deadline, held = time.monotonic() + within, 0
    while time.monotonic() < deadline:
        try:
            held = held + 1 if await probe() else 0
        except (OSError, asyncpg.PostgresError):
            held = 0  # a server still coming back
        if held >= times:
            return True
        await asyncio.sleep(0.5)  # the poll interval
    return False
