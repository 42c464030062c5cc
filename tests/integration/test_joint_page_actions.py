"""Everything a member, the lead and the supervisor do through the API, done through the
joint case's page (plain HTTP with sessions, real servers): decline with a reason, notes
with restrictions, shared evidence listed with its SHA-256, verified and downloaded, a
supervision comment, a leave asked and refused, a closing with structured outcomes and
the members' confirmation. Each page offers only the forms allowed now; refusals come
back as the page with the API's status and error code; the live part answers 204 until
something changed. A leave agreed on the page ends what the member reads; a stored file
that no longer matches its SHA-256 fails verify and is not handed out."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import asyncpg
import pytest_asyncio

from tests import evidence
from tests.integration.test_joint_pages import page, post, status_of
from tests.integration.test_pages import browser_of, csrf_of
from tests.support import System, eventually, start_system

LEAD, LOCAL, SC, SUPERVISOR, STRANGER = "330110", "330106", "510107", "330000", "330102"
MERCHANT = "杭州某某生物科技有限公司"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def two() -> AsyncIterator[System]:
    s = await start_system({"zj": "33", "sc": "51"})
    yield s
    await s.close()


def forms_of(html: str, cid: str) -> set[str]:
    """The steps a page offers as forms (and buttons posting elsewhere)."""
    return set(re.findall(rf'(?:action|formaction)="/joint/{cid}/(act/[a-z-]+|tasks|evidence)"',
                          html))


def code_of(html: str) -> str | None:
    found = re.search(r'role="alert" data-code="([a-z_]+)"', html)
    return found.group(1) if found else None


async def share(client: aiohttp.ClientSession, url: str, csrf: str, name: str, data: bytes,
                *handling: str) -> tuple[int, str, str]:
    """The page's upload form: the CSRF token first, the ticked restrictions, the file."""
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    for h in handling:
        form.add_field("handling", h)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    async with client.post(url, data=form, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


def showing(client: aiohttp.ClientSession, url: str,
            test: Callable[[str], bool]) -> Callable[[], Awaitable[str | None]]:
    async def probe() -> str | None:
        async with client.get(url) as resp:
            html = await resp.text()
        return html if resp.status == 200 and test(html) else None
    return probe


async def test_the_page_does_what_the_api_does(two: System) -> None:
    zj, sc = two.desks["zj"], two.desks["sc"]
    tokens = {LEAD: await zj.investigator(LEAD, "组长"), LOCAL: await zj.investigator(LOCAL),
              SUPERVISOR: await zj.investigator(SUPERVISOR, "省局督办"),
              SC: await sc.investigator(SC, "四川协办"), STRANGER: await zj.investigator(STRANGER)}
    status, case = await two.call("POST", zj.url("/v1/joint"), tokens[LEAD], json={
        "title": "某直播间销售假冒保健食品案", "subjects": [{"merchant_name": MERCHANT}],
        "legal_basis": "《中华人民共和国食品安全法》第一百二十三条", "aim": "查清货源",
        "members": [SC, LOCAL], "supervisor": SUPERVISOR})
    assert status == 201, case
    cid = case["id"]
    lead, local, sup = [await browser_of(zj, tokens[b]) for b in (LEAD, LOCAL, SUPERVISOR)]
    member, stranger = await browser_of(sc, tokens[SC]), await browser_of(zj, tokens[STRANGER])
    here, there = zj.url(f"/joint/{cid}"), sc.url(f"/joint/{cid}")
    try:
        # Given Hangzhou Xihu declines through the form, with its reason
        _, html = await page(local, zj, f"/joint/{cid}")
        assert forms_of(html, cid) == {"act/accept", "act/decline"}
        status, where, _ = await post(local, zj, f"/joint/{cid}/act/decline",
                                      {"csrf": csrf_of(html), "reason": "本局不在该案辖区"})
        assert (status, where) == (303, f"/joint/{cid}?notice=done")
        # the supervisor reads everything and may only comment
        _, html = await page(sup, zj, f"/joint/{cid}")
        assert forms_of(html, cid) == {"act/comment"} and "本局不在该案辖区" in html

        # And Sichuan accepts; its page then offers a note, evidence and leaving
        html = await eventually(showing(member, there, lambda h: status_of(h, SC) == "invited"),
                                what="the invitation in Sichuan")
        await post(member, sc, f"/joint/{cid}/act/accept", {"csrf": csrf_of(html)})
        html = await eventually(showing(member, there, lambda h: status_of(h, SC) == "accepted"),
                                what="Sichuan joined")
        assert forms_of(html, cid) == {"act/note", "evidence", "act/leave"}
        csrf_m = csrf_of(html)

        # When Sichuan adds a note with a restriction and shares a file
        status, where, _ = await post(member, sc, f"/joint/{cid}/act/note", {
            "csrf": csrf_m, "text": "已调取直播回放，涉及消费者手机号",
            "handling": "personal_data"})
        assert (status, where) == (303, f"/joint/{cid}?notice=pending")
        pdf = evidence.pdf()
        status, where, _ = await share(member, sc.url(f"/joint/{cid}/evidence"), csrf_m,
                                       "直播回放截图.pdf", pdf, "personal_data", "case_only")
        assert status == 303 and "notice=shared-pending" in where
        # a file the desk does not take is refused as the page, with the API's code
        status, _, body = await share(member, sc.url(f"/joint/{cid}/evidence"), csrf_m,
                                      "run.exe", b"MZ\x90\x00" * 8)
        assert status == 415 and code_of(body) == "unsupported_media_type"

        # Then the lead's page shows the note's text and restriction, and the file with
        # its SHA-256 and restrictions, verified on arrival
        sha = hashlib.sha256(pdf).hexdigest()
        html = await eventually(showing(lead, here, lambda h: sha in h and "涉及消费者" in h),
                                what="the note and the file at the lead's desk")
        assert "含个人信息：最小范围知悉，不得复制" in html
        fid = re.search(r'id="file-([0-9a-f-]+)" data-status="complete"', html).group(1)
        async with lead.get(zj.url(f"/joint/{cid}/evidence/{fid}/verify")) as resp:
            verified = await resp.text()
            assert resp.status == 200 and f"verified={fid}" in str(resp.url)
        assert 'id="verified"' in verified and sha in verified
        async with lead.get(zj.url(f"/joint/{cid}/evidence/{fid}")) as resp:
            assert resp.status == 200 and await resp.read() == pdf
            assert resp.headers["X-Content-SHA256"] == sha
        # a stranger's bureau is told there is no such case, file or verify alike
        async with stranger.get(zj.url(f"/joint/{cid}/evidence/{fid}/verify")) as resp:
            assert resp.status == 404 and code_of(await resp.text()) == "not_found"
        _, html = await page(stranger, zj, "/joint")
        status, _, body = await share(stranger, zj.url(f"/joint/{cid}/evidence"),
                                      csrf_of(html), "x.pdf", pdf)
        assert status == 404 and code_of(body) == "not_found"

        # And the supervisor's comment reaches the member's page
        _, html = await page(sup, zj, f"/joint/{cid}")
        status, _, _ = await post(sup, zj, f"/joint/{cid}/act/comment",
                                  {"csrf": csrf_of(html), "text": "请于月底前查清货源"})
        assert status == 303
        await eventually(showing(member, there, lambda h: "请于月底前查清货源" in h),
                         what="the supervision comment in Sichuan")

        # And a leave asked by Sichuan is answered by the lead, who may refuse it
        await post(member, sc, f"/joint/{cid}/act/leave",
                   {"csrf": csrf_m, "reason": "人手不足"})
        html = await eventually(showing(lead, here, lambda h: status_of(h, SC) == "leaving"),
                                what="the leave asked at the lead's desk")
        assert {"act/agree-leave", "act/refuse-leave"} <= forms_of(html, cid)
        # a member may not answer a leave: the lead's desk refuses it (403 forbidden)
        status, _, body = await post(member, sc, f"/joint/{cid}/act/agree-leave",
                                     {"csrf": csrf_m, "bureau": SC})
        assert status == 403 and code_of(body) == "forbidden"
        status, _, _ = await post(lead, zj, f"/joint/{cid}/act/refuse-leave",
                                  {"csrf": csrf_of(html), "bureau": SC, "note": "请坚持到结案"})
        assert status == 303
        html = await eventually(showing(lead, here, lambda h: status_of(h, SC) == "accepted"),
                                what="the leave refused")
        assert "请坚持到结案" in html

        # the closing form offers more outcome rows when asked, within bounds
        _, more = await page(lead, zj, f"/joint/{cid}?outcomes=5")
        assert 'id="outcome-kind-4"' in more and 'id="outcome-kind-5"' not in more
        # When the lead closes with outcomes; one of a bureau that declined is refused
        closing = {"csrf": csrf_of(html), "findings": "查明销售假冒保健食品 1200 件",
                   "outcome_kind_0": "fine", "outcome_bureau_0": LEAD,
                   "outcome_merchant_0": MERCHANT, "outcome_amount_0": "200,000",
                   "outcome_kind_1": "referral_police", "outcome_bureau_1": SC,
                   "outcome_kind_2": "warning", "outcome_bureau_2": LOCAL}
        status, _, body = await post(lead, zj, f"/joint/{cid}/act/close", closing)
        assert status == 422 and code_of(body) == "validation_failed" and LOCAL in body
        status, _, body = await post(lead, zj, f"/joint/{cid}/act/close",
                                     closing | {"outcome_amount_0": "二十万"})
        assert status == 422 and code_of(body) == "validation_failed"
        status, _, _ = await post(lead, zj, f"/joint/{cid}/act/close",
                                  closing | {"outcome_kind_2": ""})
        assert status == 303

        # Then Sichuan sees the summary with its outcomes and confirms it
        html = await eventually(showing(member, there, lambda h: 'id="outcomes"' in h),
                                what="the closing summary in Sichuan")
        assert "罚款" in html and "200,000" in html and "移送公安机关" in html
        assert "act/confirm" in forms_of(html, cid)
        version = re.search(r'/live\?v=([^"]+)"', html).group(1)
        async with member.get(sc.url(f"/joint/{cid}/live?v={version}")) as resp:
            assert resp.status == 204  # nothing new: no body, no audit row
        await post(member, sc, f"/joint/{cid}/act/confirm", {"csrf": csrf_m})
        html = await eventually(showing(lead, here, lambda h: 'data-state="closed"' in h),
                                what="the case closed at the lead's desk")
        assert forms_of(html, cid) == set()
        async with member.get(sc.url(f"/joint/{cid}/live?v={version}")) as resp:
            assert resp.status == 200 and 'id="live"' in await resp.text()
        async with stranger.get(zj.url(f"/joint/{cid}/live?v=x")) as resp:
            assert resp.status == 404
    finally:
        for client in (lead, local, sup, member, stranger):
            await client.close()



async def test_a_leave_agreed_on_the_page_ends_what_the_member_sees(two: System) -> None:
    zj = two.desks["zj"]
    lead_token, local_token = await zj.investigator(LEAD, "组长"), await zj.investigator(LOCAL)
    status, case = await two.call("POST", zj.url("/v1/joint"), lead_token, json={
        "title": "某店铺虚假宣传案", "subjects": [{"merchant_name": MERCHANT}],
        "legal_basis": "《中华人民共和国反不正当竞争法》第八条", "aim": "查清宣传内容",
        "members": [LOCAL]})
    assert status == 201, case
    cid = case["id"]
    lead, local = await browser_of(zj, lead_token), await browser_of(zj, local_token)
    try:
        # Given Xihu joined and a note was added (the lead's desk decides at once here)
        _, html = await page(local, zj, f"/joint/{cid}")
        await post(local, zj, f"/joint/{cid}/act/accept", {"csrf": csrf_of(html)})
        _, html = await page(lead, zj, f"/joint/{cid}")
        await post(lead, zj, f"/joint/{cid}/act/note", {"csrf": csrf_of(html),
                                                        "text": "已固定网页证据"})
        _, html = await page(local, zj, f"/joint/{cid}")
        assert "已固定网页证据" in html
        # When Xihu asks to leave and the lead agrees through the page's default button
        status, _, _ = await post(local, zj, f"/joint/{cid}/act/leave",
                                  {"csrf": csrf_of(html), "reason": "已移交上级"})
        assert status == 303
        _, html = await page(lead, zj, f"/joint/{cid}")
        assert status_of(html, LOCAL) == "leaving" and "已移交上级" in html
        status, where, _ = await post(lead, zj, f"/joint/{cid}/act/agree-leave",
                                      {"csrf": csrf_of(html), "bureau": LOCAL, "note": ""})
        assert (status, where) == (303, f"/joint/{cid}?notice=done")
        # Then Xihu's page shows it left, offers nothing, and no longer shows the notes
        _, html = await page(local, zj, f"/joint/{cid}")
        assert status_of(html, LOCAL) == "left" and forms_of(html, cid) == set()
        assert "已固定网页证据" not in html and 'data-event="leave_agreed"' in html
        # and a second answer to the same leave is refused (409 illegal_transition)
        _, html = await page(lead, zj, f"/joint/{cid}")
        status, _, body = await post(lead, zj, f"/joint/{cid}/act/refuse-leave",
                                     {"csrf": csrf_of(html), "bureau": LOCAL})
        assert status == 409 and code_of(body) == "illegal_transition"
    finally:
        await lead.close()
        await local.close()


async def test_verify_tells_a_damaged_stored_file_and_download_withholds_it(two: System) -> None:
    zj = two.desks["zj"]
    token = await zj.investigator(LEAD, "组长")
    _, case = await two.call("POST", zj.url("/v1/joint"), token, json={
        "title": "某店铺虚假宣传案", "subjects": [{"merchant_name": MERCHANT}],
        "legal_basis": "《中华人民共和国反不正当竞争法》第八条", "aim": "查清", "members": [SC]})
    cid = case["id"]
    lead = await browser_of(zj, token)
    try:
        # Given a file the lead shared through the page
        _, html = await page(lead, zj, f"/joint/{cid}")
        status, where, _ = await share(lead, zj.url(f"/joint/{cid}/evidence"), csrf_of(html),
                                       "笔录.pdf", evidence.pdf())
        assert status == 303 and "notice=shared" in where
        fid = where.rsplit("#file-", 1)[1]
        # When its stored bytes change behind the desk's back
        conn = await asyncpg.connect(zj.settings.dsn)
        await conn.execute("UPDATE joint_file_chunk SET data = '\\x00'::bytea"
                           " WHERE file_id = $1", uuid.UUID(fid))
        await conn.close()
        # Then verify says so, and the download refuses to hand it out (409)
        for path in (f"/joint/{cid}/evidence/{fid}/verify", f"/joint/{cid}/evidence/{fid}"):
            async with lead.get(zj.url(path)) as resp:
                assert resp.status == 409, path
                assert code_of(await resp.text()) == "checksum_mismatch"
    finally:
        await lead.close()
