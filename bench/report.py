"""The benchmark's results: figures, the machine they were taken on, and how to print them."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.observe import Stamp

DESK_MESSAGES = ("request.submitted", "request.event (delivered)",
                 "request.event (accepted)", "request.event (replied)")
"""Desk-to-desk messages of one round trip (into the other desk's inbox queue)."""
HUB_EVENTS = ("created", "sent", "delivered", "accepted", "replied")
"""Timeline events of one round trip, each sent to the hub as an event.recorded message."""


def machine() -> dict[str, str | int | float]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu,
            "memory_gib": round(mem_kib / 2**20, 1)}


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class EndToEnd:
    """Round trips per second from the first create to the last reply recorded at home."""

    round_trips_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    wall_s: float

    @classmethod
    def from_stamps(cls, stamps: list[Stamp]) -> EndToEnd:
        wall = (max(r for _, r in stamps) - min(c for c, _ in stamps)).total_seconds()
        ms = sorted((r - c).total_seconds() * 1000 for c, r in stamps)
        return cls(len(stamps) / wall, percentile(ms, 50), percentile(ms, 90),
                   percentile(ms, 99), wall)


@dataclass
class Bus:
    """What the run put on the bus, from the hub's counters and the broker's queue stats."""

    hub_figures: dict[str, int]
    queue_publishes: dict[str, int]

    def per_round_trip(self, n: int) -> dict[str, float]:
        inbox = sum(v for k, v in self.queue_publishes.items() if k.endswith(".inbox"))
        hub = self.queue_publishes.get("xiecha.v1.hub.events", 0)
        return {"desk_to_desk": inbox / n, "to_hub": hub / n, "total": (inbox + hub) / n}


@dataclass
class Result:
    requests: int
    window: int
    e2e: EndToEnd | None
    """The closed loop; None when only an open-loop rate was asked for."""
    raw_round_trips_per_s: float
    hub_replied: int
    bus: Bus
    cpu_ms: dict[str, float]
    """Closed loop: CPU milliseconds per completed check, by component."""
    open_loop: list[Any]
    """bench.openloop.Phase of each open-loop phase."""
    checks: int
    """Every check of the run, closed and open loop."""
    load: str = field(default_factory=lambda: " ".join(
        Path("/proc/loadavg").read_text().split()[:3]))
    date: str = field(default_factory=lambda: dt.datetime.now().astimezone().isoformat(
        timespec="seconds"))
    machine: dict[str, str | int | float] = field(default_factory=machine)

    @property
    def ratio_percent(self) -> float:
        if self.e2e is None:
            return 0.0
        return 100 * self.e2e.round_trips_per_s / self.raw_round_trips_per_s

    def as_json(self) -> str:
        data = asdict(self) | {"ratio_percent": round(self.ratio_percent, 1),
                               "bus_per_round_trip": self.bus.per_round_trip(self.checks)}
        return json.dumps(data, ensure_ascii=False, indent=2)

    def table(self) -> str:
        m = self.machine
        rows = [
            ("date", self.date),
            ("machine", f"{m['nproc']} CPUs, {m['cpu']}, {m['memory_gib']} GiB RAM"),
            ("load average (1/5/15 min)", self.load),
            ("window", str(self.window)),
            *self.closed_rows(),
            ("raw broker round trips/s", f"{self.raw_round_trips_per_s:.1f}"
                                         f"  ({self.requests} round trips)"),
            ("hub counted replied", f"{self.hub_replied} of {self.checks} checks made: exact"),
        ]
        width = max(len(k) for k, _ in rows)
        parts = ["\n".join(f"{k:<{width}}  {v}" for k, v in rows)]
        if self.cpu_ms:
            parts.append(self.cpu_text())
        return "\n\n".join([*parts, self.open_text(), self.bus_text()])

    def closed_rows(self) -> list[tuple[str, str]]:
        if self.e2e is None:
            return [("closed loop", "not run (--rate)")]
        e = self.e2e
        return [
            ("closed loop: checks (N)", str(self.requests)),
            ("closed loop: checks/s", f"{e.round_trips_per_s:.1f}  ({e.wall_s:.1f} s wall)"),
            ("closed loop: latency", f"p50 {e.p50_ms:.0f} ms, p90 {e.p90_ms:.0f} ms,"
                                     f" p99 {e.p99_ms:.0f} ms"),
            ("e2e / raw", f"{self.ratio_percent:.1f} %"),
        ]

    def cpu_text(self) -> str:
        cpu_ms = {k: v for k, v in self.cpu_ms.items() if k != "transactions"}
        parts = ", ".join(f"{k} {v:.1f}" for k, v in cpu_ms.items())
        return (f"CPU per completed check (closed loop), ms: {parts};"
                f" total {sum(cpu_ms.values()):.1f}"
                "\n  (RabbitMQ's VM is shared with whatever else uses the broker: an upper bound)"
                f"\nPostgreSQL transactions committed per check (the run's databases):"
                f" {self.cpu_ms.get('transactions', 0):.1f}")

    def open_text(self) -> str:
        if not self.open_loop:
            return "Open loop: not run"
        lines = ["Open loop (create -> reply recorded at home):"]
        lines += ["  " + phase.line() for phase in self.open_loop]
        return "\n".join(lines)

    def bus_text(self) -> str:
        n, per = self.checks, self.bus.per_round_trip(self.checks)
        hub = ", ".join(f"{e} {self.bus.hub_figures.get(e, 0)}" for e in HUB_EVENTS)
        queues = ", ".join(f"{k} {v}" for k, v in sorted(self.bus.queue_publishes.items()) if v)
        return "\n".join([
            "One end-to-end round trip on the bus:",
            f"  desk to desk: {len(DESK_MESSAGES)} ({', '.join(DESK_MESSAGES)})",
            f"  to the hub:   {len(HUB_EVENTS)} event.recorded ({', '.join(HUB_EVENTS)})",
            f"  = {len(DESK_MESSAGES) + len(HUB_EVENTS)} persistent, confirmed messages into"
            " quorum queues, each consumed in its own database",
            "    transaction (the raw round trip is 2 messages and no database).",
            f"  measured: {per['total']:.2f} messages per round trip"
            f" ({per['desk_to_desk']:.2f} desk to desk, {per['to_hub']:.2f} to the hub)",
            f"  hub counted (N={n}): {hub}",
            f"  routed per queue: {queues}",
        ])
