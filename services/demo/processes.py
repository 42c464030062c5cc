"""Starting and stopping the hub and desk processes of the demo."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import aiohttp


@dataclass
class Service:
    name: str
    module: str
    port: int
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    meant_down: bool = False
    """Stopped or killed on purpose (a crash test's SIGKILL): its exit is no failure."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def died(self) -> bool:
        """Whether its process exited although nobody meant it to."""
        return (self.process is not None and self.process.returncode is not None
                and not self.meant_down)

    def death_notice(self, log_dir: Path) -> str:
        """One line naming the service that died, its exit code and its log."""
        code = self.process.returncode if self.process else None
        return (f"xiecha: {self.name} died unexpectedly (exit code {code});"
                f" see {log_dir / f'{self.name}.log'}")

    async def kill(self) -> None:
        """SIGKILL, on purpose: no clean-up of any kind, and no death to report."""
        self.meant_down = True
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def start(self, log_dir: Path) -> None:
        self.meant_down = False
        log = await asyncio.to_thread(_open_log, log_dir / f"{self.name}.log")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", self.module, "serve",
            env=os.environ | self.env, stdout=log, stderr=log,
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
        )

    async def stop(self, grace: float = 10.0) -> None:
        self.meant_down = True
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def ready(
        self, session: aiohttp.ClientSession, within: float = 60.0
    ) -> dict[str, object]:
        """Wait until /healthz answers (and, for a desk, the registry arrived)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.process is not None and self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                async with session.get(f"{self.url}/healthz") as resp:
                    body: dict[str, object] = await resp.json()
                    if resp.status == 200 and body.get("registry_version", 1):
                        return body
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready within {within:.0f}s")


def _open_log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("ab")


def busy_ports(ports: list[int], host: str = "127.0.0.1") -> list[int]:
    """Ports someone already listens on (say, a demo that is still running)."""
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                busy.append(port)
    return busy


async def first_death(procs: list[Service]) -> Service:
    """Wait until one of ``procs`` exits, and return it."""
    waits = {asyncio.ensure_future(p.process.wait()): p for p in procs if p.process is not None}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waits[next(iter(done))]
