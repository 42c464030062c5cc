"""Nothing lost, nothing doubled when service processes are killed (SIGKILL) mid-flow.

The hub and the three desks run as real processes (as `make run` starts them). Each kill
is made when work is provably in flight, and the test shows it:
1. the recipient's desk and the hub are killed while working through a backlog: messages
   are still queued for them afterwards, and the broker later counts redeliveries;
2. the broker drops every connection and takes none for a while (a broker restart, for this
   vhost only); the requester's desk is killed while its outbox holds messages it could
   not publish meanwhile;
3. the requester's desk is killed again while replies come home.
Afterwards both desks' databases hold every request exactly once, answered once; the hub's
counters equal a recount of the desks' timelines; no dead-letter queue holds anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aio_pika
import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from bench.environment import ADMIN, AMQP, Installation, Running, installed, token
from bench.traffic import reply_body, request_body
from protocol import routing
from services.common.rabbit_admin import RabbitAdmin
from services.demo.processes import Service
from tests.faults import broker_outage
from tests.support import eventually

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.e2e]

N = 60
SENDERS, RECIPIENT = ("330110", "330106"), "510107"
COUNTED = ("created", "sent", "delivered", "accepted", "replied")

Env = Running


@pytest_asyncio.fixture(loop_scope="session")
async def installation() -> AsyncIterator[Running]:
    async with installed("xiecha-crash-") as running:
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


async def scalar(dsn: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def queued(inst: Installation, queue: str) -> int:
    """Messages ready in ``queue`` (with its consumer dead, also those it held unacked)."""
    connection = await aio_pika.connect(f"{AMQP}/{inst.vhost}")
    try:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        return int(q.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def create(inst: Installation, session: aiohttp.ClientSession, i: int) -> str:
    status, req = await call(session, "POST", f"{inst.desks['zj'].url}/v1/requests",
                             SENDERS[i % 2], request_body(RECIPIENT, i))
    assert status == 201, req
    return str(req["id"])


async def kill_mid_backlog(env: Env, service: Service, dsn: str, sql: str, queue: str,
                           total: int) -> None:
    """Start ``service`` on its backlog and kill it once ``sql`` counts some of it done."""
    await service.start(env[2])

    async def took_some() -> int:
        return int(await scalar(dsn, sql))

    await eventually(took_some, within=60, what=f"{service.name} taking its backlog")
    await crash(service)
    done, in_queue = await scalar(dsn, sql), await queued(env[0], queue)
    assert done < total and in_queue > 0, (service.name, done, in_queue)  # work in flight


async def kill_recipient_and_hub_mid_backlog(env: Env) -> list[str]:
    """Phase 1: N requests wait for the stopped recipient's desk and hub; each is started
    and killed again once it has taken some, so the rest is in flight."""
    inst, session, logs = env
    sc, hub = inst.desks["sc"], inst.hub
    await asyncio.gather(crash(sc), crash(hub))
    ids = [await create(inst, session, i) for i in range(N)]
    await kill_mid_backlog(env, sc, inst.desk_dsns["sc"], "SELECT count(*) FROM request",
                           routing.desk_inbox_queue("sc"), N)
    await kill_mid_backlog(env, hub, hub.env["XIECHA_HUB_DATABASE_URL"],
                           "SELECT count(*) FROM counted_event", routing.HUB_EVENTS_QUEUE,
                           len(COUNTED) * N)
    await restart(sc, session, logs)
    await restart(hub, session, logs)
    return ids


async def kill_requester_with_unpublished_outbox(env: Env, ids: list[str]) -> None:
    """Phase 2: the broker drops every connection; requests created before the requester's
    desk reconnects wait in its outbox, and it is killed holding them."""
    inst, session, logs = env
    zj = inst.desks["zj"]
    async with broker_outage(inst.vhost, 4):  # hub and three desks
        extra = [await create(inst, session, N + i) for i in range(5)]
        waiting = await scalar(inst.desk_dsns["zj"], "SELECT count(*) FROM outbox")
        await crash(zj)
    left = await scalar(inst.desk_dsns["zj"], "SELECT count(*) FROM outbox")
    assert waiting > 0 and left > 0, (waiting, left)  # the kill hit unpublished messages
    ids.extend(extra)
    await restart(zj, session, logs)


async def answer_all_killing_the_requester(env: Env, total: int) -> None:
    """Phase 3: the recipient answers everything; the requester's desk is killed half-way."""
    inst, session, logs = env
    zj, sc = inst.desks["zj"], inst.desks["sc"]
    answered: set[str] = set()

    async def answer_some() -> bool:
        _, page = await call(session, "GET",
                             f"{sc.url}/v1/requests?box=inbox&state=delivered&limit=200",
                             RECIPIENT)
        for item in page["items"]:
            base = f"{sc.url}/v1/requests/{item['id']}"
            status, _ = await call(session, "POST", f"{base}/accept", RECIPIENT)
            assert status == 200
            status, _ = await call(session, "POST", f"{base}/reply", RECIPIENT,
                                   reply_body(item))
            assert status == 200
            answered.add(item["id"])
            if len(answered) == total // 2:
                await crash(zj)
                await restart(zj, session, logs)
        return len(answered) == total

    await eventually(answer_some, within=120, what="every request answered")


async def timeline_counts(dsn: str, ids: list[str]) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(
            "SELECT r.id, r.state, count(*) FILTER (WHERE e.type = 'delivered') AS delivered,"
            " count(*) FILTER (WHERE e.type = 'accepted') AS accepted,"
            " count(*) FILTER (WHERE e.type = 'replied') AS replied"
            " FROM request r JOIN request_event e ON e.request_id = r.id"
            " WHERE r.id = ANY($1::uuid[]) GROUP BY r.id, r.state", ids))
    finally:
        await conn.close()


async def check_both_desks(inst: Installation, ids: list[str]) -> None:
    async def all_home() -> bool:
        n = await scalar(inst.desk_dsns["zj"], "SELECT count(*) FROM request WHERE"
                         " state = 'replied' AND id = ANY($1::uuid[])", ids)
        return bool(n == len(ids))

    await eventually(all_home, within=120, what="replies recorded at home")
    for region in ("zj", "sc"):
        async def sent_all(dsn: str = inst.desk_dsns[region]) -> bool:
            return bool(await scalar(dsn, "SELECT count(*) FROM outbox") == 0)

        await eventually(sent_all, within=60, what=f"{region}'s outbox drained")
    for region in ("zj", "sc"):
        rows = await timeline_counts(inst.desk_dsns[region], ids)
        assert len(rows) == len(ids), region
        assert {(r["state"], r["delivered"], r["accepted"], r["replied"]) for r in rows} == {
            ("replied", 1, 1, 1)}, region


async def check_hub_against_recount(inst: Installation, ids: list[str]) -> None:
    """The hub's counted events are exactly the requester's timeline entries it reports."""
    conn = await asyncpg.connect(inst.desk_dsns["zj"])
    try:
        home = {(r["event_id"], r["type"]) for r in await conn.fetch(
            "SELECT event_id, type FROM request_event WHERE request_id = ANY($1::uuid[])"
            " AND type = ANY($2::text[])", ids, list(COUNTED))}
    finally:
        await conn.close()
    hub_dsn = inst.hub.env["XIECHA_HUB_DATABASE_URL"]

    async def counted() -> set[tuple[Any, str]] | None:
        conn = await asyncpg.connect(hub_dsn)
        try:
            rows = await conn.fetch("SELECT event_id, event_type FROM counted_event"
                                    " WHERE request_id = ANY($1::uuid[])", ids)
        finally:
            await conn.close()
        found = {(r["event_id"], r["event_type"]) for r in rows}
        return found if found == home else None

    await eventually(counted, within=60, what="hub's counted events equal the recount")
    assert len(home) == len(COUNTED) * len(ids)
    async with aiohttp.ClientSession() as s, s.get(
            f"{inst.hub.url}/v1/stats?bureau={RECIPIENT}") as resp:
        figures = (await resp.json())["as_recipient"]["all_time"]
    assert {m: figures[m] for m in COUNTED} == dict.fromkeys(COUNTED, len(ids)), figures


async def check_no_dead_letters_and_redeliveries(inst: Installation) -> None:
    admin = RabbitAdmin(ADMIN)
    vhost = quote(inst.vhost, safe="")
    queues: Any = await admin.get(f"queues/{vhost}")
    for q in queues:
        if q["name"].endswith(".dlq"):
            assert await queued(inst, q["name"]) == 0, q["name"]

    async def redelivered() -> bool:
        info: Any = await admin.get(f"queues/{vhost}/{routing.desk_inbox_queue('sc')}")
        return bool(info.get("message_stats", {}).get("redeliver", 0))

    await eventually(redelivered, within=30, what="the broker counting redeliveries")


async def test_killed_processes_lose_and_double_nothing(installation: Env) -> None:
    inst = installation[0]
    ids = await kill_recipient_and_hub_mid_backlog(installation)
    await kill_requester_with_unpublished_outbox(installation, ids)
    await answer_all_killing_the_requester(installation, len(ids))
    await check_both_desks(inst, ids)
    await check_hub_against_recount(inst, ids)
    await check_no_dead_letters_and_redeliveries(inst)
