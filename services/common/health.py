"""``/healthz``: every part of a service and whether it is well; 503 naming the unwell."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.common.http import json_ok
from services.common.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)


async def health_response(app: web.Application, **extra: Any) -> web.Response:
    """200 ``{"status": "ok", "parts": ...}`` or 503 with ``unhealthy`` naming the parts."""
    parts = await app[RUNTIME].health()
    unhealthy = sorted(name for name, part in parts.items() if not part["ok"])
    body = {"status": "unhealthy" if unhealthy else "ok", "parts": parts, **extra}
    if unhealthy:
        body["unhealthy"] = unhealthy
    response = json_ok(body, status=503 if unhealthy else 200)
    if unhealthy:
        response.headers["Retry-After"] = "5"
    return response
