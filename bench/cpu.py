"""CPU and memory of each component, from the processes' own kernel counters.

``/proc/PID/stat`` holds a process's user and system CPU time in clock ticks,
``/proc/PID/status`` its resident memory. Components: the desks, the hub, the
PostgreSQL backends serving the run's databases (found in ``pg_stat_activity``),
RabbitMQ's Erlang VM (``beam.smp``: shared with anything else on the broker, so an
upper bound) and the load generator (this process). Backends come and go, so the
meter samples every second and keeps each process's last reading: one that exited
mid-run still counts up to its last sample.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

TICK = os.sysconf("SC_CLK_TCK")

Readings = dict[str, dict[int, float]]
"""Component -> pid -> CPU seconds used so far."""

own_reads = [0]
"""Queries the load generator itself ran on the run's databases (each an implicit
transaction), left out of the transactions counted per check."""


def read_own() -> None:
    own_reads[0] += 1


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid``, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def rss_mib(pid: int) -> float | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def beam_pids() -> list[int]:
    """RabbitMQ's Erlang VM processes on this host."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@dataclass
class CpuMeter:
    """Samples the components' CPU counters every ``every`` seconds while running."""

    services: dict[str, list[int]]
    """'desks' / 'hub' -> their pids."""
    pg_dsn: str
    databases: list[str]
    every: float = 1.0
    last: Readings = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def _backends(self, conn: asyncpg.Connection) -> list[int]:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1)",
                                self.databases)
        return [row["pid"] for row in rows]

    async def sample(self, conn: asyncpg.Connection) -> None:
        commits = await conn.fetchval(
            "SELECT sum(xact_commit) FROM pg_stat_database WHERE datname = ANY($1)",
            self.databases)
        # not CPU: counted apart, without the load generator's own reads
        self.last["transactions"] = {0: float((commits or 0) - own_reads[0])}
        pids = dict(self.services) | {"postgresql": await self._backends(conn),
                                      "rabbitmq": beam_pids(), "load generator": [os.getpid()]}
        for component, ids in pids.items():
            seen = self.last.setdefault(component, {})
            for pid in ids:
                used = cpu_seconds(pid)
                if used is not None:
                    seen[pid] = used

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.pg_dsn)
        try:
            while True:
                await self.sample(conn)
                await asyncio.sleep(self.every)
        finally:
            await conn.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def reading(self) -> Readings:
        """Sample now and return a copy of every process's CPU seconds so far."""
        conn = await asyncpg.connect(self.pg_dsn)
        try:
            await self.sample(conn)
        finally:
            await conn.close()
        return {component: dict(seen) for component, seen in self.last.items()}


def used_between(before: Readings, after: Readings) -> dict[str, float]:
    """CPU seconds each component used between two readings (new processes from zero),
    and the run's databases' committed transactions under 'transactions'."""
    return {component: sum(cpu - before.get(component, {}).get(pid, 0.0)
                           for pid, cpu in seen.items())
            for component, seen in after.items()}
