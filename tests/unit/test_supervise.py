"""Supervision: a failed background task restarts with back-off and shows as unhealthy."""

from __future__ import annotations

import asyncio

from services.common.supervise import Supervisor, restart_delay


def test_restart_delay_grows_and_is_capped() -> None:
    delays = [restart_delay(n) for n in range(1, 20)]
    assert delays == sorted(delays) and delays[0] == 0.2 and delays[-1] == 30.0


async def test_a_failed_task_restarts_and_is_unhealthy_until_it_works() -> None:
    runs: list[int] = []
    release, working = asyncio.Event(), asyncio.Event()
    restarted: list[str] = []
    supervisor = Supervisor(delay=lambda n: 0.0, on_restart=[restarted.append])

    async def work() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise OSError("database went away")
        supervisor.mark_healthy("work")
        working.set()
        await release.wait()  # runs on until the test is done

    # Given a task that fails twice, then works
    supervisor.start("work", work)
    await asyncio.wait_for(working.wait(), 5)
    # Then it was restarted twice and is healthy again
    assert restarted == ["work", "work"]
    assert supervisor.health() == {"work": {"ok": True, "restarts": 2}}
    await supervisor.close()


async def test_a_failing_task_is_named_unhealthy_while_it_waits() -> None:
    supervisor = Supervisor(delay=lambda n: 60.0)

    async def broken() -> None:
        raise RuntimeError("relay lost its channel")

    supervisor.start("relay", broken)
    await asyncio.sleep(0.01)
    assert supervisor.health() == {"relay": {
        "ok": False, "restarts": 0, "error": "RuntimeError: relay lost its channel"}}
    await supervisor.close()


async def test_gives_up_after_too_many_failures() -> None:
    gave_up: list[str] = []
    done = asyncio.Event()

    def give_up(name: str) -> None:
        gave_up.append(name)
        done.set()

    supervisor = Supervisor(delay=lambda n: 0.0, give_up_after=3, on_give_up=give_up)

    async def broken() -> None:
        raise RuntimeError("never works")

    supervisor.start("watch", broken)
    await asyncio.wait_for(done.wait(), 5)
    assert gave_up == ["watch"]
    await supervisor.close()

