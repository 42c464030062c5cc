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
from services.desk.joint.api import ACTIONS as JOINT_ACTIONS
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
    joint: str
    """A joint case led by Jinjiang with Wuhou as accepted member."""
    joint_file: str
    """An evidence file shared with it."""

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
    joint, joint_file = await _joint_case(system, owner, await sc.investigator(WUHOU))
    yield World(system, owner, rid, up["id"], group["id"], wrong, expired, revoked, joint,
                joint_file)
    await system.close()


SECRET_TITLE, SECRET_NOTE, SECRET_FILE = "矩阵联合案件甲", "仅限成员知悉的线索乙", "联合证据丙.pdf"
"""What the joint case holds: none of it may reach a bureau that is not a member."""
JOINT_KEY = "matrix-joint-1"


async def _joint_case(system: System, lead: str, member: str) -> tuple[str, str]:
    """A real joint case on the Sichuan desk: lead Jinjiang, Wuhou accepted, a note and an
    evidence file; (case id, file id)."""
    sc = system.desks["sc"]
    status, case = await system.call("POST", sc.url("/v1/joint"), lead, json={
        "title": SECRET_TITLE, "subjects": [{"merchant_name": "成都某某贸易有限公司"}],
        "legal_basis": "《中华人民共和国产品质量法》第三十二条", "aim": "查清销售链条",
        "members": [WUHOU]}, headers={"Idempotency-Key": JOINT_KEY})
    assert status == 201, case
    j = f"/v1/joint/{case['id']}"
    assert (await system.call("POST", sc.url(f"{j}/accept"), member))[0] == 200
    assert (await system.call("POST", sc.url(f"{j}/note"), lead,
                              json={"text": SECRET_NOTE}))[0] == 200
    status, shared = await system.call("POST", sc.url(f"{j}/evidence"), lead,
                                       data=evidence.pdf(), headers={"X-Filename": SECRET_FILE})
    assert status == 201 and not shared["pending"], shared
    return str(case["id"]), str(shared["file_id"])


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
    """The joint-case routes on a case that does not exist, for expired and revoked tokens
    (``joint_wrong_calls`` tries them on a real case with another bureau's token)."""
    j = f"/v1/joint/{JOINT_ID}"
    return [("POST", "/v1/joint", {"json": {}}), ("GET", "/v1/joint", {}), ("GET", j, {}),
            ("POST", f"{j}/tasks", {"json": {}}), ("POST", f"{j}/evidence", {"data": b"x"}),
            ("GET", f"{j}/evidence/{JOINT_FILE}", {}), ("POST", f"{j}/close", {"json": {}})]


def joint_wrong_calls(w: World) -> list[tuple[str, str, dict[str, Any]]]:
    """Every joint route on the real case, each with a body it would take from a member:
    so only the caller's bureau can be why it is refused."""
    j = f"/v1/joint/{w.joint}"
    bodies: dict[str, dict[str, Any]] = {
        "invite": {"bureaus": [QINGYANG]}, "decline": {"reason": "不在辖区"},
        "leave": {"reason": "人手不足"}, "agree-leave": {"bureau": WUHOU},
        "refuse-leave": {"bureau": WUHOU}, "note": {"text": "非成员的留言"},
        "comment": {"text": "非成员的评论"}, "close": {"findings": "非成员结案"}}
    return [
        ("POST", "/v1/joint", {"json": {
            "title": "青羊自己的案件", "subjects": [{"merchant_name": "某公司"}],
            "legal_basis": "某法", "aim": "某目的", "members": [WUHOU]},
            "headers": {"Idempotency-Key": JOINT_KEY}}),
        ("GET", "/v1/joint", {}), ("GET", j, {}),
        ("POST", f"{j}/tasks", {"json": new_request(assignee=WUHOU)}),
        ("POST", f"{j}/evidence", {"data": evidence.pdf(), "headers": {"X-Filename": "c.pdf"}}),
        # a file the desk would refuse (415) is refused as the caller's first: not found
        ("POST", f"{j}/evidence", {"data": b"MZ\x90\x00", "headers": {"X-Filename": "d.exe"}}),
        ("GET", f"{j}/evidence/{w.joint_file}", {}),
        *(("POST", f"{j}/{action}", {"json": bodies.get(action, {})})
          for action in JOINT_ACTIONS),
    ]


def canonical(w: World, path: str) -> str:
    path = (path.replace(JOINT_ID, "{id}").replace(JOINT_FILE, "{fid}")
            .replace(w.joint, "{id}").replace(w.joint_file, "{fid}"))
    if path.startswith("/v1/joint/{id}/") and path.rsplit("/", 1)[-1] in JOINT_ACTIONS:
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
    assert covered == {(m, canonical(world, p)) for m, p, _ in calls(world)
                       + joint_wrong_calls(world)}
    covered = {(m, "/v1/requests/{id}/{action}" if p.rsplit("/", 1)[-1] in ACTIONS else p)
               for m, p in covered}
    assert covered == routes


OWN_BUSINESS = {("GET", "/v1/me"), ("POST", "/v1/requests"), ("POST", "/v1/groups"),
                ("GET", "/v1/requests"), ("GET", "/v1/escalations"), ("POST", "/v1/joint"),
                ("GET", "/v1/joint")}
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


async def test_a_bureau_outside_a_joint_case_gets_nothing_of_it(world: World) -> None:
    """Qingyang is a partner on the same desk, but no member: every joint route on the case
    is refused as a request refuses a non-party (404, or 403 for what only members may do),
    and no answer carries anything of the case."""
    system, successes = world.system, list[tuple[Any, ...]]()
    for method, path, options in joint_wrong_calls(world):
        status, body = await system.call(method, world.url(path), world.wrong, **options)
        text = str(body)
        if any(s in text for s in (SECRET_TITLE, SECRET_NOTE, SECRET_FILE, world.joint_file)):
            successes.append(("leaks", method, path, status))
        if (method, canonical(world, path)) in OWN_BUSINESS:
            if world.joint in text:
                successes.append(("sees", method, path, status))
            continue
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        if (status, code) not in ((404, "not_found"), (403, "forbidden")) or set(body) != {
                "error"}:
            successes.append(("wrong bureau", method, path, status, code))
    assert successes == []
    status, body = await system.call("GET", world.url(f"/v1/joint/{world.joint}"), world.owner)
    assert status == 200 and body["state"] == "open", body  # nothing the outsider did stuck
    assert all(e["bureau"] != QINGYANG for e in body["timeline"])
    assert {m["bureau"]["code"] for m in body["members"]} == {WUHOU}


async def test_list_and_summary_reads_are_audited(world: World) -> None:
    system, sc = world.system, world.system.desks["sc"]
    before = dt.datetime.now(dt.UTC)
    coordinator = await sc.investigator("510100", role="coordinator")
    for token, path in ((world.owner, "/v1/requests?box=outbox"),
                        (world.owner, f"/v1/groups/{world.gid}"),
                        (coordinator, "/v1/escalations"), (world.owner, "/v1/joint"),
                        (world.owner, f"/v1/joint/{world.joint}")):
        assert (await system.call("GET", world.url(path), token))[0] == 200
    async with sc.server.app[DESK].pool.acquire() as conn:
        rows = await conn.fetch("SELECT action, detail, joint_case_id FROM audit_log"
                                " WHERE at >= $1 AND action IN ('list_requests', 'view_group',"
                                " 'list_escalations', 'list_joint_cases', 'joint_view')", before)
    seen = {r["action"]: r["detail"] or str(r["joint_case_id"]) for r in rows}
    assert set(seen) == {"list_requests", "view_group", "list_escalations", "list_joint_cases",
                         "joint_view"}
    assert world.rid in seen["list_requests"] and world.gid in seen["view_group"]
    assert world.joint in seen["list_joint_cases"] and world.joint in seen["joint_view"]


async def test_the_audit_log_cannot_be_rewritten(world: World) -> None:
    async with world.system.desks["sc"].server.app[DESK].pool.acquire() as conn:
        for sql in ("UPDATE audit_log SET bureau = '000000'", "DELETE FROM audit_log",
                    "TRUNCATE audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
        assert await conn.fetchval("SELECT count(*) FROM audit_log") > 0
