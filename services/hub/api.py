"""The hub's JSON HTTP API: statistics feed and partner registry (public figures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from protocol.errors import ErrorCode
from protocol.v1.types import EARLIEST, LATEST, BureauCode, ProvinceCode, SaneDate
from services.common.health import health_response
from services.common.http import ApiError, json_ok
from services.common.openapi import Op
from services.hub import store

POOL = web.AppKey("pool", asyncpg.Pool)

METRICS = (
    "created", "sent", "delivered", "undeliverable", "accepted", "rejected", "info_requested",
    "transferred", "partially_replied", "replied", "withdrawn", "closed", "reminded",
    "escalated", "item_answered",
)


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


def _figures(counts: dict[str, int]) -> dict[str, Any]:
    figures: dict[str, Any] = {m: counts.get(m, 0) for m in METRICS}
    replied = counts.get("replied", 0)
    figures["completed_checks"] = replied + counts.get("item_answered", 0)  # bulk items
    figures["on_time_rate"] = _ratio(counts.get("replied_on_time", 0), replied, 4)
    figures["average_turnaround_days"] = _ratio(counts.get("turnaround_days", 0), replied, 2)
    return figures


def _ratio(part: int, whole: int, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None


async def stats(request: web.Request) -> web.Response:
    since, until = _date(request, "from"), _date(request, "to")
    if since and until and since > until:
        raise ApiError(400, ErrorCode.BAD_QUERY, "from must not be after to")
    body: dict[str, Any] = {}
    async with request.app[POOL].acquire() as conn:
        for label, scope in _scopes(request).items():
            body[label] = {"all_time": _figures(await store.totals(conn, scope))}
            if since or until:
                body[label]["period"] = {
                    "from": since.isoformat() if since else None,
                    "to": until.isoformat() if until else None,
                    **_figures(await store.totals(conn, scope, since, until)),
                }
        partners, provinces = await store.partner_coverage(conn)
    body["partners"], body["provinces_covered"] = partners, provinces
    return json_ok(body)


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


async def health(request: web.Request) -> web.Response:
    return await health_response(request.app)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/stats", stats)
    app.router.add_get("/v1/registry", registry)
    app.router.add_get("/v1/registry/{code}", bureau)
    app.router.add_get("/healthz", health)


class StatsQuery(BaseModel):
    """The query of ``/v1/stats`` (read by ``_date`` and ``_scopes`` above)."""

    from_: SaneDate | None = Field(None, alias="from")
    to: SaneDate | None = None
    bureau: BureauCode | None = None
    province: ProvinceCode | None = None


class RegistryQuery(BaseModel):
    status: str | None = None
    province: ProvinceCode | None = None


OPS: list[Op] = [
    Op("GET", "/v1/stats", "Figures all time and per period, by bureau or province",
       query=StatsQuery, auth=False),
    Op("GET", "/v1/registry", "The partner registry", query=RegistryQuery, auth=False),
    Op("GET", "/v1/registry/{code}", "One bureau", auth=False),
    Op("GET", "/healthz", "Every part's health (503 names the unhealthy)", auth=False),
]
"""The hub's OpenAPI description."""
