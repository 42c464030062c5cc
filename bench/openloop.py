"""Open loop: checks offered at a fixed rate, latency measured per check.

Unlike the closed loop (at most ``window`` creates in flight, so a slow system is
offered less), create ``i`` starts at ``i / rate`` seconds whatever happened to the
ones before it, as requests arrive in real life. The simulated investigators answer
as soon as their desk rings (bench/bell.py). Latency: reply recorded at the
requester's desk minus the request's creation, both stamped by PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import cpu, traffic
from bench.harness import Run, per_check
from bench.observe import Stamp
from bench.report import percentile


@dataclass
class Phase:
    """One open-loop phase's figures."""

    label: str
    offered_per_s: float
    checks: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    cpu_ms: dict[str, float]
    """CPU milliseconds per completed check, by component."""

    def line(self) -> str:
        cpu_ms = {k: v for k, v in self.cpu_ms.items() if k != "transactions"}
        parts = ", ".join(f"{k} {v:.1f}" for k, v in cpu_ms.items())
        return (f"{self.label:>5} {self.offered_per_s:7.1f}/s  {self.checks:5d} checks"
                f"  p50 {self.p50_ms:7.0f} ms  p90 {self.p90_ms:7.0f} ms"
                f"  p99 {self.p99_ms:7.0f} ms\n        CPU ms/check {sum(cpu_ms.values()):.1f}"
                f" ({parts})")


def latencies(stamps: list[Stamp]) -> tuple[float, float, float]:
    ms = sorted((r - c).total_seconds() * 1000 for c, r in stamps)
    return percentile(ms, 50), percentile(ms, 90), percentile(ms, 99)


async def phase(label: str, run: Run, rate: float, seconds: float, first: int) -> Phase:
    """Offer ``rate`` checks per second for ``seconds``, then wait for every reply at home."""
    n = max(1, round(rate * seconds))
    pairs = traffic.plan(first + n)[first:]
    before = await run.meter.reading()
    ids = await traffic.offer(run.api, run.urls, pairs, rate, run.progress, first)
    stamps = await run.home.wait_ids(ids)
    used = cpu.used_between(before, await run.meter.reading())
    return Phase(label, rate, n, *latencies(stamps), per_check(used, n))
