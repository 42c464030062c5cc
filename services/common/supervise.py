"""Supervision of a service's background tasks (outbox relay, deadline watch, ...).

Guarantee: a supervised task that fails is restarted after a back-off that grows with
consecutive failures (reset once a run lasted ``healthy_after`` seconds); while it
waits to restart, ``health()`` names it unhealthy with its last error, so ``/healthz``
answers 503. A task that fails ``give_up_after`` times in a row calls ``on_give_up``
(by default: the process exits non-zero, for its process manager to restart it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger()

Restarted = Callable[[str], None]
"""Called with the task's name each time it is restarted (metrics)."""


def restart_delay(failures: int) -> float:
    """Seconds before the restart after ``failures`` consecutive failures: 0.2 s .. 30 s."""
    return min(30.0, 0.1 * 2.0**failures)


def exit_process(name: str) -> None:
    log.critical("background task keeps failing; exiting", task=name)
    os._exit(70)  # EX_SOFTWARE: a process manager restarts the whole service


@dataclass
class Part:
    """One supervised task's state, as ``/healthz`` shows it."""

    name: str
    failures: int = 0
    restarts: int = 0
    last_error: str = ""
    running: bool = False

    @property
    def healthy(self) -> bool:
        return self.running and self.failures == 0


@dataclass
class Supervisor:
    healthy_after: float = 30.0
    give_up_after: int = 50
    on_give_up: Callable[[str], None] = exit_process
    on_restart: list[Restarted] = field(default_factory=list)
    delay: Callable[[int], float] = restart_delay
    parts: dict[str, Part] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` in the background under supervision, as part ``name``."""
        part = self.parts[name] = Part(name)
        self._tasks.append(asyncio.create_task(self._keep(part, run), name=name))

    async def _keep(self, part: Part, run: Callable[[], Awaitable[None]]) -> None:
        while True:
            began = time.monotonic()
            part.running = True
            try:
                await run()
                part.last_error = "returned"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: restart, never die silently
                part.last_error = f"{type(exc).__name__}: {exc}"[:300]
            part.running = False
            if time.monotonic() - began >= self.healthy_after:
                part.failures = 0
            part.failures += 1
            log.warning("background task failed; restarting", task=part.name,
                        error=part.last_error, failures=part.failures)
            if part.failures >= self.give_up_after:
                self.on_give_up(part.name)
                return
            await asyncio.sleep(self.delay(part.failures))
            part.restarts += 1
            for observe in self.on_restart:
                observe(part.name)

    def mark_healthy(self, name: str) -> None:
        """Called by a task once it did useful work again (ends its unhealthy state)."""
        if name in self.parts:
            self.parts[name].failures = 0

    def health(self) -> dict[str, dict[str, object]]:
        return {
            p.name: {"ok": p.healthy, "restarts": p.restarts}
            | ({} if p.healthy else {"error": p.last_error or "starting"})
            for p in self.parts.values()
        }

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
