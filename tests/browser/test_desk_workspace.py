"""The investigators' workspace in a real browser (Debian's chromium, Playwright's async
API): a Zhejiang investigator asks a Sichuan bureau, found from the credit code; the
Sichuan investigator accepts and replies with a file in a second browser context; the
reply shows on the first page without a reload. English and back; a joint case's page;
axe-core on every page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page
from pypdf import PdfReader

from tests import evidence
from tests.browser.conftest import screenshot_dir, serious_violations
from tests.support import System, start_system

WUHOU_CODE = "91510107MA6CJ4KX0W"  # characters 3-8: 510107, Chengdu Wuhou
WAIT = 20_000  # ms: a step that crosses desks over the broker


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desks() -> AsyncIterator[System]:
    s = await start_system({"zj": "33", "sc": "51"})
    yield s
    await s.close()


async def context(browser: Browser) -> BrowserContext:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai", accept_downloads=True)
    await ctx.route("**/*", lambda route: route.abort() if "127.0.0.1" not in route.request.url
                    else route.continue_())
    return ctx


async def checked(page: Page, shot: str | None = None) -> None:
    assert await serious_violations(page) == [], page.url
    where = screenshot_dir()
    if shot and where:
        await page.screenshot(path=str(where / f"{shot}.png"), full_page=True)


async def sign_in(page: Page, desk_url: str, token: str) -> None:
    await page.goto(desk_url)
    await page.wait_for_url("**/sign-in*")
    await checked(page)
    await page.get_by_label("登录令牌").fill(token)
    await page.keyboard.press("Enter")  # keyboard only
    await page.get_by_role("heading", name="收件箱").wait_for()
    cookie = next(c for c in await page.context.cookies() if c["name"] == "xiecha_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


async def pdf_text(page: Page, link: str, where: Path) -> str:
    async with page.expect_download() as download:
        await page.get_by_role("link", name=f"{link} (PDF)").click()
    path = where / f"{link}.pdf"
    await (await download.value).save_as(path)
    reader = PdfReader(path)
    assert [round(float(x)) for x in reader.pages[0].mediabox[2:]] == [595, 842]  # A4
    return "".join(p.extract_text() for p in reader.pages).replace("\n", "")


async def test_a_request_from_zhejiang_answered_in_sichuan_shows_without_reload(
    desks: System, browser: Browser, tmp_path: Path
) -> None:
    zj, sc = desks.desks["zj"], desks.desks["sc"]
    yuhang = await zj.investigator("330110", "张三")
    wuhou = await sc.investigator("510107", "李四")
    a_ctx, b_ctx = await context(browser), await context(browser)
    a, b = await a_ctx.new_page(), await b_ctx.new_page()
    # Given the Zhejiang investigator signed in
    await sign_in(a, zj.url("/"), yuhang)
    await checked(a)
    # The keyboard reaches the skip link first, and the pages through the navigation
    await a.keyboard.press("Tab")
    assert await a.evaluate("document.activeElement.textContent") == "跳到正文"
    for _ in range(3):  # inbox, outbox, new request
        await a.keyboard.press("Tab")
    assert await a.evaluate("document.activeElement.textContent") == "发起协查"
    await a.keyboard.press("Enter")
    await a.get_by_role("heading", name="发起协查").wait_for()
    # When she types a credit code with a wrong check character, it is explained
    await a.get_by_label("统一社会信用代码").fill(WUHOU_CODE[:-1] + "1")
    await a.locator("#credit-error", has_text="W").wait_for()
    # And with the right one the competent bureau is found as she types
    await a.get_by_label("统一社会信用代码").fill(WUHOU_CODE)
    await a.locator("#competent", has_text="510107").wait_for()
    await a.get_by_label("商户名称").fill("成都某某商贸有限公司")
    await checked(a, "desk-create-form")
    await a.get_by_role("button", name="发送协查请求").click()
    await a.get_by_role("heading", name="成都某某商贸有限公司").wait_for()
    request_url = a.url
    await a.evaluate("window.__notReloaded = true")
    await checked(a)

    # Then the Sichuan investigator finds it in the inbox and accepts it
    await sign_in(b, sc.url("/"), wuhou)
    link = b.get_by_role("link", name="成都某某商贸有限公司")
    for _ in range(50):  # delivery crosses the broker: reload until it is there
        if await link.count():
            break
        await b.wait_for_timeout(200)
        await b.reload()
    await checked(b, "desk-inbox")
    await link.click()
    await b.get_by_role("button", name="受理").click()
    await b.locator("#live[data-state='accepted']").wait_for()
    # And adds a file, then replies
    await b.get_by_label("添加附件").set_input_files(
        files=[{"name": "核查笔录.pdf", "mimeType": "application/pdf", "buffer": evidence.pdf()}])
    await b.get_by_role("button", name="上传").click()
    await b.get_by_role("link", name="核查笔录.pdf").wait_for()
    await b.locator("#answer_q1_r").fill("已登记，状态正常")
    await b.locator("#confirmed_q1_r").select_option("yes")
    await b.locator("#findings_r").fill("经核查，该商户在我局登记，状态存续。")
    await checked(b, "desk-request")
    await b.get_by_role("button", name="发送答复").click()
    await b.locator("#live[data-state='replied']").wait_for()

    # Then the reply and the file show on the requester's page without a reload
    await a.locator("#findings", has_text="状态存续").wait_for(timeout=WAIT)
    await a.get_by_role("link", name="核查笔录.pdf").wait_for(timeout=WAIT)
    assert await a.evaluate("window.__notReloaded") is True and a.url == request_url
    # and the live region announced it
    await a.locator("#announce", has_text="已答复").wait_for(state="attached")
    assert "已登记，状态正常" in await a.locator("ol.qa").inner_text()
    async with a.expect_download() as download:
        await a.get_by_role("link", name="核查笔录.pdf").click()
    saved = tmp_path / "got.pdf"
    await (await download.value).save_as(saved)
    assert saved.read_bytes() == evidence.pdf()
    await checked(a)
    # And the papers for the case file list on the timeline and read as they should
    letter = await pdf_text(a, "协查函", tmp_path)
    assert "杭州市余杭区市场监督管理局" in letter and "成都市武侯区市场监督管理局：" in letter
    assert "330110协〔" in letter and "该商户是否在贵局登记注册" in letter
    answer = await pdf_text(a, "协查回复函", tmp_path)
    assert "经核查，该商户在我局登记，状态存续。" in answer and "核查笔录.pdf" in answer
    assert "已登记，状态正常（属实）" in answer

    # And English is a switch away, and back
    await a.get_by_role("link", name="English").click()
    await a.get_by_role("heading", name="Timeline (China Standard Time)").wait_for()
    assert await a.locator("html").get_attribute("lang") == "en"
    await checked(a)
    await a.get_by_role("link", name="中文").click()
    await a.get_by_role("heading", name="办理记录 (北京时间)").wait_for()

    # And a joint case she leads passes axe-core too, its forms included (one page load)
    status, case = await desks.call("POST", zj.url("/v1/joint"), yuhang, json={
        "title": "某直播间销售假冒保健食品案",
        "subjects": [{"merchant_name": "成都某某商贸有限公司"}],
        "legal_basis": "《中华人民共和国食品安全法》", "aim": "查清货源", "members": ["510107"]})
    assert status == 201, case
    await a.goto(zj.url(f"/joint/{case['id']}"))
    await a.get_by_role("heading", name="联合时间线 (北京时间)").wait_for()
    await a.get_by_role("button", name="邀请").wait_for()
    await checked(a, "desk-joint")
    await a_ctx.close()
    await b_ctx.close()
