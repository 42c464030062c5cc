"""A docker-compose.yml deployment of its own for a test: a unique project name, host
ports that are free now, the local stand-in images unless the environment names others,
and `down -v` at the end. The test reaches it only through the published ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ENV = ROOT / "deploy" / "docker" / "local.env"
PORT_VARS = ("XIECHA_PG_PORT", "XIECHA_AMQP_PORT", "XIECHA_RABBIT_MGMT_PORT", "XIECHA_HUB_PORT",
             "XIECHA_DESK_ZJ_PORT", "XIECHA_DESK_GD_PORT", "XIECHA_DESK_SC_PORT",
             "XIECHA_DESK_REST_PORT")


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (the kernel's pick, so never a well-known one)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def local_images() -> dict[str, str]:
    """XIECHA_*_IMAGE from deploy/docker/local.env, where the environment sets none."""
    pairs = (line.split("=", 1) for line in LOCAL_ENV.read_text("utf-8").splitlines()
             if line and not line.startswith("#"))
    return {key: os.environ.get(key, value) for key, value in pairs}


def until(check: Callable[[], Any], within: float, what: str, every: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {within:.0f}s (last: {last!r})")


class Stack:
    def __init__(self) -> None:
        self.project = f"xiecha-test-{uuid.uuid4().hex[:8]}"
        self.ports = dict(zip(PORT_VARS, free_ports(len(PORT_VARS)), strict=True))
        self.env = {**os.environ, **local_images(), "COMPOSE_PROJECT_NAME": self.project,
                    **{k: str(v) for k, v in self.ports.items()}}
        self.tokens: dict[str, str] = {}
        """Bearer tokens of the test's investigators, by bureau."""

    def compose(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), *args],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=timeout, check=False,
        )
        assert result.returncode == 0, f"compose {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result.stdout

    def url(self, port_var: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[port_var]}{path}"

    def containers(self) -> list[dict[str, Any]]:
        out = self.compose("ps", "--all", "--format", "json")
        lines = [line for line in out.splitlines() if line.strip()]
        if len(lines) == 1 and lines[0].startswith("["):  # older compose: one JSON list
            rows: list[dict[str, Any]] = json.loads(lines[0])
            return rows
        return [json.loads(line) for line in lines]

    def settled(self, services: Iterable[str], one_shot: Iterable[str] = ()) -> bool:
        """Every service healthy, every one-shot exited 0."""
        state = {c["Service"]: c for c in self.containers()}
        healthy = all(state.get(s, {}).get("Health") == "healthy" for s in services)
        done = all(state.get(s, {}).get("State") == "exited"
                   and state[s].get("ExitCode") == 0 for s in one_shot)
        return healthy and done

    def inspect(self, service: str) -> dict[str, Any]:
        cid = self.compose("ps", "--all", "-q", service).strip()
        out = subprocess.run(["docker", "inspect", cid], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        info: dict[str, Any] = json.loads(out)[0]
        return info

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "40")

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", timeout=300)
