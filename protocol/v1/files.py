"""Evidence files on the wire: what a desk says about a file, and the file in chunks.

A file uploaded at one desk reaches the other party's desk as one offer (its
metadata: name, media type, size, SHA-256, number of chunks) and ``chunks`` chunk
messages, each carrying at most ``CHUNK_BYTES`` raw bytes as base64, so no message
grows past ~350 KB whatever the file's size. All of them are enqueued with the
upload; the receiving desk stores chunks in any order, each once, and verifies the
SHA-256 of the whole before it serves the file.

The envelopes (``attachment.offered``, ``attachment.chunk``) are in ``messages``.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
import uuid
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator

from protocol.v1.content import Frozen
from protocol.v1.types import BureauCode, ShortText

CHUNK_BYTES: Final = 256 * 1024
"""Raw bytes per chunk (the last one may be shorter)."""
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
"""The largest evidence file a desk takes or sends."""
MAX_CHUNKS: Final = -(-MAX_FILE_BYTES // CHUNK_BYTES)
MAX_CHUNK_BASE64: Final = 4 * -(-CHUNK_BYTES // 3)

MediaType = Literal[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
]
"""The kinds of evidence accepted: PDF, JPEG, PNG, TIFF, Word and Excel (old and new),
OpenDocument text and spreadsheet. Desks detect them from the content."""

Purpose = Literal["request", "reply"]
"""Evidence the requester sent with its request, or the recipient with its reply."""


def _plain_name(value: str) -> str:
    """A file name without directories, control characters or NUL; NFC-normalised."""
    value = unicodedata.normalize("NFC", value.strip())
    if not value or value in (".", ".."):
        raise ValueError("file name must not be empty")
    if any(c in "/\\" or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError("file name must not contain path separators or control characters")
    return value


FileName = Annotated[str, StringConstraints(min_length=1, max_length=255),
                     AfterValidator(_plain_name)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def chunk_count(size: int) -> int:
    """How many chunks a file of ``size`` bytes (at least 1) travels in."""
    return max(1, -(-size // CHUNK_BYTES))


def _decodable(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data must be standard base64") from None
    if not 1 <= len(raw) <= CHUNK_BYTES:
        raise ValueError(f"a chunk holds 1 to {CHUNK_BYTES} bytes")
    return value


ChunkData = Annotated[
    str, StringConstraints(min_length=4, max_length=MAX_CHUNK_BASE64),
    AfterValidator(_decodable), Field(json_schema_extra={"contentEncoding": "base64"}),
]


class OfferedBody(Frozen):
    """Uploading desk -> the other party's desk: a file is coming in ``chunks`` chunks."""

    request_id: uuid.UUID
    attachment_id: uuid.UUID
    name: FileName
    media_type: MediaType
    size: int = Field(ge=1, le=MAX_FILE_BYTES)
    sha256: Sha256Hex
    """Hex SHA-256 of the whole file; the receiver serves the file only if it matches."""
    chunks: int = Field(ge=1, le=MAX_CHUNKS)
    purpose: Purpose
    uploaded_by: ShortText
    """Display name of the investigator who uploaded it."""
    uploaded_at: AwareDatetime
    uploaded_by_bureau: BureauCode | None = None
    """The uploader's bureau when a former recipient forwards the file after a transfer;
    None when the uploader's own bureau sends it."""

    @model_validator(mode="after")
    def _chunks_fit_size(self) -> OfferedBody:
        if self.chunks != chunk_count(self.size):
            raise ValueError(f"{self.size} bytes travel in {chunk_count(self.size)} chunks")
        return self


class ChunkBody(Frozen):
    """One piece of a file: bytes ``idx * CHUNK_BYTES`` onwards, base64-encoded."""

    request_id: uuid.UUID
    attachment_id: uuid.UUID
    idx: int = Field(ge=0, lt=MAX_CHUNKS)
    data: ChunkData

    def raw(self) -> bytes:
        return base64.b64decode(self.data)


def encode_chunk(data: bytes | memoryview) -> str:
    return base64.b64encode(data).decode("ascii")
