"""The hub's JSON HTTP API: statistics feed, its downloads, and the partner registry."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from protocol.errors import ErrorCode
from protocol.v1.types import EARLIEST, LATEST, BureauCode, ProvinceCode, SaneDate
from services.common.health import health_response
from services.common.http import ApiError, json_ok
from services.common.openapi import ANY_BYTES, Op
from services.hub import answers, exports, feed, joint_stats, store

POOL = web.AppKey("pool", asyncpg.Pool)
ANSWERS = web.AppKey("answers", answers.Answers)

SLICE_COLUMNS = ("key", "month", "requests", "completed_checks", "on_time_rate",
                 "average_turnaround_days", "median_turnaround_working_days",
                 "p90_turnaround_working_days", "accepted_within_7_days_rate",
                 "replied_with_agreed_date", "agreed_date_rate", "ratings", "average_rating",
                 "overdue_now")


def _date(request: web.Request, name: str) -> dt.date | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, ErrorCode.BAD_QUERY, f"{name} must be a date like 2026-01-31") from None
    if not EARLIEST <= day <= LATEST:
        raise ApiError(400, ErrorCode.BAD_QUERY, f"{name} must lie in {EARLIEST}..{LATEST}")
    return day


def _period(request: web.Request) -> tuple[dt.date | None, dt.date | None]:
    since, until = _date(request, "from"), _date(request, "to")
    if since and until and since > until:
        raise ApiError(400, ErrorCode.BAD_QUERY, "from must not be after to")
    return since, until


def _scopes(request: web.Request) -> dict[str, str]:
    bureau, province = request.query.get("bureau"), request.query.get("province")
    if bureau is not None:
        if not (len(bureau) == 6 and bureau.isdigit()):
            raise ApiError(400, ErrorCode.BAD_QUERY, "bureau must be a 6-digit code")
        return {"as_requester": f"req:{bureau}", "as_recipient": f"rcp:{bureau}"}
    if province is not None:
        if not (len(province) == 2 and province.isdigit()):
            raise ApiError(400, ErrorCode.BAD_QUERY, "province must be a 2-digit code")
        return {"as_requester": f"reqp:{province}", "as_recipient": f"rcpp:{province}"}
    return {"all": "all"}


async def stats(request: web.Request) -> web.Response:
    since, until = _period(request)
    scopes = _scopes(request)
    joint_scope = joint_stats.scope(request.query.get("bureau"), request.query.get("province"))

    async def compute(conn: asyncpg.Connection) -> bytes:
        body: dict[str, Any] = {}
        for label, scope in scopes.items():
            body[label] = await feed.summary(conn, scope, since, until)
        body["joint"] = await joint_stats.figures(conn, joint_scope, since, until)
        body |= await feed.coverage(conn)
        return answers.encoded(body)

    key = ("stats", since, until, tuple(scopes.values()))
    return _json(await request.app[ANSWERS].get(request.app[POOL], key, compute))


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def slice_of(request: web.Request) -> feed.Slice:
    """The slice a query asks for; a year back from today by default."""
    by, role = request.query.get("by", "province"), request.query.get("role", "recipient")
    if by not in feed.DIMENSIONS:
        raise ApiError(400, ErrorCode.BAD_QUERY, f"by must be one of {', '.join(feed.DIMENSIONS)}")
    if role not in feed.ROLES:
        raise ApiError(400, ErrorCode.BAD_QUERY, "role must be recipient or requester")
    since, until = _period(request)
    until = until or dt.date.today()
    since = since or until.replace(day=1) - dt.timedelta(days=335)
    if (until - since).days > 3700:
        raise ApiError(400, ErrorCode.BAD_QUERY, "a slice spans at most ten years")
    return feed.Slice(by, role, since, until)


async def _slice_table(request: web.Request) -> tuple[feed.Slice, list[dict[str, Any]]]:
    s = slice_of(request)

    async def compute(conn: asyncpg.Connection) -> list[dict[str, Any]]:
        return await feed.slice_rows(conn, s)

    return s, await request.app[ANSWERS].get(request.app[POOL], ("rows", s), compute)


async def slices(request: web.Request) -> web.Response:
    s = slice_of(request)

    async def compute(conn: asyncpg.Connection) -> bytes:
        return answers.encoded({"by": s.by, "role": s.role, "from": s.since.isoformat(),
                                "to": s.until.isoformat(),
                                "rows": await feed.slice_rows(conn, s)})

    return _json(await request.app[ANSWERS].get(request.app[POOL], ("slices", s), compute))


async def download(request: web.Request) -> web.Response:
    s, rows = await _slice_table(request)
    table = [[row[c] for c in SLICE_COLUMNS] for row in rows]
    name = f"xiecha-stats-{s.by}-{s.role}-{s.since}-{s.until}"
    if request.match_info["fmt"] == "csv":
        body, ctype = exports.to_csv(SLICE_COLUMNS, table), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(f"{s.by} {s.role}", SLICE_COLUMNS, table)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ext = request.match_info["fmt"]
    return web.Response(body=body, headers={
        "Content-Type": ctype, "Content-Disposition": f'attachment; filename="{name}.{ext}"'})


async def registry(request: web.Request) -> web.Response:
    status, province = request.query.get("status"), request.query.get("province")
    async with request.app[POOL].acquire() as conn:
        version, bureaus = await store.load_registry(conn)
    items = [
        b.model_dump(mode="json") for b in bureaus
        if status in (None, b.status) and province in (None, b.province)
    ]
    return json_ok({"version": version, "count": len(items), "bureaus": items})


async def bureau(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    async with request.app[POOL].acquire() as conn:
        _, bureaus = await store.load_registry(conn)
    for b in bureaus:
        if b.code == code:
            return json_ok(b)
    raise ApiError(404, ErrorCode.UNKNOWN_BUREAU, f"no bureau with code {code}")


async def _listen(app: web.Application) -> None:
    await app[ANSWERS].listen(app[POOL])


async def _stop_listening(app: web.Application) -> None:
    await app[ANSWERS].stop(app[POOL])


async def health(request: web.Request) -> web.Response:
    return await health_response(request.app)


def add_routes(app: web.Application) -> None:
    if ANSWERS not in app:  # the hub's app factory adds these routes once more (add_web)
        app[ANSWERS] = answers.Answers()
        app.on_startup.append(_listen)
        app.on_cleanup.insert(0, _stop_listening)  # before the pool closes
    app.router.add_get("/v1/stats", stats)
    app.router.add_get("/v1/stats/slices", slices)
    app.router.add_get(r"/v1/stats/slices.{fmt:csv|xlsx}", download)
    app.router.add_get("/v1/registry", registry)
    app.router.add_get("/v1/registry/{code}", bureau)
    app.router.add_get("/healthz", health)


class StatsQuery(BaseModel):
    """The query of ``/v1/stats`` (read by ``_date`` and ``_scopes`` above)."""

    from_: SaneDate | None = Field(None, alias="from")
    to: SaneDate | None = None
    bureau: BureauCode | None = None
    province: ProvinceCode | None = None


class SliceQuery(BaseModel):
    """The query of ``/v1/stats/slices`` (read by ``slice_of`` above)."""

    by: str = Field("province", description=f"one of {', '.join(feed.DIMENSIONS)}")
    role: Literal["recipient", "requester"] = "recipient"
    from_: SaneDate | None = Field(None, alias="from")
    to: SaneDate | None = None


class RegistryQuery(BaseModel):
    status: str | None = None
    province: ProvinceCode | None = None


OPS: list[Op] = [
    Op("GET", "/v1/stats", "Figures all time and per period, by bureau or province",
       query=StatsQuery, auth=False),
    Op("GET", "/v1/stats/slices", "Figures by province, prefecture or bureau, month by month",
       query=SliceQuery, auth=False),
    Op("GET", "/v1/stats/slices.{fmt}", "The same slice as a CSV or XLSX file (fmt: csv, xlsx)",
       query=SliceQuery, answer=ANY_BYTES, answer_type="application/octet-stream", auth=False),
    Op("GET", "/v1/registry", "The partner registry", query=RegistryQuery, auth=False),
    Op("GET", "/v1/registry/{code}", "One bureau", auth=False),
    Op("GET", "/healthz", "Every part's health (503 names the unhealthy)", auth=False),
]
"""The hub's OpenAPI description."""
