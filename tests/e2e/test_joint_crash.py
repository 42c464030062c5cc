"""Joint cases lose and double nothing when service processes are killed (SIGKILL).

The hub and the three desks run as real processes. A lead in Zhejiang opens cases with
members in Guangdong and Sichuan; the members' desk and the hub are killed while the
invitations travel, the lead's desk while the members' answers come in, the members'
desk again while tasks and evidence go out, and the hub while the cases close. After
restarts every case has each step once, in one order on every desk, its evidence
intact where it was shared, and the hub counted each figure once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from bench.environment import Installation, Running, installed, token
from services.demo.processes import Service
from tests import evidence
from tests.support import eventually

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.e2e]

N = 12
LEAD, GD, SC = "330110", "440106", "510107"
STEPS = ["opened", "invited", "accepted", "declined", "task_assigned", "evidence_shared",
         "closing_proposed", "closing_confirmed"]
FILE = evidence.pdf(300_000)  # two chunks


@pytest_asyncio.fixture(loop_scope="session")
async def installation() -> AsyncIterator[Running]:
    async with installed("xiecha-joint-crash-") as running:
        yield running


async def call(session: aiohttp.ClientSession, method: str, url: str, bureau: str,
               body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token(bureau)}"}
    async with session.request(method, url, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def crash(service: Service) -> None:
    assert service.process is not None
    await service.kill()  # SIGKILL: no clean-up of any kind


async def restart(service: Service, session: aiohttp.ClientSession, logs: Path) -> None:
    await service.start(logs)
    await service.ready(session)


def case_body(i: int) -> dict[str, Any]:
    return {"title": f"联合行动 {i}", "subjects": [{"merchant_name": f"某某商贸有限公司{i}"}],
            "legal_basis": "《电子商务法》", "aim": "查清销售链条", "members": [GD, SC]}


async def test_killed_processes_lose_and_double_nothing_in_joint_cases(
    installation: tuple[Installation, aiohttp.ClientSession, Path],
) -> None:
    inst, session, logs = installation
    zj, gd, sc = inst.desks["zj"], inst.desks["gd"], inst.desks["sc"]

    # Given N cases opened while the members' desk and the hub are killed half-way
    ids = []
    for i in range(N):
        if i == N // 2:
            await crash(gd)
            await crash(inst.hub)
        status, case = await call(session, "POST", f"{zj.url}/v1/joint", LEAD, case_body(i))
        assert status == 201, case
        ids.append(case["id"])
    await restart(gd, session, logs)
    await restart(inst.hub, session, logs)

    # When Guangdong accepts and Sichuan declines each, the lead's desk killed half-way
    for i, cid in enumerate(ids):
        for desk, bureau in ((gd, GD), (sc, SC)):
            await eventually(lambda d=desk, b=bureau, c=cid: _seen(session, d.url, b, c),
                             within=60, what="invitation")
        if i == N // 2:
            await crash(zj)
            await restart(zj, session, logs)
        assert (await call(session, "POST", f"{gd.url}/v1/joint/{cid}/accept", GD))[0] == 202
        assert (await call(session, "POST", f"{sc.url}/v1/joint/{cid}/decline", SC,
                           {"reason": "不在辖区"}))[0] == 202
    for cid in ids:
        await eventually(lambda c=cid: _status_of(session, zj.url, LEAD, c, SC, "declined"),
                         within=60, what="answers at the lead")

    # and the lead assigns a task and shares a file in each, the members' desk killed
    for i, cid in enumerate(ids):
        if i == N // 2:
            await crash(gd)
        status, made = await call(session, "POST", f"{zj.url}/v1/joint/{cid}/tasks", LEAD,
                                  _task())
        assert status == 201, made
        status, _ = await _upload(session, zj.url, cid)
        assert status == 201
    await restart(gd, session, logs)

    # and every case closes, with the hub killed half-way through the confirmations
    for cid in ids:
        status, body = await call(session, "POST", f"{zj.url}/v1/joint/{cid}/close", LEAD,
                                  {"findings": "查明", "outcomes": [
                                      {"kind": "fine", "bureau": GD, "amount_yuan": 1000}]})
        assert status == 200, body
    for i, cid in enumerate(ids):
        await eventually(lambda c=cid: _state(session, gd.url, GD, c, "closing"), within=60,
                         what="closing at gd")
        if i == N // 2:
            await crash(inst.hub)
            await restart(inst.hub, session, logs)
        assert (await call(session, "POST", f"{gd.url}/v1/joint/{cid}/confirm", GD))[0] == 202

    # Then at the lead's desk each case has every step once, numbered without gaps
    for cid in ids:
        await eventually(lambda c=cid: _state(session, zj.url, LEAD, c, "closed"), within=60,
                         what="closed at the lead")
    lead_timelines = await _timelines(inst.desk_dsns["zj"], ids)
    for cid in ids:
        kinds = [t for _, _, t in lead_timelines[cid]]  # the answers came in either order
        assert kinds[:2] == STEPS[:2] and sorted(kinds[2:4]) == STEPS[2:4], kinds
        assert kinds[4:] == STEPS[4:], kinds
        assert [s for s, _, _ in lead_timelines[cid]] == list(range(1, len(STEPS) + 1))

    # and Guangdong's desk shows the same timeline, the file intact
    for cid in ids:
        await eventually(lambda c=cid: _state(session, gd.url, GD, c, "closed"), within=60,
                         what="closed at gd")
    assert await _timelines(inst.desk_dsns["gd"], ids) == lead_timelines
    digest = hashlib.sha256(FILE).hexdigest()
    for cid in ids:
        _, case = await call(session, "GET", f"{gd.url}/v1/joint/{cid}", GD)
        assert [(e["sha256"], e["status"]) for e in case["evidence"]] == [(digest, "complete")]

    # and the hub counted each figure exactly once (never more on the way there)
    want = {"opened": N, "closed": N, "member_joined": N, "member_declined": N,
            "task_assigned": N, "outcome": N}
    seen: list[dict[str, int]] = []

    async def counted() -> bool:
        async with session.get(f"{inst.hub.url}/v1/stats") as resp:
            seen.append((await resp.json())["joint"]["all_time"])
        assert all(seen[-1][k] <= n for k, n in want.items()), seen[-1]
        return seen[-1] == want

    await eventually(counted, within=60, what="hub counts")


def _task() -> dict[str, Any]:
    return {"assignee": GD, "kind": "evidence_collection",
            "subject": {"merchant_name": "广州某某化妆品有限公司"},
            "questions": [{"id": "q1", "text": "请调取仓库出入库记录"}]}


async def _upload(session: aiohttp.ClientSession, url: str, cid: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token(LEAD)}", "X-Filename": "笔录.pdf"}
    async with session.post(f"{url}/v1/joint/{cid}/evidence", data=FILE,
                            headers=headers) as resp:
        return resp.status, await resp.json()


async def _seen(session: aiohttp.ClientSession, url: str, bureau: str, cid: str) -> bool:
    return (await call(session, "GET", f"{url}/v1/joint/{cid}", bureau))[0] == 200


async def _status_of(session: aiohttp.ClientSession, url: str, bureau: str, cid: str,
                     member: str, status: str) -> bool:
    _, case = await call(session, "GET", f"{url}/v1/joint/{cid}", bureau)
    return any(m["bureau"]["code"] == member and m["status"] == status
               for m in case["members"])


async def _state(session: aiohttp.ClientSession, url: str, bureau: str, cid: str,
                 state: str) -> bool:
    status, case = await call(session, "GET", f"{url}/v1/joint/{cid}", bureau)
    return status == 200 and case["state"] == state


async def _timelines(dsn: str, ids: list[str]) -> dict[str, list[tuple[int, str, str]]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT case_id, seq, event_id, type FROM joint_entry"
                                " WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, seq", ids)
    finally:
        await conn.close()
    out: dict[str, list[tuple[int, str, str]]] = {cid: [] for cid in ids}
    for r in rows:
        out[str(r["case_id"])].append((r["seq"], str(r["event_id"]), r["type"]))
    return out
