"""What kind of file this is, decided from its bytes (never from its name or headers).

Plain formats (PDF, JPEG, PNG, TIFF) are recognised by their signature with
puremagic. Container formats need a look inside, because a signature alone says
only "ZIP" or "OLE2 compound file" (an .msi installer is OLE2, a .jar is ZIP):
Office Open XML and OpenDocument files are ZIP archives whose declared main part
or ``mimetype`` member names the format; Word 97-2003 and Excel 97-2003 files
are compound files holding a ``WordDocument`` or ``Workbook`` stream. Office
files carrying macros are refused.
"""

from __future__ import annotations

import io
import zipfile
from typing import Final, cast, get_args

import olefile  # type: ignore[import-untyped]
import puremagic

from protocol.v1.files import MediaType

PDF, JPEG, PNG, TIFF = "application/pdf", "image/jpeg", "image/png", "image/tiff"
DOC, XLS = "application/msword", "application/vnd.ms-excel"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

ACCEPTED: Final = frozenset(get_args(MediaType))
_PLAIN: Final = frozenset({PDF, JPEG, PNG, TIFF})
_ZIP_MAGIC, _OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_MAIN: Final = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_ODF: Final = {ODT.encode(): ODT, ODS.encode(): ODS}
_MACRO_PARTS: Final = ("vbaproject.bin", "basic/", "scripts/")
_MEMBER_LIMIT: Final = 1024 * 1024
"""Read at most this much of a member we look into (zip bombs stay unexploded)."""


def media_type_of(data: bytes) -> MediaType | None:
    """The accepted media type ``data`` is, or None for anything else."""
    if data.startswith(_ZIP_MAGIC):
        found = _zip_kind(data)
    elif data.startswith(_OLE_MAGIC):
        found = _ole_kind(data)
    else:
        found = _plain_kind(data)
    return cast(MediaType, found) if found in ACCEPTED else None


def _plain_kind(data: bytes) -> str | None:
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return None
    if not matches:
        return None
    best = matches[0].confidence
    kinds = {m.mime_type for m in matches if m.confidence == best} & _PLAIN
    return kinds.pop() if len(kinds) == 1 else None


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if any(part in n.lower() for n in names for part in _MACRO_PARTS):
                return None
            if names and names[0] == "mimetype":
                return _ODF.get(_member(archive, "mimetype").strip())
            if "[Content_Types].xml" in names:
                declared = _member(archive, "[Content_Types].xml")
                hits = [kind for kind, main in _OOXML_MAIN.items() if main in declared]
                return hits[0] if len(hits) == 1 else None
    except Exception:  # whatever breaks reading an untrusted archive: not one of ours
        return None
    return None


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:
        return member.read(_MEMBER_LIMIT)


def _ole_kind(data: bytes) -> str | None:
    try:
        ole = olefile.OleFileIO(data)
    except Exception:  # a malformed compound file is not one of ours
        return None
    try:
        if ole.exists("Macros") or ole.exists("_VBA_PROJECT_CUR"):
            return None
        if ole.exists("WordDocument"):
            return DOC
        if ole.exists("Workbook") or ole.exists("Book"):
            return XLS
        return None
    finally:
        ole.close()


EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    PDF: ("pdf",), JPEG: ("jpg", "jpeg", "jpe", "jfif"), PNG: ("png",), TIFF: ("tif", "tiff"),
    DOC: ("doc",), XLS: ("xls",), DOCX: ("docx",), XLSX: ("xlsx",), ODT: ("odt",),
    ODS: ("ods",),
}
"""File name extensions that go with each accepted type: the only ones allowed."""

def name_agrees(name: str, media_type: str) -> bool:
    """True when the name ends in an extension of the detected type (the allow-list): a
    PDF named ``证据.hta`` would be saved, and opened, as what its name says."""
    stem, dot, ext = name.rpartition(".")
    return bool(dot and stem) and ext.lower() in EXTENSIONS.get(media_type, ())
