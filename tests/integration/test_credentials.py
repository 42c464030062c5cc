"""Credentials: tokens expire, are revoked and rotated from the command line, are never
moved to another holder; failed sign-ins and each token's calls are rate-limited."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from services.common import db
from services.desk.store import investigators
from tests.support import System, eventually, start_system

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def desk_cli(dsn: str, *args: str) -> tuple[int, str, str]:
    """``python -m services.desk ARGS`` against the database ``dsn``."""
    env = {**os.environ, "XIECHA_DESK_DATABASE_URL": dsn}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.desk", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode().strip(), err.decode()


async def test_cli_issues_rotates_and_revokes_and_never_moves_a_holder(system: System) -> None:
    zj = system.desks["zj"]
    dsn, me = zj.settings.dsn, zj.url("/v1/me")
    code, token, _ = await desk_cli(dsn, "add-investigator", "--name", "李四",
                                    "--bureau", "330110", "--days", "30")
    assert code == 0
    status, who = await system.call("GET", me, token)
    assert status == 200 and who["bureau"]["code"] == "330110"

    # Given the token is held, when it is issued again to someone elsewhere: refused
    code, _, err = await desk_cli(dsn, "add-investigator", "--name", "王五",
                                  "--bureau", "330102", "--token", token)
    assert code == 1 and "already issued" in err
    status, still = await system.call("GET", me, token)
    assert status == 200 and still["bureau"]["code"] == "330110" and still["name"] == "李四"

    code, listing, _ = await desk_cli(dsn, "list-investigators")
    assert who["id"] in listing and token not in listing
    code, new, _ = await desk_cli(dsn, "rotate-token", "--id", who["id"])
    assert code == 0 and new != token
    await refused_within_the_cache_ttl(system, me, token)
    assert (await system.call("GET", me, new))[0] == 200

    code, out, _ = await desk_cli(dsn, "revoke-token", "--id", who["id"])
    assert code == 0 and out == "revoked"
    await refused_within_the_cache_ttl(system, me, new)


async def refused_within_the_cache_ttl(system: System, url: str, token: str,
                                       within: float = 6.0) -> None:
    """A running desk remembers a token for 5 s: refusal comes within that time."""
    async def refused() -> bool:
        status, body = await system.call("GET", url, token)
        return status == 401 and body["error"]["code"] == "unauthenticated"

    await eventually(refused, within=within, what="token refused")


async def test_an_expired_token_is_refused_even_when_remembered(system: System) -> None:
    zj = system.desks["zj"]
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    token = await zj.investigator("330110", expires_at=soon)
    assert (await system.call("GET", zj.url("/v1/me"), token))[0] == 200
    # remembered by the desk's token cache, yet refused as soon as it expires
    await refused_within_the_cache_ttl(system, zj.url("/v1/me"), token, within=3.0)
    past = await zj.investigator("330110", expires_at=soon - dt.timedelta(days=1))
    assert (await system.call("GET", zj.url("/v1/me"), past))[0] == 401


async def test_the_same_token_for_the_same_holder_is_idempotent(system: System) -> None:
    pool = await db.open_pool(system.desks["zj"].settings.dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        first, token = await investigators.add(conn, "演示", "330110")
        again, _ = await investigators.add(conn, "演示", "330110", token=token)
        with pytest.raises(investigators.TokenTaken):
            await investigators.add(conn, "演示", "330110", "coordinator", token=token)
    await pool.close()
    assert again.id == first.id


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def strict() -> AsyncIterator[System]:
    """One desk with tight limits: 3 failed sign-ins a minute, 5 calls per token at once."""
    s = await start_system({"zj": "33"}, token_burst=5, token_rate=0.05, signin_failures=3)
    yield s
    await s.close()


async def test_each_token_is_rate_limited_with_retry_after(strict: System) -> None:
    zj = strict.desks["zj"]
    token, other = await zj.investigator("330110"), await zj.investigator("330102")
    statuses = [(await strict.call("GET", zj.url("/v1/requests"), token))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    async with strict.http.get(zj.url("/v1/me"),
                               headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
        assert (await resp.json())["error"]["code"] == "rate_limited"
    assert (await strict.call("GET", zj.url("/v1/me"), other))[0] == 200  # per token


async def test_failed_sign_ins_are_rate_limited(strict: System) -> None:
    zj = strict.desks["zj"]
    good = await zj.investigator("330110")
    for n in range(3):
        assert (await strict.call("GET", zj.url("/v1/me"), f"guess-{n}"))[0] == 401
    async with strict.http.get(zj.url("/v1/me"),
                               headers={"Authorization": f"Bearer {good}"}) as resp:
        assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
