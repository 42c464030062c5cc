"""Personal data over time: hidden from investigators six months after a request ended,
deleted with every copy three years after; the hub's statistics stay as they were."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from services.desk.app import RETENTION
from services.desk.web import DESK
from tests import evidence
from tests.support import Clock, System, eventually, new_request, start_system

pytestmark = pytest.mark.asyncio(loop_scope="session")

JINJIANG, WUHOU = "510104", "510107"
NAME, ID_NUMBER = "欧阳娜娜", "11010519491231002X"
REPLY = {"findings": "投诉人欧阳娜娜，电话 13912345678，身份属实",
         "answers": [{"question_id": "q1", "answer": "是", "confirmed": True}]}
TABLES = ("request", "bulk_item", "attachment", "request_event", "parked_event", "outbox")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clocked() -> AsyncIterator[tuple[System, Clock]]:
    clock = Clock()
    system = await start_system({"sc": "51"}, clock=clock, retention_check_seconds=0)
    yield system, clock
    await system.close()


async def closed_case(system: System) -> tuple[str, str, str, str]:
    """A request from Jinjiang to Wuhou with a complainant item, a file and a reply,
    closed; returns its URL, the file's id and both tokens."""
    sc = system.desks["sc"]
    a, b = await sc.investigator(JINJIANG), await sc.investigator(WUHOU)
    _, req = await system.call("POST", sc.url("/v1/requests"), a, json=new_request(WUHOU))
    url = sc.url(f"/v1/requests/{req['id']}")
    await system.call("POST", f"{url}/items", a, json=[{"name": NAME, "id_number": ID_NUMBER}])
    _, up = await system.call("POST", f"{url}/attachments", a, data=evidence.pdf(),
                              headers={"X-Filename": f"{NAME}身份证.pdf"})

    async def accepted() -> bool:
        return (await system.call("POST", f"{url}/accept", b))[0] == 200

    await eventually(accepted, what="delivered and accepted")
    await system.call("POST", f"{url}/items/answers", b,
                      json=[{"idx": 1, "result": "confirmed", "note": "电话 13912345678"}])
    assert (await system.call("POST", f"{url}/reply", b, json=REPLY))[0] == 200
    assert (await system.call("POST", f"{url}/close", a, json={"rating": 5}))[0] == 200
    return url, up["id"], a, b


async def test_hidden_after_six_months_deleted_after_three_years(
    clocked: tuple[System, Clock]
) -> None:
    system, clock = clocked
    url, aid, a, _ = await closed_case(system)
    shown = await everything(system, url, aid, a)
    assert NAME in str(shown) and ID_NUMBER in str(shown) and "13912345678" in str(shown)

    clock.advance(days=184)  # six months after closure: the investigators see none of it
    hidden = await everything(system, url, aid, a)
    for secret in (NAME, ID_NUMBER, "13912345678"):
        assert secret not in str(hidden), secret
    assert hidden["request"]["state"] == "closed" and hidden["request"]["rating"] == 5
    assert hidden["download"] == (410, "personal_data_hidden")

    stats = system.hub_url("/v1/stats")
    _, figures = await system.call("GET", stats)
    clock.advance(days=1100)  # three years: the retention job deletes every copy
    desk = system.desks["sc"].server.app
    assert await desk[RETENTION].tick() == 1
    rid = uuid.UUID(url.rsplit("/", 1)[-1])
    async with desk[DESK].pool.acquire() as conn:
        for table in TABLES:
            left = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE request_id = $1"
                                       if table != "request" else
                                       "SELECT count(*) FROM request WHERE id = $1", rid)
            assert left == 0, table
        assert await conn.fetchval("SELECT count(*) FROM attachment_chunk c WHERE NOT EXISTS"
                                   " (SELECT 1 FROM attachment a WHERE a.id = c.attachment_id)"
                                   ) == 0
    assert (await system.call("GET", url, a))[0] == 404
    assert (await system.call("GET", stats))[1] == figures  # the statistics are intact
    assert await desk[RETENTION].tick() == 0


async def everything(system: System, url: str, aid: str, token: str) -> dict[str, Any]:
    """What an investigator of the requester can read about the request."""
    out: dict[str, Any] = {}
    out["request"] = (await system.call("GET", url, token))[1]
    out["items"] = (await system.call("GET", f"{url}/items", token))[1]
    out["files"] = (await system.call("GET", f"{url}/attachments", token))[1]
    async with system.http.get(f"{url}/items/sheet?format=csv",
                               headers={"Authorization": f"Bearer {token}"}) as resp:
        out["sheet"] = (await resp.read()).decode("utf-8-sig")
    async with system.http.get(f"{url}/attachments/{aid}",
                               headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await resp.read()
        code = (await resp.json())["error"]["code"] if resp.status >= 400 else None
        out["download"] = (resp.status, code) if code else (resp.status, len(body))
    return out
