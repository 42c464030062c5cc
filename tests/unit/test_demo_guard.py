"""`make run` refuses to start over a running instance, and notices a service that dies;
so does the e2e harness (bench.environment), which tells its own kills from deaths."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench.environment import Installation, watched
from services.demo.processes import Service, busy_ports, first_death
from tests.support import eventually, until


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


async def sleeper(name: str) -> Service:
    """A stand-in service process that runs until it is killed."""
    service = Service(name, "x", 0, {})
    service.process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(120)")
    return service


async def test_the_demo_names_a_killed_service_and_its_exit_code(tmp_path: Path) -> None:
    hub, desk = await sleeper("hub"), await sleeper("desk-zj")
    try:
        # When a desk is SIGKILLed behind the demo's back
        assert desk.process is not None
        desk.process.send_signal(signal.SIGKILL)
        # Then the demo's watch returns it, and its notice names it, the code and the log
        dead = await asyncio.wait_for(first_death([hub, desk]), 30)
        assert dead is desk and dead.died and not hub.died
        assert dead.death_notice(tmp_path) == (
            f"xiecha: desk-zj died unexpectedly (exit code -9); see {tmp_path}/desk-zj.log")
    finally:
        await hub.kill()


async def test_the_e2e_harness_fails_on_a_death_nobody_meant_not_on_a_kill_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub, desk = await sleeper("hub"), await sleeper("desk-sc")
    inst = Installation("v", hub, {"sc": desk}, {})
    said: list[str] = []

    def heard(text: str) -> bool:
        said.append(capsys.readouterr().err)
        return text in "".join(said)

    with pytest.raises(RuntimeError, match=r"desk-sc died unexpectedly \(exit code -9\)"):
        async with watched(inst, tmp_path):
            await hub.kill()  # a crash test's own SIGKILL: meant, not reported
            assert desk.process is not None
            desk.process.send_signal(signal.SIGKILL)  # a crash nobody meant
            await desk.process.wait()
            # the harness says so at once, before the test is over
            await eventually(until(lambda: heard("desk-sc died")), what="the death reported")
    assert not heard("hub died")
