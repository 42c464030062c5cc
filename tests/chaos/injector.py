"""Faults at random moments (seeded): SIGKILLs, server restarts, a paused database.

The plan is a seeded shuffle of the faults, each due when the requesters have created
a seeded random share of their requests, so every fault strikes while traffic flows,
however fast the machine. Faults run one after another; a killed service is restarted
at once and waited for (``/healthz``). The outbox relay runs inside its desk's process:
a relay kill is a SIGKILL of a desk at a moment its outbox holds rows being flushed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from services.demo.processes import Service
from tests.chaos.installation import Installation
from tests.chaos.traffic import Ledger

FLUSHING = ("SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'idle in transaction' AND query LIKE 'SELECT * FROM outbox%'")
"""The relay's flush: rows claimed (FOR UPDATE), its transaction open until the confirms."""


@dataclass(frozen=True)
class Scale:
    """How much chaos: the long run and the short one differ only in these numbers."""

    requests: int
    desk_kills: int
    hub_kills: int
    relay_kills: int
    pause_seconds: float
    create_seconds: float
    """Creates are spread over at least this long, so the faults meet traffic."""
    window: int = 16


@dataclass
class Injector:
    inst: Installation
    session: aiohttp.ClientSession
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    last_fault_at: float = 0.0
    busy: set[str] = field(default_factory=set)
    """Services being killed and restarted by a fault right now."""
    log: Callable[[str], None] = print

    def plan(self, scale: Scale) -> list[tuple[float, str]]:
        """(share of requests created, fault kind) in the order they strike."""
        kinds = (["desk_kill"] * scale.desk_kills + ["hub_kill"] * scale.hub_kills
                 + ["relay_kill"] * scale.relay_kills
                 + ["rabbitmq_restart", "postgres_restart", "database_pause"])
        self.rng.shuffle(kinds)
        shares = sorted(self.rng.uniform(0.05, 0.8) for _ in kinds)
        return list(zip(shares, kinds, strict=True))

    async def run(self, scale: Scale, ledger: Ledger) -> None:
        def created() -> int:
            return len(ledger.accepted)

        for share, kind in self.plan(scale):
            while created() < share * scale.requests:
                ledger.progress.clear()
                await ledger.progress.wait()
            started = time.monotonic()
            detail = await getattr(self, kind)(scale)
            self.injected[kind] += 1
            self.last_fault_at = time.monotonic()
            self.log(f"  fault {kind} {detail} at {created()} created"
                     f" ({self.last_fault_at - started:.1f} s)")

    async def _kill_and_restart(self, service: Service) -> None:
        assert service.process is not None
        self.busy.add(service.name)
        try:
            service.process.kill()  # SIGKILL: no clean-up of any kind
            await service.process.wait()
            await service.start(self.inst.logs)
            await service.ready(self.session, within=180)
        finally:
            self.busy.discard(service.name)

    async def desk_kill(self, _: Scale) -> str:
        desk = self.rng.choice(sorted(self.inst.desks))
        await self._kill_and_restart(self.inst.desks[desk])
        return f"desk-{desk}"

    async def hub_kill(self, _: Scale) -> str:
        await self._kill_and_restart(self.inst.hub)
        return "hub"

    async def relay_kill(self, _: Scale) -> str:
        """Kill a desk while its relay holds claimed outbox rows in an open transaction,
        waiting for the broker's confirms (else, after 30 s, while its outbox holds rows)."""
        region = self.rng.choice(sorted(self.inst.desks))
        conn = await asyncpg.connect(self.inst.dsns[region])
        try:
            deadline, state = time.monotonic() + 30, ""
            while not state and time.monotonic() < deadline:  # polled as fast as it answers
                state = await conn.fetchval(FLUSHING) and "mid-flush"
            rows = await conn.fetchval("SELECT count(*) FROM outbox")
            await self._kill_and_restart(self.inst.desks[region])
        finally:
            await conn.close()
        return f"desk-{region} {state or 'not seen flushing'} ({rows} outbox rows)"

    async def rabbitmq_restart(self, _: Scale) -> str:
        await self.inst.rabbit.restart()
        return self.inst.rabbit.node

    async def postgres_restart(self, _: Scale) -> str:
        await self.inst.main_pg.restart()
        return "hub and desks " + ",".join(r for r in self.inst.desks
                                           if r != self.inst.paused_region)

    async def database_pause(self, scale: Scale) -> str:
        self.inst.side_pg.pause()
        try:
            await asyncio.sleep(scale.pause_seconds)  # the fault's length, not a wait
        finally:
            self.inst.side_pg.resume()
        return f"desk-{self.inst.paused_region}'s database for {scale.pause_seconds:.0f} s"
