"""Evidence files across desks: upload at one party's desk, verified copy at the other's,
type and size limits, checksums on the way in and on the way out, visibility, audit,
and the bus's duplicates and disorder."""

from __future__ import annotations

import asyncio
import hashlib
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from protocol import routing
from protocol.v1.files import CHUNK_BYTES, MAX_FILE_BYTES, chunk_count, encode_chunk
from protocol.v1.messages import AttachmentChunk, AttachmentOffered, Message, RequestSubmitted
from services.desk.attachments import limits
from tests import evidence
from tests.support import DeskHandle, System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU, JINJIANG, TIANHE = "330110", "510107", "510104", "440106"


@dataclass
class Case:
    system: System
    rid: str
    a: str
    """Token of Yuhang (requester, desk zj)."""
    b: str
    """Token of Wuhou (recipient, desk sc)."""

    async def upload(self, side: str, data: bytes, name: str,
                     **headers: str) -> tuple[int, Any]:
        desk, token = self.desk(side), self.a if side == "zj" else self.b
        return await self.system.call(
            "POST", desk.url(f"/v1/requests/{self.rid}/attachments"), token, data=data,
            headers={"X-Filename": name, "Content-Type": "application/octet-stream"} | headers)

    async def files(self, side: str) -> list[Any]:
        token = self.a if side == "zj" else self.b
        status, body = await self.system.call(
            "GET", self.desk(side).url(f"/v1/requests/{self.rid}/attachments"), token)
        assert status == 200, body
        return list(body["items"])

    async def download(self, side: str, aid: str) -> tuple[int, Any, bytes]:
        token = self.a if side == "zj" else self.b
        url = self.desk(side).url(f"/v1/requests/{self.rid}/attachments/{aid}")
        async with self.system.http.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
            return r.status, r.headers, await r.read()

    async def arrived(self, side: str, aid: str, status: str = "complete") -> Any:
        async def probe() -> Any:
            return next((f for f in await self.files(side)
                         if f["id"] == aid and f["status"] == status), None)
        return await eventually(probe, what=f"file {aid} {status} at {side}")

    def desk(self, side: str) -> DeskHandle:
        return self.system.desks[side]


async def new_case(system: System) -> Case:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG, "余杭 陈敏"), await sc.investigator(WUHOU, "武侯 张静")
    status, req = await system.call("POST", zj.url("/v1/requests"), a,
                                    json=new_request(WUHOU))
    assert status == 201, req

    async def delivered() -> bool:
        status, body = await system.call("GET", sc.url(f"/v1/requests/{req['id']}"), b)
        return status == 200 and body["state"] == "delivered"

    await eventually(delivered, what="delivered")
    return Case(system, req["id"], a, b)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def case(system: System) -> Case:
    return await new_case(system)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def channel(system: System) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    conn = await aio_pika.connect(system.scratch.amqp_url)
    yield await conn.channel(publisher_confirms=True)
    await conn.close()


async def sql(system: System, region: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(system.desks[region].settings.dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def publish(ch: aio_pika.abc.AbstractChannel, msg: Message) -> None:
    exchange, key = routing.route(msg.sender, msg.recipient, msg.type)
    ex = await ch.get_exchange(exchange, ensure=False)
    await ex.publish(aio_pika.Message(msg.model_dump_json().encode(),
                                      message_id=str(msg.message_id),
                                      delivery_mode=aio_pika.DeliveryMode.PERSISTENT), key)


async def processed(system: System, region: str, *msgs: Message) -> bool:
    rows = await sql(system, region, "SELECT count(*) AS n FROM processed_message"
                     " WHERE message_id = ANY($1)", [m.message_id for m in msgs])
    return bool(rows[0]["n"] == len({m.message_id for m in msgs}))


def offer(rid: str, data: bytes, name: str = "补充材料.pdf", **over: Any) -> AttachmentOffered:
    body = {"request_id": rid, "attachment_id": uuid.uuid4(), "name": name,
            "media_type": "application/pdf", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "chunks": chunk_count(len(data)),
            "purpose": "request", "uploaded_by": "余杭 陈敏", "uploaded_at": "2026-11-27T08:00:00Z"}
    return AttachmentOffered(correlation_id="test-offer", sender=YUHANG, recipient=WUHOU,
                             body=body | over)


def chunk(o: AttachmentOffered, idx: int, data: bytes) -> AttachmentChunk:
    return AttachmentChunk(correlation_id="test-chunk", sender=YUHANG, recipient=WUHOU, body={
        "request_id": o.body.request_id, "attachment_id": o.body.attachment_id, "idx": idx,
        "data": encode_chunk(data)})


async def test_pdf_and_png_reach_the_recipient_byte_identical(system: System, case: Case) -> None:
    # Given a request from Yuhang (zj) delivered to Wuhou (sc)
    for data, name, media_type in ((evidence.pdf(), "询问笔录.pdf", "application/pdf"),
                                   (evidence.png(), "网店截图.png", "image/png")):
        digest = hashlib.sha256(data).hexdigest()
        # When the requester uploads the file at its desk (the name percent-encoded)
        status, up = await case.upload("zj", data, urllib.parse.quote(name),
                                       **{"X-Content-SHA256": digest})
        # Then it is stored with the type found in its content and its SHA-256
        assert status == 201, up
        assert (up["name"], up["media_type"], up["size"], up["sha256"], up["purpose"]) == (
            name, media_type, len(data), digest, "request")
        # And it arrives complete at the recipient's desk, where it downloads byte-identical
        there = await case.arrived("sc", up["id"])
        assert {k: there[k] for k in up} == up | {"status": "complete"}
        for side in ("sc", "zj"):
            status, headers, got = await case.download(side, up["id"])
            assert status == 200 and got == data, (side, status)
            assert headers["X-Content-SHA256"] == digest and headers["ETag"] == f'"{digest}"'
            assert headers["Content-Type"] == media_type
            assert headers["Content-Length"] == str(len(data))
            assert "filename*=UTF-8''" in headers["Content-Disposition"]


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
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    sc = system.desks["sc"]
    rid, data = str(uuid.uuid4()), evidence.pdf(CHUNK_BYTES + 1)
    o = offer(rid, data)
    parts = [bytes(p) for p in limits.pieces(data)]
    # Given a file's messages that reach the recipient's desk before the request does
    for m in (o, chunk(o, 0, parts[0]), chunk(o, 1, parts[1])):
        await publish(channel, m)
    await asyncio.sleep(0.5)
    assert not await processed(system, "sc", o)
    # When the request arrives (hand-made: zj never had it, so zj dead-letters its
    # "delivered" event; nothing else in this module looks at zj's dead letters)
    content = {k: v for k, v in new_request().items() if k != "recipient"}
    await publish(channel, RequestSubmitted(
        correlation_id="test-late", sender=YUHANG, recipient=WUHOU, body={
            "request_id": rid, "event_id": uuid.uuid4(), "requester": YUHANG,
            "recipient": WUHOU, "created_at": "2026-11-27T08:00:00Z", "created_by": "余杭 陈敏",
            "content": content, "due_date": "2026-12-31"}))
    # Then, once the request is in, the file is taken too, whole, after a retry
    case = Case(system, rid, "", await sc.investigator(WUHOU))

    async def request_in() -> bool:
        status, _ = await system.call("GET", sc.url(f"/v1/requests/{rid}"), case.b)
        return status == 200

    await eventually(request_in, what="the hand-made request delivered")
    await case.arrived("sc", str(o.body.attachment_id))
    assert (await case.download("sc", str(o.body.attachment_id)))[2] == data


async def test_a_5_mib_file_crosses_in_several_chunks(system: System, case: Case) -> None:
    data = evidence.pdf(5 * 1024 * 1024)
    # When a 5 MiB file is uploaded (more than the desk's 256 KiB JSON body limit)
    status, up = await case.upload("zj", data, "账册扫描.pdf")
    assert status == 201, up
    # Then it crosses in 256 KiB chunks and is whole at the other desk
    await case.arrived("sc", up["id"])
    rows = await sql(system, "sc", "SELECT idx, length(data) AS n FROM attachment_chunk"
                     " WHERE attachment_id = $1 ORDER BY idx", uuid.UUID(up["id"]))
    assert [r["idx"] for r in rows] == list(range(chunk_count(len(data))))
    assert len(rows) == 20 and {r["n"] for r in rows[:-1]} == {CHUNK_BYTES}
    status, _, got = await case.download("sc", up["id"])
    assert status == 200 and got == data


async def stored(system: System, rid: str) -> int:
    rows = await sql(system, "zj", "SELECT count(*) AS n FROM attachment WHERE request_id = $1",
                     uuid.UUID(rid))
    return int(rows[0]["n"])


@pytest.mark.parametrize(("data", "name"), [
    (evidence.ELF, "发票.pdf"), (evidence.EXE, "invoice.pdf"), (evidence.TEXT, "合同.pdf"),
    (evidence.png(), "伪装.pdf"), (evidence.docx(macros=True), "宏.docx"),
], ids=["elf", "exe", "text", "png-named-pdf", "macros"])
async def test_other_content_is_refused_whatever_its_name(
    system: System, case: Case, data: bytes, name: str
) -> None:
    before = await stored(system, case.rid)
    # When a file whose content is not an accepted type (or not the named one) is uploaded,
    # even declared as a PDF
    status, err = await case.upload("zj", data, urllib.parse.quote(name),
                                    **{"Content-Type": "application/pdf"})
    # Then it is refused as an unsupported media type and nothing is stored
    assert status == 415 and err["error"]["code"] == "unsupported_media_type", err
    assert await stored(system, case.rid) == before


async def test_over_20_mib_is_too_large(system: System, case: Case) -> None:
    before = await stored(system, case.rid)
    big = evidence.pdf(MAX_FILE_BYTES + 1024 * 1024)

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for i in range(0, len(big), 1024 * 1024):
            yield big[i:i + 1024 * 1024]

    # When 21 MiB are sent, with a Content-Length and streamed without one
    for body in (big, streamed()):
        status, err = await case.upload("zj", body, "太大.pdf")  # type: ignore[arg-type]
        # Then the upload is refused as too large and nothing is stored
        assert status == 413 and err["error"]["code"] == "body_too_large", err
    assert await stored(system, case.rid) == before
    # And exactly the limit is fine
    status, up = await case.upload("zj", evidence.pdf(MAX_FILE_BYTES), "刚好.pdf")
    assert status == 201 and up["size"] == MAX_FILE_BYTES, up


async def test_a_wrong_claimed_checksum_stores_nothing(system: System, case: Case) -> None:
    before = await stored(system, case.rid)
    data = evidence.pdf()
    # When the client's X-Content-SHA256 does not match the body (damaged on the way)
    wrong = hashlib.sha256(data + b"x").hexdigest()
    status, err = await case.upload("zj", data, "a.pdf", **{"X-Content-SHA256": wrong})
    # Then the upload is refused and nothing is stored
    assert status == 422 and err["error"]["code"] == "checksum_mismatch", err
    assert await stored(system, case.rid) == before
    status, err = await case.upload("zj", data, "a.pdf", **{"X-Content-SHA256": "xyz"})
    assert status == 422 and err["error"]["code"] == "validation_failed", err


async def test_a_corrupt_stored_chunk_is_refused_not_served(system: System, case: Case) -> None:
    data = evidence.pdf(600 * 1024)
    status, up = await case.upload("zj", data, "鉴定意见.pdf")
    assert status == 201, up
    await case.arrived("sc", up["id"])
    # Given a chunk of the recipient's copy damaged in its database
    await sql(system, "sc", "UPDATE attachment_chunk SET data = set_byte(data, 100,"
              " get_byte(data, 100) # 1) WHERE attachment_id = $1 AND idx = 1",
              uuid.UUID(up["id"]))  # one bit flipped
    # When the recipient downloads it
    status, headers, got = await case.download("sc", up["id"])
    # Then it is refused with checksum_mismatch, and not one byte of the file is sent
    assert status == 409 and b"checksum_mismatch" in got and data[:64] not in got, got[:200]
    assert headers["Content-Type"].startswith("application/json")
    # And the refused attempt is audited
    rows = await sql(system, "sc", "SELECT action FROM audit_log WHERE attachment_id = $1",
                     uuid.UUID(up["id"]))
    assert "download_attachment_refused" in {r["action"] for r in rows}
    # While the requester's intact copy still downloads
    assert (await case.download("zj", up["id"]))[2] == data


@pytest.mark.parametrize(("region", "bureau"), [("sc", JINJIANG), ("zj", "330102"),
                                                ("gd", TIANHE)])
async def test_a_third_bureau_finds_nothing(system: System, case: Case, region: str,
                                            bureau: str) -> None:
    status, up = await case.upload("zj", evidence.pdf(), "证据.pdf")
    assert status == 201
    await case.arrived("sc", up["id"])
    desk = system.desks[region]
    eve = await desk.investigator(bureau)
    base = desk.url(f"/v1/requests/{case.rid}/attachments")
    # When a bureau that is no party lists, downloads or uploads
    for method, url, kw in (("GET", base, {}), ("GET", f"{base}/{up['id']}", {}),
                            ("POST", base, {"data": evidence.pdf(),
                                            "headers": {"X-Filename": "x.pdf"}})):
        status, err = await system.call(method, url, eve, **kw)
        # Then it is told there is no such request
        assert status == 404 and err["error"]["code"] == "not_found", (method, url, err)


async def test_reply_evidence_reaches_the_requester(system: System) -> None:
    case = await new_case(system)
    sc = system.desks["sc"]
    assert (await system.call("POST", sc.url(f"/v1/requests/{case.rid}/accept"), case.b))[0] == 200
    # When the recipient uploads evidence with its reply
    for data, name in ((evidence.docx(), "核查报告.docx"), (evidence.xlsx(), "登记信息.xlsx")):
        status, up = await case.upload("sc", data, urllib.parse.quote(name))
        assert status == 201 and up["purpose"] == "reply", up
        # Then the requester's desk gets it, as reply evidence of Wuhou
        home = await case.arrived("zj", up["id"])
        assert home["purpose"] == "reply" and home["uploaded_by"]["bureau"] == WUHOU
        assert (await case.download("zj", up["id"]))[2] == data


async def test_duplicates_and_disorder_change_nothing(
    system: System, case: Case, channel: aio_pika.abc.AbstractChannel
) -> None:
    data = evidence.pdf(3 * CHUNK_BYTES + 5)
    parts = [bytes(p) for p in limits.pieces(data)]
    o = offer(case.rid, data)
    # Given a file whose chunks arrive last first, before their offer
    early = [chunk(o, i, parts[i]) for i in reversed(range(len(parts)))]
    for m in early[:-1]:
        await publish(channel, m)
    await eventually(lambda: processed(system, "sc", *early[:-1]), what="early chunks")
    await publish(channel, o)
    aid = str(o.body.attachment_id)
    # Then it waits for the missing chunk (and is not served meanwhile)
    await case.arrived("sc", aid, "receiving")
    status, _, body = await case.download("sc", aid)
    assert status == 409 and b"attachment_incomplete" in body
    # When the last one comes, it is complete
    await publish(channel, early[-1])
    await case.arrived("sc", aid)
    # When the offer and a chunk are delivered again (same message id), and a chunk again
    # under a new id, even with other bytes
    await publish(channel, o)
    await publish(channel, early[0])
    again = chunk(o, 1, b"\0" * len(parts[1]))
    await publish(channel, again)
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
    await publish(channel, o)
    await publish(channel, chunk(o, 0, parts[0]))
    await publish(channel, chunk(o, 1, parts[1][::-1]))
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
    await publish(channel, o)
    await eventually(lambda: processed(system, "sc", o), what="offer processed")
    status, listed = await system.call(
        "GET", sc.url(f"/v1/requests/{req['id']}/attachments"), a)
    assert [(f["id"], f["status"], f["uploaded_by"]["bureau"]) for f in listed["items"]] == [
        (up["id"], "complete", WUHOU)]
    async with system.http.get(sc.url(f"/v1/requests/{req['id']}/attachments/{up['id']}"),
                               headers={"Authorization": f"Bearer {a}"}) as resp:
        assert resp.status == 200 and await resp.read() == evidence.pdf()


async def test_uploads_and_downloads_are_audited_and_closed_requests_take_no_files(
    system: System,
) -> None:
    case = await new_case(system)
    status, up = await case.upload("zj", evidence.jpeg(), "现场.jpg")
    assert status == 201, up
    await case.download("zj", up["id"])
    rows = await sql(system, "zj", "SELECT action, bureau FROM audit_log"
                     " WHERE attachment_id = $1 ORDER BY id", uuid.UUID(up["id"]))
    assert [(r["action"], r["bureau"]) for r in rows] == [
        ("upload_attachment", YUHANG), ("download_attachment", YUHANG)]
    # When the request is withdrawn, no more files may be added
    zj = system.desks["zj"]
    status, _ = await system.call("POST", zj.url(f"/v1/requests/{case.rid}/withdraw"), case.a)
    assert status in (200, 202)

    async def refused() -> bool:
        status, err = await case.upload("zj", evidence.pdf(), "迟到.pdf")
        return status == 409 and err["error"]["code"] == "illegal_transition"

    await eventually(refused, what="upload refused after withdrawal")
