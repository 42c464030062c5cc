"""A request crosses regions, is answered, and the reply comes home; the hub counts it."""

from __future__ import annotations

import pytest

from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU = "330110", "510107"


async def test_request_reply_round_trip(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice = await zj.investigator(YUHANG, "余杭 张三")
    bob = await sc.investigator(WUHOU, "武侯 李四")

    # Given a request from Yuhang to Wuhou
    status, created = await system.call("POST", zj.url("/v1/requests"), alice,
                                        json=new_request(WUHOU))
    assert status == 201, created
    rid = created["id"]
    assert created["state"] in ("created", "sent")
    assert created["recipient"]["name"].endswith("武侯区市场监督管理局")

    # When it reaches Wuhou's inbox
    async def in_inbox() -> dict | None:
        _, page = await system.call("GET", sc.url("/v1/requests?box=inbox"), bob)
        return next((r for r in page["items"] if r["id"] == rid), None)

    item = await eventually(in_inbox, what="request in recipient inbox")
    assert item["state"] == "delivered"

    # and Wuhou accepts and replies
    status, accepted = await system.call("POST", sc.url(f"/v1/requests/{rid}/accept"), bob)
    assert status == 200 and accepted["state"] == "accepted"
    reply = {"findings": "该商户已在我局登记。", "answers": [
        {"question_id": "q1", "answer": "是", "confirmed": True},
        {"question_id": "q2", "answer": "一致", "confirmed": True}]}
    status, replied = await system.call("POST", sc.url(f"/v1/requests/{rid}/reply"), bob,
                                        json=reply)
    assert status == 200 and replied["state"] == "replied"

    # Then Yuhang sees the reply and the whole timeline
    async def answered() -> dict | None:
        _, r = await system.call("GET", zj.url(f"/v1/requests/{rid}"), alice)
        return r if r["state"] == "replied" else None

    home = await eventually(answered, what="reply recorded at home")
    assert home["reply"]["findings"] == "该商户已在我局登记。"
    types = [e["type"] for e in home["timeline"]]
    assert types == ["created", "sent", "delivered", "accepted", "replied"], types
    assert home["timeline"][3]["actor"] == "武侯 李四"
    assert home["timeline"][3]["bureau"]["code"] == WUHOU

    # And the hub has counted each step exactly once
    async def counted() -> dict | None:
        _, s = await system.call("GET", system.hub_url("/v1/stats"))
        return s if s["all"]["all_time"]["replied"] >= 1 else None

    stats = await eventually(counted, what="hub counts")
    figures = stats["all"]["all_time"]
    assert figures["created"] == figures["sent"] == figures["delivered"] == 1
    assert figures["accepted"] == figures["replied"] == figures["completed_checks"] == 1
    assert figures["on_time_rate"] == 1.0 and figures["average_turnaround_days"] == 0.0
    assert stats["partners"] >= 800 and stats["provinces_covered"] >= 26

    # And the reply is in every slice: by kind, by province, by flow, as CSV too
    assert figures["median_turnaround_working_days"] == figures["p90_turnaround_working_days"] == 0
    for by, key in (("kind", "merchant_registration"), ("province", "51"), ("flow", "33>51")):
        _, sl = await system.call("GET", system.hub_url(f"/v1/stats/slices?by={by}"))
        row = next(r for r in sl["rows"] if r["key"] == key)
        assert (row["requests"], row["completed_checks"]) == (1, 1), (by, row)
    _, period = await system.call("GET", system.hub_url("/v1/stats?from=2000-01-01&to=2099-12-31"))
    assert period["all"]["period"]["completed_checks"] == 1, period
    async with system.http.get(system.hub_url("/v1/stats/slices.csv?by=province")) as resp:
        body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf") and "\r\n51," in body.decode("utf-8-sig")
