from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.support import System, start_system


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def system() -> AsyncIterator[System]:
    """Hub and three desks (zj, gd, sc) on a fresh vhost and fresh databases."""
    s = await start_system()
    yield s
    await s.close()
