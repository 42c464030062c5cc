"""Bearer tokens: unknown ones are refused and never remembered as unknown."""

from __future__ import annotations

import secrets

import pytest

from services.common import db
from services.desk.store import investigators
from tests.support import System

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_token_issued_after_a_refusal_works_at_once(system: System) -> None:
    zj = system.desks["zj"]
    token = secrets.token_urlsafe(16)
    status, body = await system.call("GET", zj.url("/v1/me"), token)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    pool = await db.open_pool(zj.settings.dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        await investigators.add(conn, "新同事", "330110", token=token)
    await pool.close()
    status, me = await system.call("GET", zj.url("/v1/me"), token)
    assert status == 200 and me["bureau"]["code"] == "330110" and me["name"] == "新同事"
