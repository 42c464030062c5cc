"""A request is visible only to its two parties' bureaus, and every view of it is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from tests.support import DeskHandle, System, any_uuid, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU = "330110", "510107"
OUTSIDERS = {
    "other_desk": ("gd", "440106"),  # 天河: a third region
    "requester_desk": ("zj", "330106"),  # 西湖: stored on the same desk as the requester
    "recipient_desk": ("sc", "510104"),  # 锦江: stored on the same desk as the recipient
}
REPLY = {"findings": "已登记。", "answers": [{"question_id": "q1", "answer": "是"}]}


@dataclass
class Case:
    rid: str
    requester: str  # tokens
    recipient: str
    colleague: str  # another investigator of the requester's bureau


async def send(system: System, method: str, url: str, token: str | None = None,
               **kw: Any) -> tuple[int, Any]:
    """Like ``system.call`` but survives a non-JSON (e.g. 500 text) body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with system.http.request(method, url, headers=headers, **kw) as resp:
        text = await resp.text()
    try:
        return resp.status, json.loads(text) if text else None
    except ValueError:
        return resp.status, text


async def box(system: System, desk: DeskHandle, token: str, which: str) -> list[str]:
    status, page = await send(system, "GET", desk.url(f"/v1/requests?box={which}&limit=200"),
                              token)
    assert status == 200, page
    return [item["id"] for item in page["items"]]


async def views(desk: DeskHandle, rid: str, bureau: str | None = None) -> int:
    conn = await asyncpg.connect(desk.settings.dsn)
    try:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE request_id = $1 AND action = 'view'"
            " AND ($2::text IS NULL OR bureau::text = $2::text)", rid, bureau)
    finally:
        await conn.close()
    return n


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def case(system: System) -> Case:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice = await zj.investigator(YUHANG, "余杭 张三")
    bob = await sc.investigator(WUHOU, "武侯 李四")
    status, created = await send(system, "POST", zj.url("/v1/requests"), alice,
                                 json=new_request(WUHOU))
    assert status == 201, created
    rid = created["id"]

    async def delivered() -> bool:
        return rid in await box(system, sc, bob, "inbox")

    await eventually(delivered, what="request in Wuhou's inbox")
    return Case(rid, alice, bob, await zj.investigator(YUHANG, "余杭 王五"))


async def test_parties_see_it_in_the_right_box(system: System, case: Case) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    # Given a request from Yuhang (zj) to Wuhou (sc), delivered
    # Then the requester has it in its outbox only, the recipient in its inbox only
    assert case.rid in await box(system, zj, case.requester, "outbox")
    assert case.rid not in await box(system, zj, case.requester, "inbox")
    assert case.rid in await box(system, sc, case.recipient, "inbox")
    assert case.rid not in await box(system, sc, case.recipient, "outbox")
    # and any investigator of the requester's bureau sees it too: visibility is per bureau
    assert case.rid in await box(system, zj, case.colleague, "outbox")
    status, seen = await send(system, "GET", zj.url(f"/v1/requests/{case.rid}"), case.colleague)
    assert status == 200 and seen["id"] == case.rid, seen


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_outsider_does_not_see_it(system: System, case: Case, who: str) -> None:
    region, bureau = OUTSIDERS[who]
    desk = system.desks[region]
    eve = await desk.investigator(bureau, f"outsider {bureau}")
    # Given an investigator of a bureau that is no party to the request
    # Then it is in neither of that bureau's boxes
    for which in ("inbox", "outbox"):
        assert case.rid not in await box(system, desk, eve, which)
    # And every way of reaching it answers exactly as for an id that does not exist
    ghost = any_uuid()
    for method, suffix, kw in (("GET", "", {}), ("POST", "/accept", {}),
                               ("POST", "/reply", {"json": REPLY})):
        status, err = await send(system, method, desk.url(f"/v1/requests/{case.rid}{suffix}"),
                                 eve, **kw)
        assert status == 404, (method, suffix, err)
        assert err["error"]["code"] == "not_found", err
        _, other = await send(system, method, desk.url(f"/v1/requests/{ghost}{suffix}"), eve,
                              **kw)
        assert err["error"]["message"].replace(case.rid, ghost) == other["error"]["message"]
    # And a refused look is not recorded as a view by that bureau
    assert await views(desk, case.rid, bureau) == 0


async def test_outsiders_changed_nothing(system: System, case: Case) -> None:
    # Given the outsiders' refused attempts to accept and reply (tests above)
    # Then the request is still just delivered, on both sides, with no one's step on it
    for region, token in (("zj", case.requester), ("sc", case.recipient)):
        desk = system.desks[region]
        status, seen = await send(system, "GET", desk.url(f"/v1/requests/{case.rid}"), token)
        assert status == 200, seen
        assert seen["state"] == "delivered" and seen["reply"] is None, seen
        assert [e["type"] for e in seen["timeline"]][-1] == "delivered", seen["timeline"]
        assert {e["bureau"]["code"] for e in seen["timeline"]} <= {YUHANG, WUHOU}


@pytest.mark.parametrize("side", ["requester", "recipient"])
async def test_every_view_by_a_party_is_audited(system: System, case: Case, side: str) -> None:
    region, bureau = ("zj", YUHANG) if side == "requester" else ("sc", WUHOU)
    desk, token = system.desks[region], getattr(case, side)
    url = desk.url(f"/v1/requests/{case.rid}")
    # Given the views recorded so far
    before = await views(desk, case.rid)
    for n in range(1, 4):
        # When the party looks at the request
        status, seen = await send(system, "GET", url, token)
        assert status == 200, seen
        # Then exactly one more view is recorded, by that party's bureau
        assert await views(desk, case.rid) == before + n
    conn = await asyncpg.connect(desk.settings.dsn)
    try:
        last = await conn.fetchrow(
            "SELECT a.bureau, a.correlation_id, i.bureau AS inv_bureau FROM audit_log a"
            " JOIN investigator i ON i.id = a.investigator_id"
            " WHERE a.request_id = $1 AND a.action = 'view' ORDER BY a.id DESC LIMIT 1",
            case.rid)
    finally:
        await conn.close()
    assert last["bureau"] == last["inv_bureau"] == bureau, dict(last)
    assert last["correlation_id"], dict(last)
