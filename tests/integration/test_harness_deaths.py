"""The in-process harness (tests.support.start_system) names a background task that gave
up, at once and when its system closes, instead of the whole run ending with exit code
70 and no word of which service it was."""

from __future__ import annotations

import pytest

from services.common.health import RUNTIME
from tests.support import eventually, start_system, until

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_task_that_gives_up_is_named_and_fails_the_system(
    capsys: pytest.CaptureFixture[str]
) -> None:
    system = await start_system({"zj": "33"})
    closed = False
    try:
        supervisor = system.desks["zj"].server.app[RUNTIME].supervisor
        supervisor.give_up_after = 2  # quickly: a real desk tries 50 times over minutes

        async def broken() -> None:
            raise ConnectionError("database gone")

        # When a supervised task of desk-zj keeps failing until its supervisor gives up
        supervisor.start("doomed", broken)
        # Then the harness says so at once, naming the service and the task
        await eventually(until(lambda: bool(system.deaths)), what="the give-up noticed")
        assert system.deaths == ["desk-zj: background task doomed kept failing and gave up"
                                 " (its process would exit with code 70)"]
        assert "desk-zj: background task doomed" in capsys.readouterr().err
        # and closing the system fails with it
        with pytest.raises(RuntimeError, match="desk-zj: background task doomed"):
            closed = True
            await system.close()
    finally:
        if not closed:
            system.deaths.clear()
            await system.close()
