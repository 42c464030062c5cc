"""The chaos plan without servers: reproducible from its seed, every fault during traffic,
every request between bureaus on different desks."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, cast

from tests.chaos.injector import Injector, Scale
from tests.chaos.installation import PROVINCES, region_of
from tests.chaos.traffic import plan

SCALE = Scale(requests=300, desk_kills=2, hub_kills=1, relay_kills=1, pause_seconds=10,
              create_seconds=60)


def faults(seed: int) -> list[tuple[float, str]]:
    injector = Injector(cast(Any, None), cast(Any, None), random.Random(seed))
    return injector.plan(SCALE)


def test_the_same_seed_gives_the_same_faults_at_the_same_moments() -> None:
    assert faults(7) == faults(7)
    assert faults(7) != faults(8)


def test_every_fault_strikes_while_requests_are_still_being_created() -> None:
    planned = faults(42)
    assert Counter(kind for _, kind in planned) == {
        "desk_kill": 2, "hub_kill": 1, "relay_kill": 1, "rabbitmq_restart": 1,
        "postgres_restart": 1, "database_pause": 1}
    shares = [share for share, _ in planned]
    assert shares == sorted(shares) and all(0.05 <= s <= 0.8 for s in shares)


def test_requests_go_between_bureaus_of_different_desks_from_every_desk() -> None:
    requests = plan(480)
    assert all(region_of(p.requester) != region_of(p.recipient) for p in requests)
    assert {region_of(p.requester) for p in requests} == set(PROVINCES)
    assert {region_of(p.recipient) for p in requests} == set(PROVINCES)
    assert [p.i for p in requests] == list(range(480))
