from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest
import pytest_asyncio

from services.common.logs import configure_logging
from tests.support import Clock, System, start_system


@pytest.fixture(scope="session", autouse=True)
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every service's JSON logs during the run, as production writes them."""
    path = tmp_path_factory.mktemp("logs") / "xiecha.jsonl"
    with path.open("w", encoding="utf-8", buffering=1) as stream:
        configure_logging("tests", "INFO", stream=stream)
        yield path


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def system() -> AsyncIterator[System]:
    """Hub and three desks (zj, gd, sc) on a fresh vhost and fresh databases."""
    s = await start_system()
    yield s
    await s.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clock(request: pytest.FixtureRequest) -> Clock:
    """A clock the module moves by hand, starting at the module's ``START`` (or now)."""
    return Clock(getattr(request.module, "START", None))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clocked_system(clock: Clock) -> AsyncIterator[System]:
    """Like ``system``, but every service reads ``clock``."""
    s = await start_system(clock=clock)
    yield s
    await s.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def channel(system: System) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """A confirming channel of the broker admin on the module's vhost."""
    conn = await aio_pika.connect(system.scratch.amqp_url)
    yield await conn.channel(publisher_confirms=True)
    await conn.close()
