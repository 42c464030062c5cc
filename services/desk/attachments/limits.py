"""Limits of evidence files and the checks that apply them; pure functions, no I/O.

A file is at most ``MAX_FILE_BYTES`` (20 MiB), one of the accepted types as
detected from its content (``sniff``), named with an extension of that type and without
directories, free of macros, DDE and external references (``office``); a request holds
at most ``MAX_PER_REQUEST`` files. Files are stored and sent in ``CHUNK_BYTES``
(256 KiB) chunks.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterable
from typing import Final

from pydantic import TypeAdapter, ValidationError

from protocol.errors import ErrorCode
from protocol.v1.files import CHUNK_BYTES, MAX_FILE_BYTES, FileName, MediaType
from services.desk.attachments import office, sniff
from services.desk.domain.errors import Refused

MAX_PER_REQUEST: Final = 50
"""Files one request may hold, its requester's and its recipient's together."""

_file_name: TypeAdapter[str] = TypeAdapter(FileName)


def file_name(header: str | None) -> str:
    """The file's name from ``X-Filename`` (UTF-8, percent-encoding allowed)."""
    if header is None:
        raise Refused(ErrorCode.VALIDATION_FAILED, "send the file's name in X-Filename")
    try:
        name = urllib.parse.unquote(header, errors="strict")
        return _file_name.validate_python(name)
    except UnicodeDecodeError:
        raise Refused(ErrorCode.VALIDATION_FAILED, "X-Filename is not UTF-8") from None
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]["msg"]
        raise Refused(ErrorCode.VALIDATION_FAILED, f"X-Filename: {problem}") from None


def claimed_digest(header: str | None) -> bytes | None:
    """The SHA-256 the client says it sent (``X-Content-SHA256``, hex), if any."""
    if header is None:
        return None
    value = header.strip().lower()
    if len(value) != 64:
        raise Refused(ErrorCode.VALIDATION_FAILED, "X-Content-SHA256 must be 64 hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Refused(ErrorCode.VALIDATION_FAILED,
                      "X-Content-SHA256 must be 64 hex digits") from None


def accepted_type(name: str, data: bytes) -> MediaType:
    """The file's media type from its content; Refused unless accepted and named alike."""
    if not data:
        raise Refused(ErrorCode.VALIDATION_FAILED, "the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise Refused(ErrorCode.BODY_TOO_LARGE, f"a file may have at most {MAX_FILE_BYTES} bytes")
    unsafe = office.hazard(data)
    if unsafe is not None:
        raise Refused(ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"office file refused: {unsafe}")
    media_type = sniff.media_type_of(data)
    if media_type is None:
        raise Refused(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                      "the content is not PDF, JPEG, PNG, TIFF, Word, Excel or OpenDocument"
                      " text/spreadsheet (office files with macros are refused)")
    if not sniff.name_agrees(name, media_type):
        allowed = ", ".join(f".{e}" for e in sniff.EXTENSIONS[media_type])
        raise Refused(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                      f"the content is {media_type}: name the file with {allowed}")
    return media_type


def pieces(data: bytes) -> list[memoryview]:
    """``data`` cut into chunks of ``CHUNK_BYTES`` (the last may be shorter), no copies."""
    view = memoryview(data)
    return [view[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [view]


def intact(parts: Iterable[bytes], sha256: bytes, size: int) -> bool:
    """True when ``parts`` joined are ``size`` bytes with digest ``sha256``."""
    digest, total = hashlib.sha256(), 0
    for part in parts:
        digest.update(part)
        total += len(part)
    return total == size and digest.digest() == sha256
