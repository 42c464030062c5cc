"""Every HTTP endpoint of the desk, tried with the wrong bureau's, an expired and a revoked
credential: zero successes. And every list and summary read leaves an audit entry."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from services.common import db
from services.desk.requests.api import ACTIONS
from services.desk.store import investigators
from services.desk.web import DESK
from tests import evidence
from tests.support import System, eventually, new_request, start_system

pytestmark = pytest.mark.asyncio(loop_scope="session")

JINJIANG, WUHOU, QINGYANG = "510104", "510107", "510105"


@dataclass
class World:
    system: System
    owner: str
    """A token of the requester's bureau (Jinjiang)."""
    rid: str
    aid: str
    gid: str
    wrong: str
    """A valid token of a bureau that is no party (Qingyang, same desk and province)."""
    expired: str
    revoked: str

    def url(self, path: str) -> str:
        return self.system.desks["sc"].url(path)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world() -> AsyncIterator[World]:
    # failed sign-ins are what this module makes on purpose: the limit must not hide them
    system = await start_system({"sc": "51"}, signin_failures=100_000)
    sc = system.desks["sc"]
    owner, wrong = await sc.investigator(JINJIANG), await sc.investigator(QINGYANG)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    expired = await sc.investigator(JINJIANG, expires_at=past)
    revoked = await sc.investigator(JINJIANG, name="已撤销")
    pool = await db.open_pool(sc.settings.dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        who = await conn.fetchval("SELECT id FROM investigator WHERE name = '已撤销'")
        await investigators.revoke(conn, who)
    await pool.close()
    _, req = await system.call("POST", sc.url("/v1/requests"), owner, json=new_request(WUHOU))
    rid = req["id"]
    await eventually(lambda: _delivered(system, sc.url(f"/v1/requests/{rid}"), owner),
                     what="delivered")
    _, up = await system.call("POST", sc.url(f"/v1/requests/{rid}/attachments"), owner,
                              data=evidence.pdf(), headers={"X-Filename": "a.pdf"})
    await system.call("POST", sc.url(f"/v1/requests/{rid}/items"), owner,
                      json=[{"credit_code": "91510107MA6CJ4KX0W"}])
    _, group = await system.call("POST", sc.url("/v1/groups"), owner,
                                 json={**new_request(), "recipients": [WUHOU]})
    yield World(system, owner, rid, up["id"], group["id"], wrong, expired, revoked)
    await system.close()


async def _delivered(system: System, url: str, token: str) -> bool:
    status, body = await system.call("GET", url, token)
    return status == 200 and body["state"] == "delivered"


def calls(w: World) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, request options) for every route the desk has."""
    r = f"/v1/requests/{w.rid}"
    json_body: dict[str, Any] = {"json": {}}
    out: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/me", {}), ("GET", "/v1/escalations", {}),
        ("POST", "/v1/requests", {"json": new_request(WUHOU)}), ("GET", "/v1/requests", {}),
        ("GET", r, {}), ("POST", "/v1/groups", {"json": {**new_request(), "recipients": [WUHOU]}}),
        ("GET", f"/v1/groups/{w.gid}", {}),
        ("POST", f"{r}/attachments", {"data": evidence.pdf(), "headers": {"X-Filename": "b.pdf"}}),
        ("GET", f"{r}/attachments", {}), ("GET", f"{r}/attachments/{w.aid}", {}),
        ("POST", f"{r}/items", {"json": [{"credit_code": "91510107MA6CJ4KX0W"}]}),
        ("GET", f"{r}/items", {}), ("POST", f"{r}/items/answers", {"json": [{"idx": 1,
                                                                            "result": "other"}]}),
        ("GET", f"{r}/items/sheet", {}),
    ]
    return out + [("POST", f"{r}/{action}", json_body) for action in ACTIONS]


JOINT_ID, JOINT_FILE = str(uuid.uuid4()), str(uuid.uuid4())


def joint_calls() -> list[tuple[str, str, dict[str, Any]]]:
    """The joint-case routes (another feature): tried with expired and revoked tokens only;
    their parties' rule has its own tests in the joint feature."""
    j = f"/v1/joint/{JOINT_ID}"
    return [("POST", "/v1/joint", {"json": {}}), ("GET", "/v1/joint", {}), ("GET", j, {}),
            ("POST", f"{j}/tasks", {"json": {}}), ("POST", f"{j}/evidence", {"data": b"x"}),
            ("GET", f"{j}/evidence/{JOINT_FILE}", {}), ("POST", f"{j}/close", {"json": {}})]


def canonical(w: World, path: str) -> str:
    path = path.replace(JOINT_ID, "{id}").replace(JOINT_FILE, "{fid}")
    if path == "/v1/joint/{id}/close":
        return "/v1/joint/{id}/{action}"
    return (path.replace(w.rid, "{id}").replace(w.gid, "{id}").replace(w.aid, "{aid}")
            .split("?")[0])


async def test_the_matrix_covers_every_route(world: World) -> None:
    app = world.system.desks["sc"].server.app
    routes = {(r.method, r.resource.canonical) for r in app.router.routes()
              if r.resource is not None and r.method != "HEAD"}
    # the API's routes; the workspace's pages (session cookie, CSRF) have tests/integration/
    # test_pages.py: a page of another bureau's request is "not found" there as here
    routes = {(m, p) for m, p in routes if p.startswith("/v1/")}
    covered = {(m, canonical(world, p)) for m, p, _ in calls(world) + joint_calls()}
    covered = {(m, "/v1/requests/{id}/{action}" if p.rsplit("/", 1)[-1] in ACTIONS else p)
               for m, p in covered}
    assert covered == routes


OWN_BUSINESS = {("GET", "/v1/me"), ("POST", "/v1/requests"), ("POST", "/v1/groups"),
                ("GET", "/v1/requests"), ("GET", "/v1/escalations")}
"""Routes about the caller alone: the wrong bureau may use them, for its own things."""


async def test_no_credential_but_the_right_one_succeeds(world: World) -> None:
    system, successes = world.system, []
    for method, path, options in calls(world):
        for label, token in (("expired", world.expired), ("revoked", world.revoked)):
            status, _ = await system.call(method, world.url(path), token, **options)
            if status != 401:
                successes.append((label, method, path, status))
        status, body = await system.call(method, world.url(path), world.wrong, **options)
        if (method, canonical(world, path)) in OWN_BUSINESS:
            if world.rid in str(body) or world.gid in str(body):
                successes.append(("wrong bureau sees", method, path, status))
        elif status < 400 or status >= 500:
            successes.append(("wrong bureau", method, path, status))
    for method, path, options in joint_calls():
        for label, token in (("expired", world.expired), ("revoked", world.revoked)):
            status, _ = await system.call(method, world.url(path), token, **options)
            if status != 401:
                successes.append((label, method, path, status))
    assert successes == []


async def test_list_and_summary_reads_are_audited(world: World) -> None:
    system, sc = world.system, world.system.desks["sc"]
    before = dt.datetime.now(dt.UTC)
    coordinator = await sc.investigator("510100", role="coordinator")
    for token, path in ((world.owner, "/v1/requests?box=outbox"),
                        (world.owner, f"/v1/groups/{world.gid}"),
                        (coordinator, "/v1/escalations")):
        assert (await system.call("GET", world.url(path), token))[0] == 200
    async with sc.server.app[DESK].pool.acquire() as conn:
        rows = await conn.fetch("SELECT action, detail FROM audit_log WHERE at >= $1"
                                " AND action IN ('list_requests', 'view_group',"
                                " 'list_escalations')", before)
    seen = {r["action"]: r["detail"] for r in rows}
    assert set(seen) == {"list_requests", "view_group", "list_escalations"}
    assert world.rid in seen["list_requests"] and world.gid in seen["view_group"]


async def test_the_audit_log_cannot_be_rewritten(world: World) -> None:
    async with world.system.desks["sc"].server.app[DESK].pool.acquire() as conn:
        for sql in ("UPDATE audit_log SET bureau = '000000'", "DELETE FROM audit_log",
                    "TRUNCATE audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
        assert await conn.fetchval("SELECT count(*) FROM audit_log") > 0
