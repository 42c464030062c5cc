"""A transfer ends the former recipient's view of what follows, also where it shares a
desk with the requester (which receives every later reply and reply file)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import evidence
from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

JINJIANG, WUHOU, TIANHE = "510104", "510107", "440106"
REPLY = {"findings": "已在广州登记，状态正常",
         "answers": [{"question_id": "q1", "answer": "是", "confirmed": True}]}


async def test_the_former_recipient_sees_nothing_after_its_transfer(system: System) -> None:
    sc, gd = system.desks["sc"], system.desks["gd"]
    a, b = await sc.investigator(JINJIANG), await sc.investigator(WUHOU)
    c = await gd.investigator(TIANHE)
    _, req = await system.call("POST", sc.url("/v1/requests"), a, json=new_request(WUHOU))
    url = sc.url(f"/v1/requests/{req['id']}")
    _, early = await system.call("POST", f"{url}/attachments", a, data=evidence.pdf(),
                                 headers={"X-Filename": "before.pdf"})

    async def state_is(desk_url: str, token: str, state: str) -> Any:
        status, body = await system.call("GET", desk_url, token)
        return body if status == 200 and body["state"] == state else None

    await eventually(lambda: state_is(url, b, "delivered"), what="delivered to Wuhou")
    assert (await system.call("POST", f"{url}/transfer", b, json={"to": TIANHE}))[0] == 200
    there = gd.url(f"/v1/requests/{req['id']}")
    await eventually(lambda: state_is(there, c, "delivered"), what="delivered to Tianhe")
    assert (await system.call("POST", f"{there}/accept", c))[0] == 200
    _, late = await system.call("POST", f"{there}/attachments", c, data=evidence.pdf(),
                                headers={"X-Filename": "reply.pdf"})
    assert (await system.call("POST", f"{there}/reply", c, json=REPLY))[0] == 200

    # the requester, on the same desk as Wuhou, gets the reply and its file
    home = await eventually(lambda: state_is(url, a, "replied"), what="reply home")
    assert home["reply"]["findings"] == REPLY["findings"]

    async def file_home() -> bool:
        _, files = await system.call("GET", f"{url}/attachments", a)
        return any(f["id"] == late["id"] and f["status"] == "complete"
                   for f in files["items"])

    await eventually(file_home, what="reply file home")
    # Wuhou sees the request as it handed it over: no reply, no later steps, no later file
    status, seen = await system.call("GET", url, b)
    assert status == 200 and seen["state"] == "transferred" and seen["reply"] is None
    assert seen["timeline"][-1]["type"] == "transferred"
    _, files = await system.call("GET", f"{url}/attachments", b)
    assert [f["id"] for f in files["items"]] == [early["id"]]
    status, body = await system.call("GET", f"{url}/attachments/{late['id']}", b)
    assert (status, body["error"]["code"]) == (404, "not_found")
    async with system.http.get(f"{url}/attachments/{late['id']}",
                               headers={"Authorization": f"Bearer {a}"}) as resp:
        assert resp.status == 200  # the requester downloads it
