"""Joint action on the hub's statistics page and feed, in a real browser: records counted
by the hub's own counting code (once, however often they come) show as figures, a period
table and tables by province and bureau named from the registry; axe-core finds nothing
serious; English and back."""

from __future__ import annotations

import datetime as dt
import uuid

from playwright.async_api import Page

from protocol.v1.joint import JointRecordedBody
from services.hub import joint_stats
from services.hub.counting import china_day
from tests.browser.conftest import Site, serious_violations

CASE = uuid.uuid4()
RECORDS = [  # (metric, bureau, count): a Zhejiang case with members in Sichuan, Guangdong
    ("joint_opened", "330110", 1), ("joint_opened", "330110", 1),
    ("joint_member_joined", "510107", 1), ("joint_member_declined", "440106", 1),
    ("joint_task_assigned", "510107", 3), ("joint_outcome", "330110", 2),
    ("joint_closed", "330110", 1),
]


async def count_records(site: Site) -> dt.date:
    """The records as the hub's inbound counts them; each sent twice, counted once."""
    now = dt.datetime.now(dt.UTC)
    async with site.pool.acquire() as conn:
        for metric, bureau, n in RECORDS:
            body = JointRecordedBody(event_id=uuid.uuid4(), case_id=CASE, metric=metric,
                                     bureau=bureau, occurred_at=now, count=n)
            async with conn.transaction():
                assert await joint_stats.count(conn, body) is True
            async with conn.transaction():
                assert await joint_stats.count(conn, body) is False
    return china_day(now)


async def test_joint_figures_on_the_statistics_page_and_feed(page: Page, site: Site) -> None:
    # Given joint records counted at the hub (the session's history has none)
    day = await count_records(site)
    # Then the feed has them all time, by province and by bureau, named from the registry
    await page.goto(site.at("/v1/stats"))
    feed = (await page.evaluate("JSON.parse(document.body.innerText)"))["joint"]
    assert feed["all_time"] == {"opened": 2, "closed": 1, "member_joined": 1,
                                "member_declined": 1, "task_assigned": 3, "outcome": 2}
    provinces = {r["code"]: r for r in feed["by_province"]}
    assert provinces["33"]["name"] == "浙江省" and provinces["33"]["opened"] == 2
    assert (provinces["51"]["task_assigned"], provinces["44"]["member_declined"]) == (3, 1)
    assert feed["by_bureau"][0]["code"] == "330110"  # the busiest first
    assert feed["by_bureau"][0]["name"] == "杭州市余杭区市场监督管理局"

    # When the statistics page is asked for the day's period
    await page.goto(site.at(f"/stats?from={day}&to={day}"))
    joint = page.locator("#joint")
    await joint.get_by_role("heading", name="联合行动").wait_for()
    # Then the figures, the period and the tables by province and bureau show
    assert await page.locator("#joint-opened").inner_text() == "2"
    assert await page.locator("#joint-outcome").inner_text() == "2"
    period = await page.locator("#joint-period").inner_text()
    assert "分派任务\t3" in period
    zj = page.locator("#joint-by-province tr[data-code='33']")
    assert "浙江省 (33)" in await zj.inner_text()
    sc = await page.locator("#joint-by-bureau tr[data-code='510107'] td").all_inner_texts()
    assert sc == ["0", "0", "1", "0", "3", "0"]
    assert await serious_violations(page) == []
    # And in English, and back
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", name="Joint action", exact=True).wait_for()
    assert await page.get_by_role("columnheader", name="tasks assigned").count() == 2
    assert await serious_violations(page) == []
    await page.get_by_role("link", name="中文").click()
    await page.get_by_role("heading", name="联合行动", exact=True).wait_for()
