"""`make run` refuses to start over a running instance, and notices a service that dies."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

from services.demo.processes import Service, busy_ports, first_death


def test_a_second_demo_refuses_when_its_ports_are_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert busy_ports([port]) == [port]
        # When the demo starts on ports one of which is taken (the hub's)
        run = subprocess.run([sys.executable, "-m", "services.demo", "--base-port", str(port)],
                             capture_output=True, text=True, timeout=60)
    # Then it stops at once, says why, and touches nothing
    assert run.returncode == 1
    assert "already in use" in run.stderr and "databases migrated" not in run.stdout


async def test_a_dead_service_is_noticed() -> None:
    alive = Service("alive", "x", 0, {})
    dead = Service("dead", "x", 0, {})
    alive.process = await asyncio.create_subprocess_exec(sys.executable, "-c",
                                                         "import time; time.sleep(60)")
    dead.process = await asyncio.create_subprocess_exec(sys.executable, "-c", "exit(3)")
    try:
        assert await asyncio.wait_for(first_death([alive, dead]), 30) is dead
        assert dead.process.returncode == 3
    finally:
        alive.process.kill()
        await alive.process.wait()
