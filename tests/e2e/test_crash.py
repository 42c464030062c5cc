"""Nothing lost, nothing doubled when service processes are killed (SIGKILL) mid-flow.

The hub and the three desks run as real processes (as `make run` starts them). Requests
are created, then the recipient desk and the hub are killed while messages are in
flight; later the requester desk is killed while replies come home. After restarts,
every request is answered exactly once and the hub counts each step exactly once.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from bench.environment import Installation, Scratch, prepare, start, token
from bench.traffic import reply_body, request_body
from services.demo.processes import Service
from tests.support import eventually

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.e2e]

N = 60
SENDERS, RECIPIENT = ("330110", "330106"), "510107"


@pytest_asyncio.fixture(loop_scope="session")
async def installation() -> AsyncIterator[tuple[Installation, aiohttp.ClientSession, Path]]:
    scratch = Scratch()
    logs = Path(tempfile.mkdtemp(prefix="xiecha-crash-"))
    async with aiohttp.ClientSession() as session:
        try:
            inst = await prepare(scratch)
            await start(inst, session, logs)
            yield inst, session, logs
            await inst.stop()
        finally:
            await scratch.close()


async def call(session: aiohttp.ClientSession, method: str, url: str, bureau: str,
               body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token(bureau)}"}
    async with session.request(method, url, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def crash(service: Service) -> None:
    assert service.process is not None
    service.process.kill()  # SIGKILL: no clean-up of any kind
    await service.process.wait()


async def restart(service: Service, session: aiohttp.ClientSession, logs: Path) -> None:
    await service.start(logs)
    await service.ready(session)


async def test_killed_processes_lose_and_double_nothing(
    installation: tuple[Installation, aiohttp.ClientSession, Path],
) -> None:
    inst, session, logs = installation
    zj, sc = inst.desks["zj"], inst.desks["sc"]

    # Given N requests from Zhejiang to Chengdu Wuhou; half-way through creating them,
    # the recipient's desk and the hub are killed, with messages in flight
    ids = []
    for i in range(N):
        if i == N // 2:
            await asyncio.gather(crash(sc), crash(inst.hub))
        status, req = await call(session, "POST", f"{zj.url}/v1/requests", SENDERS[i % 2],
                                 request_body(RECIPIENT, i))
        assert status == 201, req
        ids.append(req["id"])
    # When they come back
    await restart(sc, session, logs)
    await restart(inst.hub, session, logs)

    # and Wuhou answers everything, while the requester's desk is killed half-way
    answered: set[str] = set()

    async def answer_some() -> bool:
        _, page = await call(session, "GET",
                             f"{sc.url}/v1/requests?box=inbox&state=delivered&limit=200",
                             RECIPIENT)
        for item in page["items"]:
            base = f"{sc.url}/v1/requests/{item['id']}"
            await call(session, "POST", f"{base}/accept", RECIPIENT)
            status, _ = await call(session, "POST", f"{base}/reply", RECIPIENT,
                                   reply_body(item))
            assert status == 200
            answered.add(item["id"])
            if len(answered) == N // 2:
                await crash(zj)
                await restart(zj, session, logs)
        return len(answered) == N

    await eventually(answer_some, within=120, what="every request answered")

    # Then every reply is recorded at home exactly once
    conn = await asyncpg.connect(inst.desk_dsns["zj"])
    try:
        async def all_home() -> bool:
            n = await conn.fetchval("SELECT count(*) FROM request WHERE state = 'replied'"
                                    " AND id = ANY($1::uuid[])", ids)
            return bool(n == N)

        await eventually(all_home, within=120, what="replies recorded at home")
        per_request = await conn.fetch(
            "SELECT request_id, count(*) FILTER (WHERE type = 'replied') AS replied,"
            " count(*) FILTER (WHERE type = 'delivered') AS delivered FROM request_event"
            " WHERE request_id = ANY($1::uuid[]) GROUP BY request_id", ids)
        assert len(per_request) == N
        assert {(r["replied"], r["delivered"]) for r in per_request} == {(1, 1)}
    finally:
        await conn.close()

    # and the hub counted each step exactly once
    async def counted() -> dict[str, Any] | None:
        async with session.get(f"{inst.hub.url}/v1/stats?bureau={RECIPIENT}") as resp:
            figures: dict[str, Any] = (await resp.json())["as_recipient"]["all_time"]
        return figures if figures["replied"] >= N else None

    figures = await eventually(counted, within=60, what="hub counts")
    for metric in ("created", "sent", "delivered", "accepted", "replied"):
        assert figures[metric] == N, (metric, figures)
