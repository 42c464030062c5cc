"""A joint case's tasks keep the deadlines of requests: the lead's progress shows a task
overdue, and the requester's deadline watch reminds and escalates it as any request."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from services.desk.app import WATCH
from services.desk.requests.deadlines import DeadlineWatch
from tests.integration.test_pages import browser_of
from tests.support import Clock, System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

LEAD, SC = "330110", "510107"
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 2 Nov 2026, 10:00 in China


async def test_an_overdue_task_shows_in_progress_and_is_chased(clocked_system: System,
                                                               clock: Clock) -> None:
    s = clocked_system
    zj, sc = s.desks["zj"], s.desks["sc"]
    lead, member = await zj.investigator(LEAD), await sc.investigator(SC)
    _, case = await s.call("POST", zj.url("/v1/joint"), lead, json={
        "title": "案", "subjects": [{"merchant_name": "某公司"}], "legal_basis": "法",
        "aim": "查", "members": [SC]})
    cid = case["id"]

    async def view(desk: Any, token: str, check: Any) -> Any:
        async def probe() -> Any:
            status, c = await s.call("GET", desk.url(f"/v1/joint/{cid}"), token)
            return c if status == 200 and check(c) else None
        return await eventually(probe, what="case view")

    await view(sc, member, lambda c: True)
    await s.call("POST", sc.url(f"/v1/joint/{cid}/accept"), member)
    await view(zj, lead, lambda c: c["members"][0]["status"] == "accepted")
    status, made = await s.call("POST", zj.url(f"/v1/joint/{cid}/tasks"), lead,
                                json=new_request(assignee=SC))
    assert status == 201, made
    rid = made["request_id"]

    async def delivered() -> Any:
        _, r = await s.call("GET", zj.url(f"/v1/requests/{rid}"), lead)
        return r["state"] == "delivered"

    await eventually(delivered, what="task delivered")
    shown = await view(zj, lead, lambda c: SC in c["progress"])
    assert shown["progress"][SC] | {"tasks": None} == {
        "done": 0, "pending": 1, "overdue": 0, "ended": 0, "tasks": None}

    # When the task's due date (5 working days: Monday 9 Nov) has passed by a day
    clock.now = START + dt.timedelta(days=8)
    watch: DeadlineWatch = zj.server.app[WATCH]
    assert await watch.tick() >= 1

    # Then the lead sees it overdue, and the member's desk got the reminder
    late = await view(zj, lead, lambda c: c["progress"][SC]["overdue"] == 1)
    assert late["progress"][SC]["tasks"][0]["request_id"] == rid
    # and the lead's page shows the member's task pending, overdue as text and icon
    page = await browser_of(zj, lead)
    try:
        async with page.get(zj.url(f"/joint/{cid}")) as resp:
            html = await resp.text()
    finally:
        await page.close()
    row = re.search(rf'data-bureau="{SC}".*?</tr>', html, re.S)
    assert row and "data-pending>1<" in row.group(0), html
    assert '<span class="badge overdue"><span aria-hidden="true">⏰</span> 1</span>' in row.group(0)

    async def reminded() -> Any:
        _, r = await s.call("GET", sc.url(f"/v1/requests/{rid}"), member)
        return r if r["reminders"] >= 1 else None

    await eventually(reminded, what="reminder at the member's desk")
