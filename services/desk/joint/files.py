"""Evidence shared with a joint case: upload, receipt in chunks, verified download.

A file is stored in the desk's database in ``CHUNK_BYTES`` chunks with its SHA-256. At
the lead's desk an upload is shared at once (timeline entry, chunks to every member
and the supervisor). A member's upload goes to the lead's desk first; once all its
chunks are in and the SHA-256 matches there, the lead's desk shares it on. Every desk
checks the SHA-256 when the last chunk arrives (a mismatch marks the file failed) and
again before every download.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Annotated

import asyncpg
import structlog
from pydantic import Field

from protocol.errors import ErrorCode
from protocol.v1 import joint as j
from protocol.v1.content import Handling
from protocol.v1.files import CHUNK_BYTES, chunk_count
from protocol.v1.messages import JointFileChunk
from services.common import outbox
from services.common.handling import MessageEarly
from services.desk.context import Desk
from services.desk.domain import joint
from services.desk.domain.errors import Refused
from services.desk.domain.joint import Case, Step
from services.desk.joint import decide, outgoing, store
from services.desk.joint.usecases import visible
from services.desk.store.investigators import Investigator

log = structlog.get_logger()

HandlingList = Annotated[tuple[Handling, ...], Field(max_length=len(Handling))]


async def share(desk: Desk, who: Investigator, case_id: uuid.UUID, name_header: str | None,
                data: bytes, handling: HandlingList, cid: str) -> tuple[j.SharedFile, bool]:
    """Store an uploaded file and share it; (file, pending) when the lead shares it on."""
    if desk.evidence_check is None:
        raise Refused(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "this desk takes no evidence files")
    async with desk.pool.acquire() as conn:  # no party, no look at its file: 404 as elsewhere
        await visible(conn, who, case_id)
    name, media_type = desk.evidence_check(name_header, data)
    meta = j.SharedFile.model_validate({
        "file_id": uuid.uuid4(), "name": name, "media_type": media_type, "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "shared_by": who.bureau,
        "uploaded_by": who.name, "handling": handling})
    async with desk.pool.acquire() as conn, conn.transaction():
        case = await visible(conn, who, case_id, lock=True)
        step = Step(who.bureau, who.name, desk.clock(), j.EvidenceShared(file=meta))
        joint.decide(case, who.bureau, step.change)  # a worker of an open case
        await _store_whole(conn, case_id, meta, data, desk)
        await store.audit(conn, who, "joint_share_evidence", case_id, cid)
        if desk.hosts(case.lead):
            await store.mark_shared(conn, meta.file_id)
            await decide.originate(conn, desk, case, step, cid)
            return meta, False
        for message in outgoing.file_chunks(case_id, meta, data, who.bureau, case.lead, cid):
            await outbox.enqueue(conn, message)
        return meta, True


async def _store_whole(conn: asyncpg.Connection, case_id: uuid.UUID, meta: j.SharedFile,
                       data: bytes, desk: Desk) -> None:
    n = chunk_count(meta.size)
    await store.add_file(conn, case_id, meta, n, desk.clock())
    for idx in range(n):
        piece = data[idx * CHUNK_BYTES:(idx + 1) * CHUNK_BYTES]
        await store.add_chunk(conn, meta.file_id, idx, piece)
    await store.settle_file(conn, meta.file_id, "complete")


async def on_chunk(conn: asyncpg.Connection, desk: Desk, msg: JointFileChunk) -> None:
    """Store one chunk (once); when the file is whole, verify it and, at the lead's desk,
    share it with the case."""
    b = msg.body
    case = await store.get(conn, b.case_id)
    if case is None:
        raise MessageEarly(f"evidence for joint case {b.case_id} that is not here (yet)")
    _check_sender(case, msg.sender, b.file)
    await store.add_file(conn, case.id, b.file, chunk_count(b.file.size), desk.clock())
    row = await store.lock_file(conn, b.file.file_id)  # one chunk at a time settles a file
    assert row is not None
    await store.add_chunk(conn, b.file.file_id, b.idx, _raw(msg))
    if row["status"] != "receiving":
        return
    parts = await store.chunks_of(conn, b.file.file_id)
    if len(parts) < row["chunks"]:
        return
    ok = store.intact(parts, b.file, row["chunks"])
    await store.settle_file(conn, b.file.file_id, "complete" if ok else "failed")
    log.info("joint evidence received", file_id=str(b.file.file_id), intact=ok)
    if desk.hosts(case.lead) and await store.mark_shared(conn, b.file.file_id):
        await _share_on(conn, desk, case.id, msg, ok)


async def _share_on(conn: asyncpg.Connection, desk: Desk, case_id: uuid.UUID,
                    msg: JointFileChunk, intact: bool) -> None:
    """At the lead's desk: a member's file that arrived whole is shared with the case;
    one that fails its SHA-256 is refused back to the member (it uploads it again)."""
    meta = msg.body.file
    case = await store.get(conn, case_id, lock=True)
    assert case is not None
    if not intact:
        await outbox.enqueue(conn, outgoing.refusal(
            case, meta.shared_by, meta.file_id, "evidence_shared", ErrorCode.CHECKSUM_MISMATCH,
            f"{meta.name} arrived damaged at the lead's desk; upload it again", desk.clock(),
            msg.correlation_id))
        return
    step = Step(meta.shared_by, meta.uploaded_by, desk.clock(), j.EvidenceShared(file=meta))
    try:
        async with conn.transaction():  # savepoint: the member may have left meanwhile
            await decide.originate(conn, desk, case, step, msg.correlation_id)
    except Refused as exc:
        await outbox.enqueue(conn, outgoing.refusal(
            case, meta.shared_by, meta.file_id, "evidence_shared", exc.code, exc.message,
            desk.clock(), msg.correlation_id))


def _raw(msg: JointFileChunk) -> bytes:
    return base64.b64decode(msg.body.data)


def _check_sender(case: Case, sender: str, meta: j.SharedFile) -> None:
    """The lead sends any shared file; a member only its own, to the lead."""
    if sender == case.lead or (sender == meta.shared_by and case.status_of(sender)
                               in joint.ACTIVE):
        return
    raise Refused(ErrorCode.FORBIDDEN, f"{sender} may not send evidence of this case")


async def download(desk: Desk, who: Investigator, case_id: uuid.UUID, file_id: uuid.UUID,
                   cid: str) -> tuple[j.SharedFile, bytes]:
    """The file's bytes, verified against its SHA-256; 409 instead of a damaged file."""
    return await _verified(desk, who, case_id, file_id, cid, "joint_download")


async def verify(desk: Desk, who: Investigator, case_id: uuid.UUID, file_id: uuid.UUID,
                 cid: str) -> j.SharedFile:
    """The stored file checked against its SHA-256 now (the page's *verify*); 409 if not."""
    meta, _ = await _verified(desk, who, case_id, file_id, cid, "joint_verify")
    return meta


async def _verified(desk: Desk, who: Investigator, case_id: uuid.UUID, file_id: uuid.UUID,
                    cid: str, action: str) -> tuple[j.SharedFile, bytes]:
    async with desk.pool.acquire() as conn, conn.transaction():
        case = await visible(conn, who, case_id)
        if not case.shows(who.bureau, "evidence_shared"):
            raise Refused(ErrorCode.FORBIDDEN, "evidence is for working members")
        row = await store.file(conn, case_id, file_id)
        if row is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no file {file_id} in this case")
        meta = j.SharedFile.model_validate(row["meta"])
        parts = await store.chunks_of(conn, file_id)
        if row["status"] == "receiving":
            raise Refused(ErrorCode.ATTACHMENT_INCOMPLETE, "the file is still arriving")
        if row["status"] != "complete" or not store.intact(parts, meta, row["chunks"]):
            raise Refused(ErrorCode.CHECKSUM_MISMATCH, "the stored file fails its SHA-256")
        await store.audit(conn, who, action, case_id, cid)
        return meta, b"".join(parts)
