"""Evidence files on the bus: messages ahead of their request, duplicates and disorder,
chunks that do not add up, and both parties on one desk."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from protocol.v1.files import CHUNK_BYTES
from protocol.v1.messages import RequestSubmitted
from services.desk.attachments import limits
from tests import evidence
from tests.attachments import (
    JINJIANG,
    TIANHE,
    WUHOU,
    YUHANG,
    Case,
    chunk,
    new_case,
    offer,
    processed,
    publish,
    sql,
)
from tests.support import System, eventually, logged, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

async def test_a_file_uploaded_before_delivery_arrives_after_its_request(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    data = evidence.pdf(4 * CHUNK_BYTES)
    for _ in range(3):
        status, req = await system.call("POST", zj.url("/v1/requests"), a,
                                        json=new_request(WUHOU))
        assert status == 201, req
        case = Case(system, req["id"], a, b)
        # When the requester uploads at once (its messages are consumed alongside the request's)
        status, up = await case.upload("zj", data, "立案材料.pdf")
        assert status == 201, up
        # Then the file arrives whole once the request is there
        await case.arrived("sc", up["id"])
        assert (await case.download("sc", up["id"]))[2] == data


async def test_file_messages_ahead_of_their_request_wait_for_it(
    system: System, channel: aio_pika.abc.AbstractChannel, log_file: Path
) -> None:
    sc = system.desks["sc"]
    rid, data = str(uuid.uuid4()), evidence.pdf(CHUNK_BYTES + 1)
    o = offer(rid, data)
    parts = [bytes(p) for p in limits.pieces(data)]
    # Given a file's messages that reach the recipient's desk before the request does
    for m in (o, chunk(o, 0, parts[0]), chunk(o, 1, parts[1])):
        await publish(system, m)
    await logged(log_file, "message early; will be redelivered", message_id=str(o.message_id))
    assert not await processed(system, "sc", o)
    # When the request arrives (hand-made: zj never had it, so zj dead-letters its
    # "delivered" event; nothing else in this module looks at zj's dead letters)
    content = {k: v for k, v in new_request().items() if k != "recipient"}
    await publish(system, system.signed(RequestSubmitted(
        correlation_id="test-late", sender=YUHANG, recipient=WUHOU, body={
            "request_id": rid, "event_id": uuid.uuid4(), "requester": YUHANG,
            "recipient": WUHOU, "created_at": "2026-11-27T08:00:00Z", "created_by": "余杭 陈敏",
            "content": content, "due_date": "2026-12-31"})))
    # Then, once the request is in, the file is taken too, whole, after a retry
    case = Case(system, rid, "", await sc.investigator(WUHOU))

    async def request_in() -> bool:
        status, _ = await system.call("GET", sc.url(f"/v1/requests/{rid}"), case.b)
        return status == 200

    await eventually(request_in, what="the hand-made request delivered")
    await case.arrived("sc", str(o.body.attachment_id))
    assert (await case.download("sc", str(o.body.attachment_id)))[2] == data


async def test_duplicates_and_disorder_change_nothing(
    system: System, case: Case, channel: aio_pika.abc.AbstractChannel
) -> None:
    data = evidence.pdf(3 * CHUNK_BYTES + 5)
    parts = [bytes(p) for p in limits.pieces(data)]
    o = offer(case.rid, data)
    # Given a file whose chunks arrive last first, before their offer
    early = [chunk(o, i, parts[i]) for i in reversed(range(len(parts)))]
    for m in early[:-1]:
        await publish(system, m)
    await eventually(lambda: processed(system, "sc", *early[:-1]), what="early chunks")
    await publish(system, o)
    aid = str(o.body.attachment_id)
    # Then it waits for the missing chunk (and is not served meanwhile)
    await case.arrived("sc", aid, "receiving")
    status, _, body = await case.download("sc", aid)
    assert status == 409 and b"attachment_incomplete" in body
    # When the last one comes, it is complete
    await publish(system, early[-1])
    await case.arrived("sc", aid)
    # When the offer and a chunk are delivered again (same message id), and a chunk again
    # under a new id, even with other bytes
    await publish(system, o)
    await publish(system, early[0])
    again = chunk(o, 1, b"\0" * len(parts[1]))
    await publish(system, again)
    await eventually(lambda: processed(system, "sc", again), what="duplicate processed")
    # Then the file is unchanged: one copy of each chunk, byte-identical, still complete
    rows = await sql(system, "sc", "SELECT count(*) AS n FROM attachment_chunk"
                     " WHERE attachment_id = $1", o.body.attachment_id)
    assert rows[0]["n"] == len(parts)
    assert (await case.download("sc", aid))[2] == data
    assert [f["id"] for f in await case.files("sc")].count(aid) == 1


async def test_chunks_that_do_not_add_up_mark_the_file_failed(
    system: System, case: Case, channel: aio_pika.abc.AbstractChannel
) -> None:
    data = evidence.pdf(CHUNK_BYTES + 10)
    parts = [bytes(p) for p in limits.pieces(data)]
    # Given an offer whose chunks are not the announced file
    o = offer(case.rid, data)
    await publish(system, o)
    await publish(system, chunk(o, 0, parts[0]))
    await publish(system, chunk(o, 1, parts[1][::-1]))
    # Then the receiving desk marks it failed and never serves it
    aid = str(o.body.attachment_id)
    await case.arrived("sc", aid, "failed")
    status, _, body = await case.download("sc", aid)
    assert status == 409 and b"checksum_mismatch" in body


async def test_both_parties_on_one_desk(system: System, channel: aio_pika.abc.AbstractChannel
                                        ) -> None:
    sc = system.desks["sc"]
    a, b = await sc.investigator(JINJIANG), await sc.investigator(WUHOU)
    status, req = await system.call("POST", sc.url("/v1/requests"), a, json=new_request(WUHOU))
    assert status == 201, req
    case = Case(system, req["id"], a, b)
    # When Wuhou uploads reply evidence for Jinjiang, both on desk sc
    status, up = await case.upload("sc", evidence.pdf(), "本地.pdf")
    assert status == 201 and up["purpose"] == "reply", up
    # Then Jinjiang has it at once, and an offer coming back for it changes nothing
    o = offer(req["id"], evidence.pdf(), attachment_id=up["id"], purpose="reply")
    o = o.model_copy(update={"sender": WUHOU, "recipient": JINJIANG})
    await publish(system, o)
    await eventually(lambda: processed(system, "sc", o), what="offer processed")
    status, listed = await system.call(
        "GET", sc.url(f"/v1/requests/{req['id']}/attachments"), a)
    assert [(f["id"], f["status"], f["uploaded_by"]["bureau"]) for f in listed["items"]] == [
        (up["id"], "complete", WUHOU)]
    async with system.http.get(sc.url(f"/v1/requests/{req['id']}/attachments/{up['id']}"),
                               headers={"Authorization": f"Bearer {a}"}) as resp:
        assert resp.status == 200 and await resp.read() == evidence.pdf()


async def test_files_follow_a_transfer_to_another_desk(system: System) -> None:
    # Given a request from Yuhang (zj) to Wuhou (sc) with evidence from both sides
    case = await new_case(system)
    sc, gd = system.desks["sc"], system.desks["gd"]
    accepted = await system.call("POST", sc.url(f"/v1/requests/{case.rid}/accept"), case.b)
    assert accepted[0] == 200
    pdf, png = evidence.pdf(CHUNK_BYTES + 7), evidence.png()
    status, asked = await case.upload("zj", pdf, "立案材料.pdf")
    assert status == 201, asked
    await case.arrived("sc", asked["id"])
    status, found = await case.upload("sc", png, "现场照片.png")
    assert status == 201, found
    # When Wuhou transfers it to Tianhe, on the Guangdong desk
    status, _ = await system.call("POST", sc.url(f"/v1/requests/{case.rid}/transfer"), case.b,
                                  json={"to": TIANHE})
    assert status == 200
    c = await gd.investigator(TIANHE, "天河 李娜")
    there = Case(system, case.rid, c, c)

    # Then both files are at Tianhe's desk, whole, with who uploaded them
    async def both() -> list[Any] | None:
        status, body = await system.call("GET", gd.url(f"/v1/requests/{case.rid}/attachments"),
                                         c)
        items = body.get("items", []) if status == 200 else []
        done = [f for f in items if f["status"] == "complete"]
        return done if len(done) == 2 else None

    files = {f["id"]: f for f in await eventually(both, what="files at the new recipient")}
    assert files[asked["id"]]["purpose"] == "request"
    assert files[asked["id"]]["uploaded_by"]["bureau"] == YUHANG
    assert files[found["id"]]["uploaded_by"]["bureau"] == WUHOU
    assert (await there.download("gd", asked["id"]))[2] == pdf
    assert (await there.download("gd", found["id"]))[2] == png
