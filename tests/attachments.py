"""Shared by the evidence-file tests: a request between Yuhang (zj) and Wuhou (sc), the
bus helpers to hand-make file messages, and direct looks into a desk's database."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from protocol import routing
from protocol.v1.files import chunk_count, encode_chunk
from protocol.v1.messages import AttachmentChunk, AttachmentOffered, Message
from tests.support import DeskHandle, System, eventually, new_request

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
        token = self.a if side == "zj" else self.b
        url = self.desk(side).url(f"/v1/requests/{self.rid}/attachments")

        async def probe() -> Any:  # 404 until the request itself is there
            code, body = await self.system.call("GET", url, token)
            return next((f for f in body["items"] if f["id"] == aid and f["status"] == status),
                        None) if code == 200 else None
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


async def sql(system: System, region: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(system.desks[region].settings.dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def publish(system: System, msg: Message) -> None:
    """As the desk that serves ``msg``'s sender, with its user-id."""
    exchange, key = routing.route(msg.sender, msg.recipient, msg.type)
    await system.send(exchange, key, msg.model_dump_json().encode(), str(msg.message_id))


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
