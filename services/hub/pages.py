"""The hub's pages: the coordinators' partner map and the printable statistics page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from protocol.errors import ErrorCode
from services.common import pages
from services.common.http import ApiError
from services.hub import api, feed, joint_stats, map_data
from services.hub.figures import METRICS

HERE = Path(__file__).parent
CONFIG = web.AppKey("page_config", map_data.PageConfig)


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/map")


@aiohttp_jinja2.template("map.html")
async def map_page(request: web.Request) -> dict[str, Any]:
    async with request.app[api.POOL].acquire() as conn:
        model = await map_data.map_model(conn)
    return {"model": model, "config": request.app[CONFIG]}


async def region_panel(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    async with request.app[api.POOL].acquire() as conn:
        region = await map_data.region_model(conn, code, request.app[CONFIG])
    if region is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no signed partner in region {code}")
    return aiohttp_jinja2.render_template("region.html", request, {"region": region})


@aiohttp_jinja2.template("stats.html")
async def stats_page(request: web.Request) -> dict[str, Any]:
    s = api.slice_of(request)
    since, until = api._period(request)
    async with request.app[api.POOL].acquire() as conn:
        summary = await feed.summary(conn, "all", since, until)
        coverage = await feed.coverage(conn)
        by_month = await feed.monthly(conn, "all", s.since, s.until)
        by_province = await feed.slice_rows(conn, s)
        joint = await joint_stats.figures(conn, "all", since, until)
    return {"summary": summary, "coverage": coverage, "slice": s, "metrics": METRICS,
            "months": by_month, "provinces": _provinces(by_province),
            "query": request.query_string, "today": dt.date.today(), "joint": joint}


def _provinces(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = out.setdefault(r["key"], {"key": r["key"], "requests": 0, "completed": 0})
        p["requests"] += r["requests"]
        p["completed"] += r["completed_checks"]
    return sorted(out.values(), key=lambda p: -p["completed"])


def add_routes(app: web.Application, config: map_data.PageConfig) -> None:
    pages.setup(app, HERE / "templates", HERE / "locale")
    app[CONFIG] = config
    app.router.add_get("/", home)
    app.router.add_get("/map", map_page)
    app.router.add_get("/map/regions/{code:[0-9]{2}}", region_panel)
    app.router.add_get("/stats", stats_page)
    app.router.add_static("/static/hub", HERE / "static")
