"""Browser tests: Debian's chromium driven by Playwright's async API, one browser per
session, against the hub's pages on a fresh database filled by the history loader.

Every request a page makes is recorded; any to another host than 127.0.0.1 is aborted
and shows up in ``Site.outside``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest_asyncio
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, Route, async_playwright

from services.common import db
from services.hub.app import create_web_app
from services.hub.history import Plan
from services.hub.history_loader import load_history
from services.hub.map_data import PageConfig, parse_desks
from services.hub.registry_loader import load_registry
from tests.support import PG, Scratch

CHROMIUM = os.environ.get("XIECHA_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
APPROVAL = "审图号：GS(2025)0000号（测试）"
CHECKS = 30_000


@dataclass
class Site:
    url: str
    pool: asyncpg.Pool
    outside: list[str] = field(default_factory=list)

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def site() -> AsyncIterator[Site]:
    scratch = Scratch()
    dsn = scratch.dsn("hub_pages")
    await db.ensure_database(dsn)
    await db.migrate(dsn, "hub")
    pool = await db.open_pool(dsn, min_size=1, max_size=2)
    end = dt.date.today() - dt.timedelta(days=1)
    async with pool.acquire() as conn:
        await load_registry(conn)
        await load_history(conn, Plan(CHECKS, end.replace(year=end.year - 2), end))
    server = TestServer(create_web_app(dsn, PageConfig(parse_desks("zj:33,gd:44"), APPROVAL)),
                        host="127.0.0.1")
    await server.start_server()
    try:
        yield Site(str(server.make_url("/")), pool)
    finally:
        await server.close()
        await pool.close()
        for name in scratch.databases:
            await db.drop_database(f"{PG}/{name}")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])
        yield b
        await b.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, site: Site) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900},
                                        accept_downloads=True, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")

    async def only_here(route: Route) -> None:
        if urlsplit(route.request.url).hostname != "127.0.0.1":
            site.outside.append(route.request.url)
            await route.abort()
        else:
            await route.continue_()

    await context.route("**/*", only_here)
    p = await context.new_page()
    yield p
    await context.close()


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def screenshot_dir() -> Path | None:
    """XIECHA_SCREENSHOTS=docs saves the pages' screenshots there (for the README)."""
    where = os.environ.get("XIECHA_SCREENSHOTS")
    return Path(where) if where else None
