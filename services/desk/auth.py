"""Who is calling: bearer tokens resolved to investigators, rate-limited per token.

A token seen in the last ``ttl`` seconds is not looked up again, which saves a
database round trip on most API calls; a revoked or rotated token therefore stops
working within ``ttl`` seconds, an expired one at once (its expiry is remembered with
it). Unknown tokens are never remembered.

``Gate`` is the middleware in front of every ``/v1/`` route: a client address with too
many failed sign-ins, and a token calling faster than its bucket allows, get 429 with
``Retry-After`` before any handler runs. The limits live in this process's memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable

import asyncpg
from aiohttp import web

from protocol.errors import ErrorCode
from services.common.http import HandlerT, error_response
from services.desk.domain.ratelimit import Buckets, Failures, retry_after
from services.desk.store import investigators
from services.desk.store.investigators import Investigator

CALLER = web.RequestKey("caller", Investigator)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Tokens:
    def __init__(self, pool: asyncpg.Pool, ttl: float = 5.0, size: int = 10_000,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.pool, self.ttl, self.size, self.clock = pool, ttl, size, clock
        self._seen: dict[str, tuple[float, Investigator]] = {}

    async def resolve(self, token: str) -> Investigator | None:
        now = time.monotonic()
        hit = self._seen.get(token)
        if hit is not None and now - hit[0] < self.ttl and self._valid(hit[1]):
            return hit[1]
        async with self.pool.acquire() as conn:
            who = await investigators.by_token(conn, token, self.clock())
        if who is not None:
            if len(self._seen) >= self.size:
                self._seen.clear()  # crude but bounded; a refill costs one query per token
            self._seen[token] = (now, who)
        return who

    def _valid(self, who: Investigator) -> bool:
        return who.expires_at is None or who.expires_at > self.clock()


class Gate:
    """Authenticates every ``/v1/`` call and applies the sign-in and per-token limits."""

    def __init__(self, per_token: Buckets, failures: Failures,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_token, self.failures, self.clock = per_token, failures, clock
        self.tokens: Tokens | None = None
        """Set once the database pool is open (the middleware exists before it)."""

    @web.middleware
    async def middleware(self, request: web.Request, handler: HandlerT) -> web.StreamResponse:
        unrouted = getattr(request.match_info, "http_exception", None)  # 404, 405
        if unrouted is not None or not request.path.startswith("/v1/"):
            return await handler(request)
        address = request.remote or ""
        wait = self.failures.wait(address, self.clock())
        if wait:
            return _too_many("too many failed sign-ins from this address", wait)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return error_response(401, ErrorCode.UNAUTHENTICATED,
                                  "send Authorization: Bearer <token>")
        assert self.tokens is not None, "Gate.tokens is set when the app starts"
        who = await self.tokens.resolve(token)
        if who is None:
            self.failures.failed(address, self.clock())
            return error_response(401, ErrorCode.UNAUTHENTICATED,
                                  "unknown, expired or revoked token")
        wait = self.per_token.take(hashlib.sha256(token.encode()).hexdigest(), self.clock())
        if wait:
            return _too_many("too many calls with this token", wait)
        request[CALLER] = who
        return await handler(request)


def _too_many(message: str, wait: float) -> web.Response:
    response = error_response(429, ErrorCode.RATE_LIMITED, message)
    response.headers["Retry-After"] = retry_after(wait)
    return response
