"""Joint-case pages over plain HTTP with sessions: a lead in Zhejiang opens a case, the
member in Sichuan finds the invitation on its list and page, accepts through the form,
and the lead's page shows the member's new status; refused steps are 4xx pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from tests.integration.test_pages import browser_of, csrf_of
from tests.support import DeskHandle, System, eventually, start_system

LEAD, SC, STRANGER = "330110", "510107", "330102"
TITLE = "某直播间销售假冒保健食品案"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def two() -> AsyncIterator[System]:
    s = await start_system({"zj": "33", "sc": "51"})
    yield s
    await s.close()


async def page(client: aiohttp.ClientSession, desk: DeskHandle, path: str) -> tuple[int, str]:
    async with client.get(desk.url(path)) as resp:
        return resp.status, await resp.text()


async def post(client: aiohttp.ClientSession, desk: DeskHandle, path: str,
               form: dict[str, str]) -> tuple[int, str, str]:
    async with client.post(desk.url(path), data=form, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


def status_of(html: str, bureau: str) -> str | None:
    found = re.search(rf'data-bureau="{bureau}" data-status="([a-z]+)"', html)
    return found.group(1) if found else None


async def test_a_member_accepts_through_the_page_and_the_lead_sees_it(two: System) -> None:
    zj, sc = two.desks["zj"], two.desks["sc"]
    lead_token = await zj.investigator(LEAD, "组长")
    member_token = await sc.investigator(SC, "四川协办")
    # Given a case the lead opened through the API, inviting Sichuan
    status, case = await two.call("POST", zj.url("/v1/joint"), lead_token, json={
        "title": TITLE, "subjects": [{"merchant_name": "杭州某某生物科技有限公司"}],
        "legal_basis": "《中华人民共和国食品安全法》第一百二十三条",
        "aim": "查清货源与销售数量", "members": [SC], "handling": ["case_only"]})
    assert status == 201, case
    cid = case["id"]
    lead, member = await browser_of(zj, lead_token), await browser_of(sc, member_token)
    try:
        # the workspace navigation links the list, where the lead finds the case
        _, box = await page(lead, zj, "/")
        assert 'href="/joint"' in box and "联合案件" in box
        _, listing = await page(lead, zj, "/joint")
        assert f'href="/joint/{cid}"' in listing and "牵头" in listing

        # When the invitation reached Sichuan, its page offers accept and decline only
        async def invited() -> str | None:
            status, html = await page(member, sc, f"/joint/{cid}")
            return html if status == 200 else None
        html = await eventually(invited, what="the invitation on Sichuan's page")
        actions = set(re.findall(rf'action="/joint/{cid}/(act/[a-z]+|tasks)"', html))
        assert actions == {"act/accept", "act/decline"}, actions
        assert html.count(f'name="csrf" value="{csrf_of(html)}"') >= 3  # both forms, sign-out
        assert status_of(html, SC) == "invited" and "仅限本案" in html
        csrf = csrf_of(html)
        # a decline without a reason, a form without the token: 4xx, nothing changes
        status, _, body = await post(member, sc, f"/joint/{cid}/act/decline", {"csrf": csrf})
        assert status == 422 and 'role="alert"' in body
        assert (await post(member, sc, f"/joint/{cid}/act/accept", {}))[0] == 403
        # a stranger's bureau is told there is no such case, as a page
        stranger = await browser_of(zj, await zj.investigator(STRANGER))
        status, body = await page(stranger, zj, f"/joint/{cid}")
        await stranger.close()
        assert status == 404 and "<h1>" in body

        # And Sichuan accepts through the form
        status, where, _ = await post(member, sc, f"/joint/{cid}/act/accept", {"csrf": csrf})
        assert status == 303 and where == f"/joint/{cid}?notice=pending"

        # Then the lead's page shows Sichuan's new status, and the lead's forms
        async def accepted() -> str | None:
            _, html = await page(lead, zj, f"/joint/{cid}")
            return html if status_of(html, SC) == "accepted" else None
        html = await eventually(accepted, what="Sichuan accepted on the lead's page")
        actions = set(re.findall(rf'action="/joint/{cid}/(act/[a-z]+|tasks)"', html))
        assert actions == {"act/invite", "tasks", "act/close", "act/note"}, actions
        # the joint timeline, in China Standard Time, in the lead desk's order
        assert "北京时间" in html and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}</time>", html)
        assert html.index("创建了案件") < html.index("邀请了单位") < html.index("加入了案件")
        # a step the lead may not take is refused as a page, never a 500
        status, _, body = await post(lead, zj, f"/joint/{cid}/act/confirm",
                                     {"csrf": csrf_of(html)})
        assert 400 <= status < 500 and 'role="alert"' in body

        # And a task assigned through the form shows with its state and due date
        status, where, _ = await post(lead, zj, f"/joint/{cid}/tasks", {
            "csrf": csrf_of(html), "assignee": SC, "kind": "merchant_registration",
            "merchant_name": "杭州某某生物科技有限公司", "question_0": "该商户是否在贵局登记？"})
        assert status == 303, where
        _, html = await page(lead, zj, f"/joint/{cid}")
        assert "商户登记核查" in html and re.search(r"<td>\d{4}-\d{2}-\d{2}</td>", html)
        assert re.search(r"<td>(已创建|已发送|已送达)</td>", html), "the task's state"
    finally:
        await lead.close()
        await member.close()
