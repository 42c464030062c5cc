"""Fixtures of the evidence-file tests: one delivered request, a channel on the bus."""

from __future__ import annotations

import pytest_asyncio

from tests.attachments import Case, new_case
from tests.support import System


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def case(system: System) -> Case:
    return await new_case(system)


