"""Fixtures of the evidence-file tests: one delivered request, a channel on the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import pytest_asyncio

from tests.attachments import Case, new_case
from tests.support import System


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def case(system: System) -> Case:
    return await new_case(system)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def channel(system: System) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    conn = await aio_pika.connect(system.scratch.amqp_url)
    yield await conn.channel(publisher_confirms=True)
    await conn.close()
