"""The short chaos run inside ``make test``: a few hundred requests under every kind of
fault (fewer kills, a 10 s pause), on private servers; the same accounting as ``make chaos``.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.chaos.harness import run
from tests.chaos.injector import Scale

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.e2e]

SHORT = Scale(requests=300, desk_kills=2, hub_kills=1, relay_kills=1, pause_seconds=10,
              create_seconds=60)


async def test_nothing_lost_nor_doubled_under_chaos() -> None:
    seed = int(os.environ.get("XIECHA_CHAOS_SEED", "0")) or random.randrange(1, 10**6)
    result = await run(SHORT, seed, drain_within=240)
    print("\n".join(result.lines()))
    assert result.accounts.lost == [], result.lines()
    assert result.accounts.duplicated == [], result.lines()
    assert result.accounts.leftovers == [], result.lines()
    assert not result.ledger.anomalies and not result.unexpected_exits, result.lines()
    assert result.requests == SHORT.requests
    assert sum(result.faults.values()) == 7, result.faults
