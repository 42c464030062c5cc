"""Broadcast: one request to many partners, a child per recipient, a group summary."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import System, eventually, new_request, refused

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG = "330110"


def group_body(**target: Any) -> dict[str, Any]:
    body = new_request()
    body.update(target)
    return body


async def test_broadcast_to_a_province(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a = await zj.investigator(YUHANG)
    _, registry = await system.call("GET", system.hub_url("/v1/registry?status=signed&province=51"))
    signed = {b["code"] for b in registry["bureaus"]}

    status, group = await system.call("POST", zj.url("/v1/groups"), a,
                                      json=group_body(province="51"),
                                      headers={"Idempotency-Key": "bc-51"})
    assert status == 201, group
    assert {c["recipient"] for c in group["children"]} == signed
    gid = group["id"]

    # every child reaches its own recipient's inbox
    async def all_delivered() -> Any:
        _, g = await system.call("GET", zj.url(f"/v1/groups/{gid}"), a)
        return g if g["summary"]["by_state"].get("delivered") == len(signed) else None

    # 68 requests through two desks in this one process, each signed and checked (SM2)
    # several times: on a loaded shared machine this takes longer than one request's wait
    await eventually(all_delivered, within=60, what="all children delivered")

    # one recipient answers, one rejects
    first, second = sorted(signed)[:2]
    b1, b2 = await sc.investigator(first), await sc.investigator(second)
    child = {c["recipient"]: c["id"] for c in group["children"]}
    await system.call("POST", sc.url(f"/v1/requests/{child[first]}/accept"), b1)
    await system.call("POST", sc.url(f"/v1/requests/{child[first]}/reply"), b1,
                      json={"findings": "已核实"})
    await system.call("POST", sc.url(f"/v1/requests/{child[second]}/reject"), b2,
                      json={"reason": "not_competent"})

    async def summed() -> Any:
        _, g = await system.call("GET", zj.url(f"/v1/groups/{gid}"), a)
        s = g["summary"]
        return s if s["answered"] == 1 and s["ended"] == 1 else None

    summary = await eventually(summed, what="group summary")
    assert summary["total"] == len(signed)
    assert summary["pending"] == len(signed) - 2 and summary["overdue"] == 0

    # the children are also found with the group filter
    _, page = await system.call("GET", zj.url(f"/v1/requests?box=outbox&group={gid}&limit=200"),
                                a)
    assert {i["id"] for i in page["items"]} == set(child.values())

    # a retry with the same key is the same group; other bureaus cannot see it
    status, again = await system.call("POST", zj.url("/v1/groups"), a,
                                      json=group_body(province="51"),
                                      headers={"Idempotency-Key": "bc-51"})
    assert status == 201 and again["id"] == gid
    other = await zj.investigator("330106")
    refused(await system.call("GET", zj.url(f"/v1/groups/{gid}"), other), 404, "not_found")


@pytest.mark.parametrize(("target", "code"), [
    ({}, "validation_failed"),
    ({"recipients": ["510107"], "province": "51"}, "validation_failed"),
    ({"recipients": ["510107", "339999"]}, "unknown_bureau"),
    ({"recipients": ["510107", YUHANG]}, "same_bureau"),
    ({"province": "54"}, "no_competent_bureau"),  # no signed partner in Tibet
])
async def test_bad_broadcasts_are_refused(system: System, target: dict[str, Any],
                                          code: str) -> None:
    zj = system.desks["zj"]
    a = await zj.investigator(YUHANG)
    status, body = await system.call("POST", zj.url("/v1/groups"), a, json=group_body(**target))
    assert status == 422 and body["error"]["code"] == code, body


async def test_broadcast_to_a_list(system: System) -> None:
    zj = system.desks["zj"]
    a = await zj.investigator(YUHANG)
    status, group = await system.call("POST", zj.url("/v1/groups"), a,
                                      json=group_body(recipients=["510107", "440305",
                                                                  "510107"]))
    assert status == 201
    assert sorted(c["recipient"] for c in group["children"]) == ["440305", "510107"]
