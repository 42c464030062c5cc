"""The coordinators' map and the statistics page in a real browser, checked against the
hub's database; no request leaves the machine; no serious accessibility finding."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import Download, Page

from tests.browser.conftest import APPROVAL, Site, screenshot_dir, serious_violations

SLICE_SQL = (
    # the same figures straight from the daily counters, independently of the feed's code
    "SELECT substr(scope, 6) AS key, to_char(day, 'YYYY-MM') AS month,"
    " sum(n) FILTER (WHERE metric = 'created') AS requests,"
    # a bulk request's checks are its items: its reply is taken back out (bulk_replied)
    " sum(CASE WHEN metric = 'bulk_replied' THEN -n ELSE n END)"
    "  FILTER (WHERE metric IN ('replied', 'item_answered', 'bulk_replied')) AS completed"
    " FROM stat_day WHERE scope LIKE 'rcpp:%' AND day BETWEEN $1 AND $2 GROUP BY 1, 2"
)


async def test_the_map_draws_every_partner_the_inset_and_a_regions_panel(
    page: Page, site: Site
) -> None:
    signed = await site.pool.fetchval("SELECT count(*) FROM bureau WHERE status = 'signed'")
    in_zj = await site.pool.fetchval(
        "SELECT count(*) FROM bureau WHERE status = 'signed' AND province = '33'")
    # When a coordinator opens the map
    await page.goto(site.at("/map"))
    chart = page.locator("#map[data-ready='1']")
    await chart.wait_for()
    # Then every province, the South China Sea islands and every signed partner are drawn
    regions = (await chart.get_attribute("data-regions") or "").split(",")
    assert {"浙江", "新疆", "台湾", "海南", "南海诸岛"} <= set(regions)
    assert len(regions) >= 35
    assert signed == 1144 and await chart.get_attribute("data-points") == str(signed)
    assert int(await chart.get_attribute("data-flows") or 0) > 100
    assert await page.locator("footer .approval").inner_text() == APPROVAL
    shot = screenshot_dir()
    if shot:
        await page.screenshot(path=str(shot / "hub-map.png"))
    assert await serious_violations(page) == []
    # When they choose Zhejiang with the keyboard
    await page.get_by_role("button", name="浙江省").focus()
    await page.keyboard.press("Enter")
    # Then the panel lists its partners, the desk that serves them and the on-time rate
    rows = page.locator("#panel table.partners tbody tr")
    await page.locator("#region-title", has_text="浙江省").wait_for()
    assert await rows.count() == in_zj
    assert "desk-zj" in await page.locator("#panel .facts").inner_text()
    assert await serious_violations(page) == []
    # And shading by requests redraws without leaving the page
    model = json.loads(await page.locator("#map-model").text_content() or "{}")
    await page.get_by_role("button", name="收到协查请求").click()
    assert await page.get_by_role("button", name="收到协查请求").get_attribute(
        "aria-pressed") == "true"
    most = max(r["requests"] for r in model["regions"])
    assert await chart.get_attribute("data-shade-max") == str(max(1, most))
    # and the flows come off and back on, the points staying
    await page.get_by_role("checkbox", name="地区间协查流向").uncheck()
    assert await chart.get_attribute("data-flows") == "0"
    await page.get_by_role("checkbox", name="地区间协查流向").check()
    assert int(await chart.get_attribute("data-flows") or 0) > 100
    assert await chart.get_attribute("data-points") == str(signed)
    assert site.outside == []


async def test_statistics_page_and_its_downloads_match_the_database(
    page: Page, site: Site, tmp_path: Path
) -> None:
    completed = await site.pool.fetchval(
        "SELECT sum(CASE WHEN metric = 'bulk_replied' THEN -n ELSE n END)::bigint"
        " FROM stat_day WHERE scope = 'all'"
        " AND metric IN ('replied', 'item_answered', 'bulk_replied')")  # the history's checks
    since, until = _period()
    await page.goto(site.at(f"/stats?from={since}&to={until}"))
    await page.locator("body[data-charts-ready='1']").wait_for()
    assert await page.locator("#fig-completed").inner_text() == f"{completed:,}"
    assert await page.locator("#fig-partners").inner_text() == "1,144"
    totals = {r["metric"]: int(r["n"]) for r in await site.pool.fetch(
        "SELECT metric, n FROM stat_total WHERE scope = 'all'")}
    ratings = {int(m[7:]): n for m, n in totals.items() if m.startswith("rating:")}
    rated = sum(ratings.values())
    assert rated and totals["overdue_now"] > 0  # the history has both
    assert await page.locator("#fig-overdue").inner_text() == f"{totals['overdue_now']:,}"
    assert await page.locator("#fig-rating").inner_text() == str(
        round(sum(r * n for r, n in ratings.items()) / rated, 2))
    shot = screenshot_dir()
    if shot:
        await page.screenshot(path=str(shot / "hub-stats.png"), full_page=True)
    assert await serious_violations(page) == []
    expected = {
        (r["key"], r["month"]): (int(r["requests"] or 0), int(r["completed"] or 0))
        for r in await site.pool.fetch(SLICE_SQL, *_period())
        if r["requests"] or r["completed"]  # rows of other figures only: aside
    }
    async with page.expect_download() as csv_dl:
        await page.get_by_role("link", name="CSV").click()
    raw = await _content(await csv_dl.value)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {(r["key"], r["month"]): (int(r["requests"]), int(r["completed_checks"]))
            for r in rows if r["requests"] != "0" or r["completed_checks"] != "0"} == expected
    async with page.expect_download() as xlsx_dl:
        await page.get_by_role("link", name="XLSX").click()
    xlsx = await xlsx_dl.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(await _content(xlsx))).active
    header, *body = [[c.value for c in r] for r in sheet.iter_rows()]
    assert header[:4] == ["key", "month", "requests", "completed_checks"]
    assert {(r[0], r[1]): (r[2], r[3]) for r in body if r[2] or r[3]} == expected
    assert site.outside == []


async def _content(download: Download) -> bytes:
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


def _period() -> tuple[dt.date, dt.date]:
    """Three whole years and this month so far: the history loaded lies within."""
    today = dt.date.today()
    return today.replace(year=today.year - 3, day=1), today


async def test_chinese_by_default_english_on_request_and_remembered(
    page: Page, site: Site
) -> None:
    await page.goto(site.at("/stats"))
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    assert await page.locator("h1").inner_text() == "统计"
    await page.get_by_role("link", name="English").click()
    assert await page.locator("h1").inner_text() == "Statistics"
    await page.goto(site.at("/map"))  # the cookie keeps English
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.locator("h1").inner_text() == "Partner map"
    await page.goto(site.at("/map?lang=zh-CN"))
    assert await page.locator("h1").inner_text() == "协作单位地图"
    assert "北京时间" in await page.locator("footer").inner_text()
