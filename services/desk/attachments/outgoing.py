"""Builders of the messages that carry an evidence file to the other party's desk."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from protocol.v1.files import encode_chunk
from protocol.v1.messages import AttachmentChunk, AttachmentOffered
from services.desk.attachments.store import NewAttachment


def offered(a: NewAttachment, correlation_id: str, recipient: str,
            sender: str | None = None) -> AttachmentOffered:
    """The file's metadata; ``sender`` is a former recipient forwarding it after a transfer."""
    forwarded = sender is not None and sender != a.uploaded_by_bureau
    return AttachmentOffered(
        correlation_id=correlation_id, sender=sender or a.uploaded_by_bureau,
        recipient=recipient,
        body={
            "request_id": a.request_id, "attachment_id": a.id, "name": a.name,
            "media_type": a.media_type, "size": a.size, "sha256": a.sha256.hex(),
            "chunks": a.chunks, "purpose": a.purpose, "uploaded_by": a.uploaded_by,
            "uploaded_at": a.uploaded_at,
            "uploaded_by_bureau": a.uploaded_by_bureau if forwarded else None,
        },
    )


def chunks(a: NewAttachment, parts: Sequence[bytes | memoryview], correlation_id: str,
           recipient: str, sender: str | None = None) -> Iterator[AttachmentChunk]:
    """One message per chunk, built one at a time (a 20 MiB file is never held twice)."""
    for idx, part in enumerate(parts):
        yield AttachmentChunk(
            correlation_id=correlation_id, sender=sender or a.uploaded_by_bureau,
            recipient=recipient,
            body={"request_id": a.request_id, "attachment_id": a.id, "idx": idx,
                  "data": encode_chunk(part)},
        )
