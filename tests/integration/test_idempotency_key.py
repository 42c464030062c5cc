"""Idempotency-Key on create: a retried POST stores and sends one request, never two."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.support import DeskHandle, System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, XIHU, WUHOU, TIANHE = "330110", "330106", "510107", "440106"


async def post(system: System, desk: DeskHandle, token: str, body: Any,
               key: str | None) -> tuple[int, Any, str | None]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    async with system.http.post(desk.url("/v1/requests"), json=body, headers=headers) as resp:
        text = await resp.text()
        replayed = resp.headers.get("Idempotent-Replayed")
    try:
        return resp.status, json.loads(text), replayed
    except ValueError:
        return resp.status, text, replayed


def marked(recipient: str = WUHOU, **over: Any) -> dict[str, Any]:
    """A request whose merchant name is unique, so it can be counted anywhere."""
    subject = {"merchant_name": f"幂等测试 {uuid.uuid4().hex[:8]}", "platform": "淘宝"}
    return new_request(recipient, subject=subject, **over)


async def listed(system: System, desk: DeskHandle, token: str, which: str, name: str) -> list[str]:
    status, page = await system.call("GET", desk.url(f"/v1/requests?box={which}&limit=200"),
                                     token)
    assert status == 200, page
    return [r["id"] for r in page["items"] if r["subject"]["merchant_name"] == name]


async def rows(desk: DeskHandle, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(desk.settings.dsn)
    try:
        n: int = await conn.fetchval(sql, *args)
        return n
    finally:
        await conn.close()


async def hub_figures(system: System, bureau: str) -> dict[str, int]:
    status, stats = await system.call("GET", system.hub_url(f"/v1/stats?bureau={bureau}"))
    assert status == 200, stats
    figures: dict[str, int] = stats["as_requester"]["all_time"]
    return figures


async def test_retry_with_same_key_replays(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice, bob = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    key, body = str(uuid.uuid4()), marked()
    name = body["subject"]["merchant_name"]
    # Given a create that went through
    status, first, replayed = await post(system, zj, alice, body, key)
    assert status == 201 and replayed is None, first
    # When the client retries it with the same key and body
    status, again, replayed = await post(system, zj, alice, body, key)
    # Then it gets the same request back, marked as a replay
    assert status == 201, again
    assert replayed == "true"
    assert again["id"] == first["id"]
    for field in ("kind", "requester", "recipient", "subject", "questions", "created_at"):
        assert again[field] == first[field], field
    # and only one request exists, at home and at the recipient
    assert await listed(system, zj, alice, "outbox", name) == [first["id"]]
    assert await rows(zj, "SELECT count(*) FROM request WHERE requester = $1"
                      " AND idempotency_key = $2", YUHANG, key) == 1

    async def arrived() -> list[str]:
        return await listed(system, sc, bob, "inbox", name)

    assert await eventually(arrived, what="request in Wuhou's inbox") == [first["id"]]
    assert await sent_once(zj, first["id"])


@pytest.mark.parametrize("change", ["question", "recipient", "due_date", "kind"])
async def test_same_key_different_body_conflicts(system: System, change: str) -> None:
    zj = system.desks["zj"]
    alice = await zj.investigator(YUHANG)
    key, body = str(uuid.uuid4()), marked()
    status, first, _ = await post(system, zj, alice, body, key)
    assert status == 201, first
    other = {
        "question": {**body, "questions": [{"id": "q1", "text": "另一个问题？"}]},
        "recipient": {**body, "recipient": TIANHE},
        "due_date": {**body, "due_date": "2099-12-31"},
        "kind": {**body, "kind": "evidence_collection"},
    }[change]
    before = await rows(zj, "SELECT count(*) FROM request WHERE requester = $1", YUHANG)
    # When the same key comes with a different request
    status, err, replayed = await post(system, zj, alice, other, key)
    # Then it is a conflict, and nothing new is stored
    assert status < 500, err
    assert status == 409 and err["error"]["code"] == "idempotency_conflict", err
    assert replayed is None
    assert await rows(zj, "SELECT count(*) FROM request WHERE requester = $1", YUHANG) == before
    # and the original still answers to the key
    status, again, replayed = await post(system, zj, alice, body, key)
    assert status == 201 and replayed == "true" and again["id"] == first["id"], again


async def test_same_request_spelled_differently_replays(system: System) -> None:
    zj = system.desks["zj"]
    alice = await zj.investigator(YUHANG)
    key, body = str(uuid.uuid4()), marked()
    status, first, _ = await post(system, zj, alice, body, key)
    assert status == 201, first
    # When the retry has its keys in another order and padded text (which the API strips)
    respelled = dict(reversed(list(body.items())))
    respelled["subject"] = {**body["subject"],
                            "merchant_name": f"  {body['subject']['merchant_name']} "}
    status, again, replayed = await post(system, zj, alice, respelled, key)
    # Then it is the same request
    assert status == 201 and replayed == "true" and again["id"] == first["id"], again


async def test_keys_belong_to_a_bureau(system: System) -> None:
    zj = system.desks["zj"]
    alice, xihu = await zj.investigator(YUHANG), await zj.investigator(XIHU)
    key = str(uuid.uuid4())
    # Given Yuhang used a key
    status, mine, _ = await post(system, zj, alice, marked(), key)
    assert status == 201, mine
    # When Xihu, on the same desk, uses the same key for its own request
    status, theirs, replayed = await post(system, zj, xihu, marked(), key)
    # Then Xihu gets a new request of its own
    assert status == 201 and replayed is None, theirs
    assert theirs["id"] != mine["id"] and theirs["requester"]["code"] == XIHU


async def test_concurrent_retries_store_and_count_one(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice, bob = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    key, body = str(uuid.uuid4()), marked()
    name = body["subject"]["merchant_name"]
    await eventually(lambda: _settled(system), what="hub to catch up with earlier tests")
    before = await hub_figures(system, YUHANG)
    # When ten copies of one create race each other with the same key
    results = await asyncio.gather(*(post(system, zj, alice, body, key) for _ in range(10)))
    # Then all succeed with the same id, and exactly one of them did the work
    assert all(status == 201 for status, _, _ in results), results
    ids = {created["id"] for _, created, _ in results}
    assert len(ids) == 1, ids
    rid = ids.pop()
    assert sorted(r for _, _, r in results if r) == ["true"] * 9
    # and one request is stored, created once, and sent once
    assert await rows(zj, "SELECT count(*) FROM request WHERE idempotency_key = $1", key) == 1
    assert await rows(zj, "SELECT count(*) FROM audit_log WHERE action = 'create'"
                      " AND request_id = $1", uuid.UUID(rid)) == 1
    assert await listed(system, zj, alice, "outbox", name) == [rid]

    async def delivered() -> list[str]:
        return await listed(system, sc, bob, "inbox", name)

    assert await eventually(delivered, what="delivery to Wuhou") == [rid]

    async def counted() -> dict[str, int] | None:
        now = await hub_figures(system, YUHANG)
        return now if now["delivered"] > before["delivered"] else None

    await eventually(counted, what="hub counts the delivery")
    assert await sent_once(zj, rid)
    await eventually(lambda: _settled(system), what="hub counts every event sent")
    after = await hub_figures(system, YUHANG)
    assert after["created"] == before["created"] + 1, (before, after)
    assert after["delivered"] == before["delivered"] + 1, (before, after)
    assert await delivered() == [rid]


async def sent_once(desk: DeskHandle, rid: str) -> bool:
    """Once nothing about ``rid`` waits in the outbox (all confirmed by the broker), its
    submission was published exactly once: each confirmed one puts 'sent' on the timeline."""

    async def all_confirmed() -> bool:
        return await rows(desk, "SELECT count(*) FROM outbox WHERE request_id = $1",
                          uuid.UUID(rid)) == 0

    await eventually(all_confirmed, what="outbox drained")
    return await rows(desk, "SELECT count(*) FROM request_event WHERE request_id = $1"
                      " AND type = 'sent'", uuid.UUID(rid)) == 1


async def _settled(system: System) -> bool:
    """Everything created so far has been counted as delivered by the hub."""
    figures = await hub_figures(system, YUHANG)
    return figures["created"] == figures["delivered"]
