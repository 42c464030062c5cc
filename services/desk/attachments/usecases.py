"""Evidence files as investigators use them: upload, list, download.

An upload commits in one transaction: the file's row and chunks, the audit entry,
and (when the other party is on another desk) the offer and chunk messages that
carry it there. Only the parties see the files (others get "not found"); only the
requester and the current recipient add files, while the request is not finished.
A download is verified against the recorded SHA-256 before a byte leaves.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from protocol.errors import ErrorCode
from protocol.v1.files import chunk_count
from services.common import outbox
from services.desk.access import handed_over_at, visible
from services.desk.attachments import limits, outgoing, store
from services.desk.context import Desk
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import TERMINAL, Party
from services.desk.domain.privacy import HIDDEN
from services.desk.domain.request import Request
from services.desk.store import audit
from services.desk.store.investigators import Investigator

log = structlog.get_logger()


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    claimed_sha256: bytes | None = None


def uploader_party(req: Request, who: Investigator) -> Party:
    """The caller's side of the request, if it may add files now; else Refused."""
    party = req.party_of(who.bureau)
    if party is None:
        raise Refused(ErrorCode.FORBIDDEN, "only the requester and the recipient add files")
    if req.state in TERMINAL:
        raise Refused(ErrorCode.ILLEGAL_TRANSITION,
                      f"the request is {req.state}: no more files may be added")
    return party


@dataclass
class Files:
    desk: Desk

    async def may_upload(self, who: Investigator, request_id: uuid.UUID) -> None:
        """Refuse early, before a large body is read, a caller who may not upload."""
        async with self.desk.pool.acquire() as conn:
            uploader_party(await visible(conn, who, request_id), who)

    async def upload(self, who: Investigator, request_id: uuid.UUID, up: Upload,
                     cid: str) -> store.NewAttachment:
        media_type = limits.accepted_type(up.name, up.data)
        digest = hashlib.sha256(up.data).digest()
        if up.claimed_sha256 is not None and up.claimed_sha256 != digest:
            raise Refused(ErrorCode.CHECKSUM_MISMATCH,
                          f"X-Content-SHA256 says {up.claimed_sha256.hex()}, the body's"
                          f" SHA-256 is {digest.hex()}: the file was damaged on the way")
        parts = limits.pieces(up.data)
        async with self.desk.pool.acquire() as conn, conn.transaction():
            req = await visible(conn, who, request_id, lock=True)
            party = uploader_party(req, who)
            if await store.count(conn, request_id) >= limits.MAX_PER_REQUEST:
                raise Refused(ErrorCode.VALIDATION_FAILED,
                              f"a request holds at most {limits.MAX_PER_REQUEST} files")
            now = self.desk.clock()
            new = store.NewAttachment(
                id=uuid.uuid4(), request_id=request_id, name=up.name, media_type=media_type,
                size=len(up.data), sha256=digest, chunks=chunk_count(len(up.data)),
                purpose="request" if party is Party.REQUESTER else "reply",
                uploaded_by_bureau=who.bureau, uploaded_by=who.name, uploaded_at=now,
            )
            await store.insert(conn, new, completed_at=now)
            await store.add_chunks(conn, new.id, parts)
            await audit.record(conn, who, "upload_attachment", request_id, cid, new.id)
            other = req.counterpart(who.bureau)
            if not self.desk.hosts(other):  # on this desk the file is there already
                await outbox.enqueue(conn, outgoing.offered(new, cid, other))
                for message in outgoing.chunks(new, parts, cid, other):
                    await outbox.enqueue(conn, message)
        return new

    async def listing(self, who: Investigator, request_id: uuid.UUID,
                      cid: str) -> list[Mapping[str, Any]]:
        async with self.desk.pool.acquire() as conn, conn.transaction():
            req = await visible(conn, who, request_id)
            await audit.record(conn, who, "list_attachments", request_id, cid)
            files: list[Mapping[str, Any]] = list(await store.of_request(conn, request_id))
            until = await handed_over_at(conn, who, req)
            if until is not None:
                files = [f for f in files if f["uploaded_at"] <= until]
            if self.desk.hidden(req):  # a file's name may name a person
                files = [{**f, "name": HIDDEN} for f in files]
            return files

    async def download(self, who: Investigator, request_id: uuid.UUID,
                       attachment_id: uuid.UUID, cid: str) -> tuple[asyncpg.Record, list[bytes]]:
        """The file and its chunks, verified; the attempt is audited, refused or not."""
        async with self.desk.pool.acquire() as conn, conn.transaction():
            req = await visible(conn, who, request_id)
            att = await store.get(conn, attachment_id)
            until = await handed_over_at(conn, who, req)
            if (att is None or att["request_id"] != request_id
                    or (until is not None and att["uploaded_at"] > until)):
                raise Refused(ErrorCode.NOT_FOUND, f"no file {attachment_id} on this request")
            parts = await store.read_chunks(conn, attachment_id, att["chunks"])
            refusal = _hidden() if self.desk.hidden(req) else _refusal(att, parts)
            action = "download_attachment" + ("_refused" if refusal else "")
            await audit.record(conn, who, action, request_id, cid, attachment_id)
        if refusal is not None:
            raise refusal
        return att, parts


def _hidden() -> Refused:
    return Refused(ErrorCode.PERSONAL_DATA_HIDDEN, "the request ended long ago: its files may"
                   " hold personal data and are no longer served")


def _refusal(att: asyncpg.Record, parts: list[bytes]) -> Refused | None:
    """Why the file must not be served, if it must not."""
    if att["failed_reason"]:
        return Refused(ErrorCode.CHECKSUM_MISMATCH, f"the file was refused on receipt:"
                                                    f" {att['failed_reason']}")
    if not att["complete"]:
        return Refused(ErrorCode.ATTACHMENT_INCOMPLETE, f"the file is still arriving:"
                                                        f" {len(parts)} of {att['chunks']} chunks")
    if not limits.intact(parts, att["sha256"], att["size"]):
        log.error("stored file does not match its SHA-256; not served",
                  attachment_id=str(att["id"]), request_id=str(att["request_id"]))
        return Refused(ErrorCode.CHECKSUM_MISMATCH,
                       "the stored file does not match its recorded SHA-256; it is not served")
    return None
