"""The workspace's pages over plain HTTP: sign-in, cookie, CSRF, sign-out, box order and
paging, refused actions and bad forms as 4xx pages, the language switch, the live poll."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from openpyxl import load_workbook

from services.desk.web import DESK
from tests.support import DeskHandle, System, eventually, new_request, start_system

WUHOU = "510107"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def two() -> AsyncIterator[System]:
    s = await start_system({"zj": "33", "sc": "51"})
    yield s
    await s.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def browser_of(desk: DeskHandle, token: str) -> aiohttp.ClientSession:
    """A cookie-keeping client signed in with ``token``."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get(desk.url("/sign-in")) as resp:
        pre = csrf_of(await resp.text())
    async with client.post(desk.url("/sign-in"), data={"csrf": pre, "token": token},
                           allow_redirects=False) as resp:
        assert resp.status == 303
        cookie = resp.cookies["xiecha_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    return client


async def test_sign_in_csrf_and_sign_out(two: System) -> None:
    zj = two.desks["zj"]
    token = await zj.investigator("330110")
    anonymous = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with anonymous.get(zj.url("/"), allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/sign-in"
    # a sign-in post without the form's own token is refused
    async with anonymous.post(zj.url("/sign-in"), data={"token": token}) as resp:
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    async with anonymous.get(zj.url("/sign-in")) as resp:
        pre = csrf_of(await resp.text())
    async with anonymous.post(zj.url("/sign-in"), data={"csrf": pre, "token": "wrong"}) as resp:
        assert resp.status == 401 and "登录令牌无效" in await resp.text()
    await anonymous.close()
    client = await browser_of(zj, token)
    async with client.get(zj.url("/new")) as resp:
        form = await resp.text()
    # a form posted without its CSRF token, or with another one, is refused
    for bad in ({}, {"csrf": "forged"}):
        async with client.post(zj.url("/new"), data={"merchant_name": "x", **bad}) as resp:
            assert resp.status == 403
    async with client.post(zj.url("/sign-out"), data={"csrf": csrf_of(form)},
                           allow_redirects=False) as resp:
        assert resp.status == 303
    async with client.get(zj.url("/"), allow_redirects=False) as resp:
        assert resp.status == 303  # the session is gone
    await client.close()
    # revoking the token ends its sessions at once
    client = await browser_of(zj, token)
    pool = two.desks["zj"].server.app[DESK].pool
    await pool.execute("UPDATE investigator SET revoked_at = now() WHERE bureau = '330110'")
    async with client.get(zj.url("/"), allow_redirects=False) as resp:
        assert resp.status == 303
    await client.close()


async def test_outbox_by_due_date_with_a_stable_next_page(two: System) -> None:
    zj = two.desks["zj"]
    token = await zj.investigator("330108")
    today = dt.date.today()
    dues = [today + dt.timedelta(days=d) for d in (60, 30, 90, 45, 75, 40, 50)]
    for i, due in enumerate(dues):
        body = new_request(WUHOU, due_date=due.isoformat())
        body["subject"]["merchant_name"] = f"商户{i}"
        status, _ = await two.call("POST", zj.url("/v1/requests"), token, json=body)
        assert status == 201
    client = await browser_of(zj, token)
    seen: list[str] = []
    url = zj.url("/?box=outbox&per=5")
    while url:
        async with client.get(url) as resp:
            html = await resp.text()
        seen += re.findall(r"\d{4}-\d{2}-\d{2}(?=\)?</span>)", html)
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        url = zj.url(nxt.group(1).replace("&amp;", "&")) if nxt else ""
    assert seen == sorted(d.isoformat() for d in dues)
    async with client.get(zj.url("/?box=outbox&state=bogus")) as resp:
        assert resp.status == 400 and "role=\"alert\"" in await resp.text()
    await client.close()


async def test_only_allowed_actions_and_bad_forms_are_pages_not_500s(two: System) -> None:
    zj, sc = two.desks["zj"], two.desks["sc"]
    yuhang, wuhou = await zj.investigator("330110"), await sc.investigator(WUHOU)
    _, made = await two.call("POST", zj.url("/v1/requests"), yuhang, json=new_request(WUHOU))
    rid = made["id"]
    recipient = await browser_of(sc, wuhou)
    unread = re.compile(f'/requests/{rid}">[^<]+</a> <span class="badge new">')

    async def inbox() -> str | None:
        async with recipient.get(sc.url("/")) as resp:
            text = await resp.text()
        return text if f"/requests/{rid}" in text else None

    assert unread.search(await eventually(inbox, what="delivery"))
    page = await eventually(lambda: _page_if_ok(recipient, sc.url(f"/requests/{rid}")),
                            what="delivery")
    assert not unread.search(await inbox() or "")  # opened: no longer new
    stranger = await browser_of(zj, await zj.investigator("330106"))
    for path in ("", "/live?v=x", "/papers/request.pdf", "/items/sheet.xlsx"):
        async with stranger.get(zj.url(f"/requests/{rid}{path}")) as resp:
            assert resp.status == 404, path  # another bureau's request does not exist
    await stranger.close()
    assert "/act/accept" in page and "/act/reject" in page and "/act/reply" not in page
    csrf = csrf_of(page)
    async with recipient.post(sc.url(f"/requests/{rid}/act/reject"), data={"csrf": csrf}) as r:
        assert r.status == 422 and "reason" in await r.text()  # a reason is needed
    async with recipient.post(sc.url(f"/requests/{rid}/act/reply"),
                              data={"csrf": csrf, "findings": "x"}) as r:
        assert r.status == 409  # not accepted yet: the state machine says no
    async with recipient.post(sc.url(f"/requests/{rid}/act/withdraw"), data={"csrf": csrf}) as r:
        assert r.status == 409  # only the requester withdraws
    async with recipient.post(sc.url(f"/requests/{rid}/act/nonsense"), data={"csrf": csrf}) as r:
        assert r.status == 404
    for path in ("files", "items/answers"):  # a file form must be multipart, CSRF first
        async with recipient.post(sc.url(f"/requests/{rid}/{path}"), data={"csrf": csrf}) as r:
            assert r.status == 400
        form = aiohttp.FormData()
        form.add_field("csrf", "forged")
        form.add_field("file", b"%PDF-", filename="a.pdf")
        async with recipient.post(sc.url(f"/requests/{rid}/{path}"), data=form) as r:
            assert r.status == 403
    # the live poll says "nothing new" while nothing changed
    version = re.search(r"live\?v=([^\"]+)\"", page)
    assert version
    async with recipient.get(sc.url(f"/requests/{rid}/live?v={version.group(1)}")) as r:
        assert r.status == 204
    async with recipient.post(sc.url(f"/requests/{rid}/act/accept"),
                              data={"csrf": csrf}, allow_redirects=False) as r:
        assert r.status == 303
    async with recipient.get(sc.url(f"/requests/{rid}/live?v={version.group(1)}")) as r:
        assert r.status == 200 and 'data-state="accepted"' in await r.text()
    await recipient.close()


async def _page_if_ok(client: aiohttp.ClientSession, url: str) -> str | None:
    async with client.get(url) as resp:
        return await resp.text() if resp.status == 200 else None


async def test_the_language_switch_per_request(two: System) -> None:
    zj = two.desks["zj"]
    client = await browser_of(zj, await zj.investigator("330110"))
    async with client.get(zj.url("/")) as resp:
        assert "收件箱" in await resp.text()  # Simplified Chinese by default
    for asked in ("en", "en-GB", "EN"):
        async with client.get(zj.url(f"/?lang={asked}")) as resp:
            html = await resp.text()
            assert '<html lang="en">' in html and ">Inbox<" in html
    async with client.get(zj.url("/")) as resp:
        assert ">Inbox<" in await resp.text()  # remembered in a cookie
    for asked in ("zh-CN", "zh_CN", "zh-cn", "zh-Hans-CN"):
        async with client.get(zj.url(f"/?lang={asked}")) as resp:
            assert '<html lang="zh-CN">' in await resp.text(), asked
    await client.close()


async def _upload(client: aiohttp.ClientSession, url: str, csrf: str, name: str,
                  data: bytes) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("sheet", data, filename=name)
    async with client.post(url, data=form) as resp:
        return resp.status, await resp.text()


async def test_bulk_items_with_the_per_row_report_and_the_sheet_round_trip(two: System) -> None:
    zj, sc = two.desks["zj"], two.desks["sc"]
    yuhang, wuhou = await zj.investigator("330110"), await sc.investigator(WUHOU)
    _, made = await two.call("POST", zj.url("/v1/requests"), yuhang, json=new_request(WUHOU))
    rid = made["id"]
    requester = await browser_of(zj, yuhang)
    async with requester.get(zj.url(f"/requests/{rid}")) as resp:
        csrf = csrf_of(await resp.text())
    sheet = ("credit_code,name\n91510107MA6CJ4KX0W,成都某某商贸有限公司\n"
             "91510107MA6CJ4KX01,校验码错误的商户\n91330110MA2GLXXX0G,杭州某某网络科技有限公司\n").encode()
    status, html = await _upload(requester, zj.url(f"/requests/{rid}/items"), csrf, "商户.csv",
                                 sheet)
    assert status == 200 and 'id="bulk-report"' in html
    report = html[html.index('id="bulk-report"'):]
    assert "已添加条目: 2" in report  # the good rows are kept
    assert re.search(r'<td class="num">3</td>', report)  # the bad row by its sheet row number
    status, html = await _upload(requester, zj.url(f"/requests/{rid}/items"), csrf, "x.exe",
                                 b"MZ")
    assert status == 422
    recipient = await browser_of(sc, wuhou)
    page = await eventually(lambda: _page_if_ok(recipient, sc.url(f"/requests/{rid}")),
                            what="delivery")
    async with recipient.post(sc.url(f"/requests/{rid}/act/accept"),
                              data={"csrf": csrf_of(page)}) as resp:
        page = await resp.text()

    async def items_arrived() -> str | None:
        async with recipient.get(sc.url(f"/requests/{rid}")) as resp:
            text = await resp.text()
        return text if "sheet.xlsx" in text else None

    page = await eventually(items_arrived, what="items at the recipient's desk")
    async with recipient.get(sc.url(f"/requests/{rid}/items/sheet.xlsx")) as resp:
        assert resp.status == 200
        book = load_workbook(io.BytesIO(await resp.read()))
    ws = book.active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        row[header.index("result")].value = "confirmed"
    out = io.BytesIO()
    book.save(out)
    status, html = await _upload(recipient, sc.url(f"/requests/{rid}/items/answers"),
                                 csrf_of(page), "filled.xlsx", out.getvalue())
    assert status == 200
    counts = re.search(r'id="bulk-counts">([^<]+)', html)
    assert counts and "已答复: 2" in counts.group(1) and "待答复: 0" in counts.group(1)
    await requester.close()
    await recipient.close()


async def test_coordinators_see_their_regions_overdue_requests(two: System) -> None:
    zj, sc = two.desks["zj"], two.desks["sc"]
    yuhang = await zj.investigator("330110")
    body = new_request(WUHOU)
    body["subject"]["merchant_name"] = "超期商户"
    _, made = await two.call("POST", zj.url("/v1/requests"), yuhang, json=body)
    pool = sc.server.app[DESK].pool

    async def delivered() -> bool:
        return bool(await pool.fetchval("SELECT true FROM request WHERE id = $1", made["id"]))

    await eventually(delivered, what="delivery")
    # the due date passed (moved back rather than waiting days)
    await pool.execute("UPDATE request SET due_date = current_date - 3 WHERE id = $1",
                       uuid.UUID(made["id"]))
    coordinator = await browser_of(sc, await sc.investigator("510100", role="coordinator"))
    async with coordinator.get(sc.url("/escalations")) as resp:
        html = await resp.text()
    assert resp.status == 200
    overdue = html[html.index('id="overdue"'):]
    assert "超期商户" in overdue and "已超期" in overdue
    investigator = await browser_of(sc, await sc.investigator(WUHOU))
    async with investigator.get(sc.url("/escalations")) as resp:
        assert resp.status == 403
    await coordinator.close()
    await investigator.close()


async def test_the_create_form_warns_of_duplicates_and_explains_bad_input(two: System) -> None:
    zj = two.desks["zj"]
    token = await zj.investigator("330105")
    client = await browser_of(zj, token)
    async with client.get(zj.url("/new")) as resp:
        form = await resp.text()
    async with client.get(zj.url("/new/questions?kind=document_service")) as resp:
        assert "送达" in await resp.text()  # the kind's preset questions
    fields = {"csrf": csrf_of(form), "kind": "merchant_registration", "idem": "k1",
              "merchant_name": "成都某某商贸有限公司", "credit_code": "91510107MA6CJ4KX0W",
              "question_0": "该商户是否在贵局登记注册？"}
    async with client.get(zj.url("/new/recipient?credit_code=91510107MA6CJ4KX0W")) as resp:
        text = await resp.text()
        assert "510107" in text and 'role="alert"' not in text  # no open request yet
    async with client.post(zj.url("/new"), data=fields, allow_redirects=False) as resp:
        assert resp.status == 303
        first = resp.headers["Location"]
    async with client.post(zj.url("/new"), data=fields, allow_redirects=False) as resp:
        assert resp.headers["Location"] == first  # a double submit makes one request
    async with client.get(zj.url("/new/recipient?credit_code=91510107MA6CJ4KX0W")) as resp:
        text = await resp.text()
        assert 'role="alert"' in text and first in text  # the open one is shown first
    bad = fields | {"idem": "k2", "credit_code": "91510107MA6CJ4KX01"}
    async with client.post(zj.url("/new"), data=bad) as resp:
        assert resp.status == 422 and "credit_code" in await resp.text()
    no_questions = fields | {"idem": "k3", "question_0": ""}
    async with client.post(zj.url("/new"), data=no_questions) as resp:
        assert resp.status == 422
    await client.close()


async def test_failed_sign_ins_share_the_apis_limit(two: System) -> None:
    """Last in the module: it leaves the sc desk refusing this address for a minute."""
    sc = two.desks["sc"]
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    statuses = []
    for _ in range(12):  # the default allows 10 a minute per address
        async with client.get(sc.url("/sign-in")) as resp:
            pre = csrf_of(await resp.text())
        async with client.post(sc.url("/sign-in"), data={"csrf": pre, "token": "guess"}) as r:
            statuses.append(r.status)
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    status, _ = await two.call("GET", sc.url("/v1/me"), "another-guess")
    assert status == 429  # the API counts the same failures
    await client.close()
