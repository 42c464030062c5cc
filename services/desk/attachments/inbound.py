"""Evidence files arriving from the other party's desk: one offer and its chunks.

They may arrive in any order, and twice. Each message is handled in the consumer's
transaction (recorded by message id); work on one file is serialised by an advisory
lock, so whichever message completes the set sees every other one and settles the
file: complete when the whole matches its SHA-256, failed (never served) when not.
A chunk stored twice keeps its first copy. When both parties are on this desk, the
file is here already and such messages change nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from protocol.errors import ErrorCode
from protocol.v1.messages import AttachmentChunk, AttachmentOffered
from services.common.handling import Dispatcher, MessageEarly
from services.desk.attachments import limits, sniff, store
from services.desk.domain.errors import Refused
from services.desk.domain.request import Request
from services.desk.store import requests

log = structlog.get_logger()


def register(bus: Dispatcher, clock: Callable[[], dt.datetime]) -> None:
    async def on_file(conn: asyncpg.Connection, msg: AttachmentOffered | AttachmentChunk) -> None:
        await receive(conn, msg, clock())

    bus.register(AttachmentOffered, on_file)
    bus.register(AttachmentChunk, on_file)


async def receive(conn: asyncpg.Connection, msg: AttachmentOffered | AttachmentChunk,
                  now: dt.datetime) -> None:
    req = await requests.get(conn, msg.body.request_id)
    if req is None:
        raise MessageEarly(f"request {msg.body.request_id} is not here yet")
    if not req.can_see(msg.sender):
        raise Refused(ErrorCode.FORBIDDEN, "only a party to the request sends files for it")
    await store.lock(conn, msg.body.attachment_id)
    if isinstance(msg, AttachmentOffered):
        await _offered(conn, req, msg)
    else:
        await _chunk(conn, msg)
    await _settle(conn, msg, now)


async def _offered(conn: asyncpg.Connection, req: Request, msg: AttachmentOffered) -> None:
    b = msg.body
    uploader = b.uploaded_by_bureau or msg.sender
    if uploader != msg.sender and msg.sender not in req.transferred_from:
        raise Refused(ErrorCode.FORBIDDEN, "only a former recipient forwards others' files")
    if (b.purpose == "request") != (uploader == req.requester):
        raise Refused(ErrorCode.FORBIDDEN, "request evidence comes from the requester,"
                                           " reply evidence from a recipient")
    new = store.NewAttachment(
        id=b.attachment_id, request_id=b.request_id, name=b.name, media_type=b.media_type,
        size=b.size, sha256=bytes.fromhex(b.sha256), chunks=b.chunks, purpose=b.purpose,
        uploaded_by_bureau=uploader, uploaded_by=b.uploaded_by, uploaded_at=b.uploaded_at,
    )
    if not await store.insert(conn, new):
        old = await store.get(conn, b.attachment_id)
        assert old is not None
        if (old["request_id"], old["sha256"], old["size"]) != (new.request_id, new.sha256,
                                                               new.size):
            raise Refused(ErrorCode.HANDLER_REFUSED, "this file id is taken by another file")


async def _chunk(conn: asyncpg.Connection, msg: AttachmentChunk) -> None:
    b = msg.body
    att = await store.get(conn, b.attachment_id)
    if att is not None and (att["request_id"] != b.request_id or b.idx >= att["chunks"]):
        raise Refused(ErrorCode.HANDLER_REFUSED, f"chunk {b.idx} does not belong to file"
                                                 f" {b.attachment_id}")
    await store.add_chunk(conn, b.attachment_id, b.idx, b.raw())


async def _settle(conn: asyncpg.Connection, msg: AttachmentOffered | AttachmentChunk,
                  now: dt.datetime) -> None:
    """Verify and mark the file once its offer and every chunk are here."""
    aid = msg.body.attachment_id
    att = await store.get(conn, aid)
    if att is None or att["complete"] or att["failed_reason"]:
        return
    if await store.chunks_present(conn, aid, att["chunks"]) < att["chunks"]:
        return
    parts = await store.read_chunks(conn, aid, att["chunks"])
    reason = _fault(parts, att)
    await store.settle(conn, aid, now, reason)
    if reason is None:
        log.info("file received", attachment_id=str(aid), size=att["size"])
        return
    log.warning("file failed verification on receipt; it will not be served",
                attachment_id=str(aid), request_id=str(att["request_id"]), reason=reason)


def _fault(parts: list[bytes], att: asyncpg.Record) -> str | None:
    """Why the received file must not be served, if it must not."""
    if not limits.intact(parts, att["sha256"], att["size"]):
        return "the received chunks do not add up to the file's SHA-256 and size"
    if sniff.media_type_of(b"".join(parts)) != att["media_type"]:  # as the sender's desk did
        return f"the content is not the {att['media_type']} it was offered as"
    return None
