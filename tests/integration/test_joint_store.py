"""The joint case copy a participant's desk keeps: the newest, and of two copies with the
same number (one per bureau the desk hosts) the one with the closing summary."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from protocol.v1 import joint as j
from services.desk.domain import joint
from services.desk.joint import store
from tests.support import Scratch

pytestmark = pytest.mark.asyncio(loop_scope="session")

AT = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool() -> AsyncIterator[asyncpg.Pool]:
    scratch = Scratch()
    p = await scratch.pool("desk", "joint_store")
    yield p
    await p.close()
    await scratch.close()


def closing_case() -> joint.Case:
    header = j.CaseHeader(title="案", subjects=(j.CaseSubject(merchant_name="某"),),
                          legal_basis="法", aim="查", lead="330110", coordinator="组长")
    case = joint.open_case(uuid.uuid4(), header, ["440106", "440305"])
    case = joint.decide(case, "440106", j.Accepted())
    return joint.decide(case, "330110", j.ClosingProposed(summary=j.Summary(findings="结论")))


async def test_the_newest_copy_and_the_one_with_the_summary_stay(pool: asyncpg.Pool) -> None:
    full = closing_case()
    stripped = joint.Case(full.id, full.header, full.state, full.members, 5)
    full = joint.Case(full.id, full.header, full.state, full.members, 5, full.summary)
    async with pool.acquire() as conn:
        assert await store.save(conn, stripped, "c", AT)
        assert await store.save(conn, full, "c", AT)  # same seq, with the summary
        assert not await store.save(conn, stripped, "c", AT)  # never the other way
        older = joint.Case(full.id, full.header, j.CaseState.OPEN, full.members, 4)
        assert not await store.save(conn, older, "c", AT)
        kept = await store.get(conn, full.id)
    assert kept is not None and kept.seq == 5 and kept.summary == full.summary
