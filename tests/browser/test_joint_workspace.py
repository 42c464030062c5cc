"""A joint case's page in a real browser (Debian's chromium, Playwright): the lead in
Zhejiang keeps the page open while the member in Sichuan joins, adds a note and shares a
file in a second browser context; each shows on the lead's page without a reload, and
what the lead was typing survives the update. The lead closes with outcomes, the member
confirms from the keyboard, the lead's page turns closed. axe-core on every new state,
English and back. On one desk, the supervisor comments from the keyboard and the lead,
page open, sees it and refuses a member's leave with a note.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, Page

from tests import evidence
from tests.browser.test_desk_workspace import checked, context, sign_in
from tests.support import System, start_system

LEAD, SC, SUPERVISOR, LOCAL = "330110", "510107", "330000", "330106"
WAIT = 20_000  # ms: a step that crosses desks over the broker, then a 2 s poll


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desks() -> AsyncIterator[System]:
    s = await start_system({"zj": "33", "sc": "51"})
    yield s
    await s.close()


async def open_case(desks: System, token: str, member: str = SC) -> str:
    status, case = await desks.call("POST", desks.desks["zj"].url("/v1/joint"), token, json={
        "title": "某直播间销售假冒保健食品案",
        "subjects": [{"merchant_name": "杭州某某生物科技有限公司"}],
        "legal_basis": "《中华人民共和国食品安全法》第一百二十三条", "aim": "查清货源与销售数量",
        "members": [member], "supervisor": SUPERVISOR, "handling": ["case_only"]})
    assert status == 201, case
    return str(case["id"])


async def until_there(page: Page, url: str, heading: str) -> None:
    """The case reaches the member's desk over the broker: reload until it is there."""
    for _ in range(100):
        await page.goto(url)
        if await page.get_by_role("heading", name=heading).count():
            return
        await page.wait_for_timeout(200)
    raise AssertionError(f"{url} never showed {heading}")


async def test_another_desk_s_steps_appear_on_the_open_page(
    desks: System, browser: Browser
) -> None:
    zj, sc = desks.desks["zj"], desks.desks["sc"]
    lead_token = await zj.investigator(LEAD, "组长")
    member_token = await sc.investigator(SC, "四川协办")
    cid = await open_case(desks, lead_token)
    a_ctx, b_ctx = await context(browser), await context(browser)
    a, b = await a_ctx.new_page(), await b_ctx.new_page()
    # Given the lead's page open, untouched from here on (no reload)
    await sign_in(a, zj.url("/"), lead_token)
    await a.goto(zj.url(f"/joint/{cid}"))
    await a.get_by_role("heading", name="联合时间线 (北京时间)").wait_for()
    await a.evaluate("window.__notReloaded = true")
    await checked(a)

    # When the member opens the invitation and joins from the keyboard
    await sign_in(b, sc.url("/"), member_token)
    await until_there(b, sc.url(f"/joint/{cid}"), "接受邀请")
    await checked(b)
    await b.get_by_role("button", name="加入案件").focus()
    await b.keyboard.press("Enter")
    await b.get_by_role("heading", name="在联合时间线上添加记录").wait_for(timeout=WAIT)

    # Then the lead's page shows the member joined, with the lead's timeline entry
    await a.locator("#members tr[data-bureau='510107'][data-status='accepted']").wait_for(
        timeout=WAIT)
    await a.locator("#timeline li[data-event='accepted']").wait_for()
    # And while the lead types the findings, the member's note arrives
    await a.get_by_label("查明情况总结").fill("查明销售假冒保健食品 1200 件")
    await b.get_by_label("记录内容").fill("已调取直播回放，涉及消费者手机号")
    await b.get_by_label("含个人信息：最小范围知悉，不得复制").first.check()
    await b.get_by_role("button", name="添加记录").click()
    await a.locator("#timeline li[data-event='noted']", has_text="涉及消费者手机号").wait_for(
        timeout=WAIT)
    assert await a.get_by_label("查明情况总结").input_value() == "查明销售假冒保健食品 1200 件"
    # And the member's file appears with its SHA-256, verified on arrival
    await b.get_by_label("文件（PDF、图片、Word、Excel；不超过 20 MiB）").set_input_files(files=[
        {"name": "直播回放截图.pdf", "mimeType": "application/pdf", "buffer": evidence.pdf()}])
    await b.get_by_role("button", name="共享文件").click()
    await a.locator("#evidence li[data-status='complete']", has_text="直播回放截图.pdf").wait_for(
        timeout=WAIT)
    assert await a.evaluate("window.__notReloaded") is True
    await a.locator("#announce", has_text="已更新").wait_for(state="attached")
    await checked(a, "desk-joint-lead")

    # When the lead closes with a fine
    await a.locator("#outcome-kind-0").select_option("fine")
    await a.locator("#outcome-amount-0").fill("200000")
    await a.locator("#outcome-merchant-0").fill("杭州某某生物科技有限公司")
    await a.get_by_role("button", name="提出结案").click()
    await a.locator("#live[data-state='closing']").wait_for()
    await a.evaluate("window.__notReloaded = true")
    # Then the member's page (open since the file) shows the summary and the confirm form
    await b.locator("#outcomes tr[data-kind='fine']", has_text="200,000").wait_for(timeout=WAIT)
    await checked(b, "desk-joint-closing")
    await b.get_by_role("button", name="确认", exact=True).focus()
    await b.keyboard.press("Enter")
    # And once it confirmed, the lead's page turns closed without a reload
    await a.locator("#live[data-state='closed']").wait_for(timeout=WAIT)
    assert await a.evaluate("window.__notReloaded") is True
    await checked(a)

    # And English is a switch away, and back
    await a.get_by_role("link", name="English").click()
    await a.get_by_role("heading", name="Joint timeline (China Standard Time)").wait_for()
    assert await a.locator("#outcomes").inner_text() != ""
    await a.get_by_role("cell", name="Fine").wait_for()
    await checked(a)
    await a.get_by_role("link", name="中文").click()
    await a.get_by_role("heading", name="联合时间线 (北京时间)").wait_for()
    await a_ctx.close()
    await b_ctx.close()


async def test_the_supervisor_comments_from_the_keyboard_and_the_lead_answers_a_leave(
    desks: System, browser: Browser
) -> None:
    zj = desks.desks["zj"]
    lead_token = await zj.investigator(LEAD, "组长")
    sup_token = await zj.investigator(SUPERVISOR, "省局督办")
    local = await zj.investigator(LOCAL, "西湖协办")
    # Given a case on one desk whose member (Hangzhou Xihu) joined and asks to leave
    cid = await open_case(desks, lead_token, LOCAL)
    for step, body in (("accept", None), ("leave", {"reason": "人手不足"})):
        status, _ = await desks.call("POST", zj.url(f"/v1/joint/{cid}/{step}"), local, json=body)
        assert status == 200
    a_ctx, s_ctx = await context(browser), await context(browser)
    a, s = await a_ctx.new_page(), await s_ctx.new_page()
    await sign_in(a, zj.url("/"), lead_token)
    await a.goto(zj.url(f"/joint/{cid}"))
    await a.get_by_role("heading", name="杭州市西湖区市场监督管理局申请退出").wait_for()
    await checked(a)  # the leave's two answers in one form
    # When the supervisor writes a comment and sends it with the keyboard only
    await sign_in(s, zj.url("/"), sup_token)
    await s.goto(zj.url(f"/joint/{cid}"))
    assert await s.get_by_role("heading", name="督办意见").count() == 1
    await checked(s)
    await s.get_by_label("督办意见内容").fill("请于月底前查清货源")
    await s.keyboard.press("Tab")
    await s.keyboard.press("Enter")
    await s.locator("#timeline li[data-event='commented']").wait_for()
    # Then it appears on the lead's open page, who refuses the leave with a note
    await a.locator("#timeline li[data-event='commented']", has_text="请于月底前查清货源").wait_for(
        timeout=WAIT)
    await a.get_by_label("不同意时的说明（可选）").fill("请坚持到结案")
    await a.get_by_role("button", name="不同意退出").click()
    await a.locator(f"#members tr[data-bureau='{LOCAL}'][data-status='accepted']").wait_for()
    await a.locator("#timeline li[data-event='leave_refused']", has_text="请坚持到结案").wait_for()
    await checked(a)
    await a_ctx.close()
    await s_ctx.close()
