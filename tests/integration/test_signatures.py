"""SM2 signatures of decided changes: a change whose signature is not the deciding desk's
is dead-lettered and not applied; both desks keep the same signed history, and
``python -m services.desk verify`` checks the signatures and compares the two desks'
chains over the bus, naming the first entry that fails."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import uuid
from typing import Any

import aio_pika
import asyncpg
import pytest

from protocol import routing
from protocol.v1 import RequestEvent
from services.common import db, sm2
from services.common.paths import desk_key_file
from services.desk.domain import chain
from services.desk.signing import Signer
from services.desk.store import chain as chain_store
from tests.integration.test_bus import (
    WUHOU,
    YUHANG,
    create_and_deliver,
    dead_letters,
    fetch,
)
from tests.integration.test_pages import browser_of, csrf_of
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


def accepted(rid: str, due: dt.date, actor: str = "武侯 王五") -> RequestEvent:
    return RequestEvent(correlation_id="sig", sender=WUHOU, recipient=YUHANG, body={
        "request_id": rid, "event_id": uuid.uuid4(), "seq": 2, "bureau": WUHOU,
        "occurred_at": dt.datetime.now(dt.UTC), "actor": actor, "state": "accepted",
        "due_date": due, "change": {"event": "accepted"}})


async def test_a_change_without_the_deciding_desks_signature_is_dead_lettered(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given a request from Yuhang delivered at Wuhou
    rid, _ = await create_and_deliver(system)
    [row] = await fetch(system, "zj", "SELECT due_date FROM request WHERE id = $1",
                        uuid.UUID(rid))
    # When Wuhou's desk (its broker user, its bureau) sends an acceptance signed by another
    # key, one signed and then altered, and one unsigned
    stranger = Signer("sc", sm2.KeyPair.generate())
    other_key = stranger.message(accepted(rid, row["due_date"]))[0]
    genuine = system.signed(accepted(rid, row["due_date"]))
    altered = genuine.model_copy(update={
        "message_id": uuid.uuid4(), "body": genuine.body.model_copy(update={"actor": "冒充者"})})
    unsigned = accepted(rid, row["due_date"])
    forged = {str(m.message_id): why for m, why in (
        (other_key, "does not verify"), (altered, "does not verify"), (unsigned, "unsigned"))}
    for msg in (other_key, altered, unsigned):
        await system.send(routing.DESK_EXCHANGE, routing.desk_key(YUHANG, msg.type),
                          msg.model_dump_json().encode(), str(msg.message_id))

    # Then each is dead-lettered with signature_invalid and its reason; nothing applied
    letters: dict[str, Any] = {}

    async def all_dead() -> bool:
        for m in await dead_letters(channel, routing.desk_inbox_queue("zj")):
            letters[str(m.message_id)] = m
        return set(forged) <= set(letters)

    await eventually(all_dead, what="the three forged acceptances dead-lettered")
    for mid, why in forged.items():
        assert letters[mid].headers["x-xiecha-error-code"] == "signature_invalid"
        assert why in str(letters[mid].headers["x-xiecha-error-reason"])
    [row] = await fetch(system, "zj", "SELECT state, last_seq FROM request WHERE id = $1",
                        uuid.UUID(rid))
    assert (row["state"], row["last_seq"]) == ("delivered", 1)


async def cli_verify(system: System, region: str, rid: str) -> tuple[int, str]:
    """``python -m services.desk verify`` as the desk's operator runs it (the desk runs)."""
    desk = system.desks[region]
    env = os.environ | {"XIECHA_DESK_DATABASE_URL": desk.settings.dsn,
                        "XIECHA_DESK_REGION": region,
                        "XIECHA_DESK_PROVINCES": desk.settings.provinces}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.desk", "verify", rid, "--wait", "60", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def answered(system: System, token_zj: str, rid: str) -> None:
    sc = system.desks["sc"]
    b = await sc.investigator(WUHOU)
    for action, body in (("accept", None), ("reply", {"findings": "已登记，状态正常"})):
        status, _ = await system.call("POST", sc.url(f"/v1/requests/{rid}/{action}"), b,
                                      json=body)
        assert status == 200, action

    async def replied_home() -> bool:
        _, r = await system.call("GET", system.desks["zj"].url(f"/v1/requests/{rid}"), token_zj)
        return bool(r["state"] == "replied")

    await eventually(replied_home, what="the reply at home")


async def rewrite_chain(dsn: str, rid: str, event_type: str, data: dict[str, Any]) -> str:
    """What someone with write access and this module's code can do: change an entry and
    hash the chain again from it, so the chain alone no longer shows it."""
    pool = await db.open_pool(dsn, min_size=1, max_size=1)  # with the desk's JSON codec
    try:
        async with pool.acquire() as conn:
            return await _rewrite(conn, rid, event_type, data)
    finally:
        await pool.close()


async def _rewrite(conn: asyncpg.Connection, rid: str, event_type: str,
                   data: dict[str, Any]) -> str:
    async with conn.transaction():
        event_id = await conn.fetchval(
            "UPDATE request_event SET data = $3 WHERE request_id = $1 AND type = $2"
            " RETURNING event_id", uuid.UUID(rid), event_type, data)
        previous = None
        for e in await chain_store.stored(conn, uuid.UUID(rid)):
            digest = chain.entry_hash(e.algorithm, previous, e.entry)
            await conn.execute("UPDATE request_event SET prev_hash = $2, hash = $3"
                               " WHERE event_id = $1", uuid.UUID(e.entry["event_id"]),
                               previous, digest)
            previous = digest
        return str(event_id)


async def test_both_desks_keep_the_signed_history_and_verify_compares_them(
    system: System,
) -> None:
    # Given a request accepted and answered at Wuhou and the answer home at Yuhang
    rid, token = await create_and_deliver(system)
    await answered(system, token, rid)
    # Then every entry is signed on both desks, a decided one by the deciding desk on both
    for region in ("zj", "sc"):
        rows = await fetch(system, region, "SELECT type, signed_by, signature FROM"
                           " request_event WHERE request_id = $1", uuid.UUID(rid))
        assert all(r["signature"] for r in rows), region
        signers = {r["type"]: r["signed_by"] for r in rows}
        assert signers["created"] == "zj" and signers["replied"] == "sc", (region, signers)
    # and verify finds both chains intact, signed and equal
    code, out = await cli_verify(system, "zj", rid)
    assert code == 0 and "signatures valid" in out and "same" in out, out

    # When someone rewrites the reply's findings at Wuhou's desk and hashes the chain anew
    event_id = await rewrite_chain(system.desks["sc"].owner_dsn, rid, "replied",
                                   {"reply": {"findings": "未登记", "answers": []}})
    # Then the signature names the entry there, and the comparison from Yuhang fails on it
    code, out = await cli_verify(system, "sc", rid)
    assert code == 1 and event_id in out and "signed change" in out, out
    code, out = await cli_verify(system, "zj", rid)
    assert code == 1 and "other desk" in out and event_id in out, out


async def test_the_request_pages_verify_button_shows_both_checks(system: System) -> None:
    # Given a request answered at Wuhou, and its requester signed in to the workspace
    rid, token = await create_and_deliver(system)
    await answered(system, token, rid)
    zj = system.desks["zj"]
    client = await browser_of(zj, token)
    try:
        async with client.get(zj.url(f"/requests/{rid}")) as resp:
            page = await resp.text()
        assert "核验履历" in page  # the button, in Chinese by default
        # a post without the page's CSRF token is refused
        async with client.post(zj.url(f"/requests/{rid}/verify"), data={}) as resp:
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
        # When the investigator presses it
        async with client.post(zj.url(f"/requests/{rid}/verify"),
                               data={"csrf": csrf_of(page)}) as resp:
            assert resp.status == 200 and "/verify/" in str(resp.url)
            result_url = str(resp.url)
            assert "signatures valid" in await resp.text()

        # Then this desk's verdict shows at once, the other desk's once it answered
        async def compared() -> str | None:
            async with client.get(result_url) as r:
                text = await r.text()
            return text if "same" in text else None

        text = await eventually(compared, what="the other desk's comparison on the page")
        assert "对方平台" in text and "本平台" in text
        async with client.get(zj.url(f"/requests/{rid}/verify/not-a-uuid")) as resp:
            assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    finally:
        await client.close()


async def test_the_desks_public_keys_travel_with_the_registry(system: System) -> None:
    """The hub reads each desk's public key from its keys directory (its configuration)
    and every desk installs them from the registry, even at a version it already has."""
    expected = {region: sm2.read_public(sm2.public_path(desk_key_file(region, system.keys)))
                for region in system.desks}
    for region in system.desks:
        rows = await fetch(system, region, "SELECT region, provinces, public_key FROM desk_key")
        assert {r["region"]: bytes(r["public_key"]) for r in rows} == expected, region
        assert {r["region"]: r["provinces"] for r in rows}["sc"] == ["51"]
