"""Active content in office files, found by looking inside them; pure, no I/O.

``hazard`` names what makes a file unsafe to hand to an investigator, or None:
- VBA macros (a ``vbaProject.bin`` part, a ``Macros``/``_VBA_PROJECT_CUR`` storage,
  a macro-enabled content type, OpenDocument ``Basic/`` or ``Scripts/``);
- Excel 4.0 (XLM) macro sheets (``xl/macrosheets/`` parts, a BIFF ``BoundSheet`` of
  the macro type);
- DDE (a ``DDE``/``DDEAUTO`` field code in Word, a ``ddeLink`` or a ``app|topic!item``
  formula in Excel, an external ``SupBook`` in a 97-2003 workbook);
- external references and remote templates (relationships with ``TargetMode="External"``
  of the kinds Office follows on opening, ``xl/externalLinks/`` parts).
Hyperlinks stay allowed: they are followed only when someone clicks them.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from typing import Final

import olefile  # type: ignore[import-untyped]

_ZIP_MAGIC, _OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_READ_LIMIT: Final = 4 * 1024 * 1024
"""Read at most this much of a part (zip bombs stay unexploded)."""

VBA, XLM, DDE, EXTERNAL = (
    "it carries VBA macros", "it carries Excel 4.0 (XLM) macro sheets",
    "it carries DDE links", "it refers to external content (templates, links or objects)",
)
_FOLLOWED: Final = re.compile(
    rb'Type="[^"]*/(attachedTemplate|externalLink|externalLinkPath|oleObject|frame|'
    rb'subDocument|package)"[^>]*TargetMode="External"|TargetMode="External"[^>]*'
    rb'Type="[^"]*/(attachedTemplate|externalLink|externalLinkPath|oleObject|frame|'
    rb'subDocument|package)"'
)
_FIELD_CODE: Final = re.compile(rb'<w:instrText[^>]*>([^<]*)<|w:instr="([^"]*)"')
_DDE_FORMULA: Final = re.compile(rb"<f[^>]*>[^<]*\|[^<]*![^<]*</f>")


def hazard(data: bytes) -> str | None:
    """Why this office file is refused, or None (also for anything not an office file)."""
    if data.startswith(_ZIP_MAGIC):
        return _zip_hazard(data)
    if data.startswith(_OLE_MAGIC):
        return _ole_hazard(data)
    return None


def _zip_hazard(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _package_hazard(archive)
    except Exception:  # unreadable archives are refused by type detection instead
        return None


def _package_hazard(archive: zipfile.ZipFile) -> str | None:
    names = [n.lower() for n in archive.namelist()]
    if any(n.endswith("vbaproject.bin") or n.startswith(("basic/", "scripts/")) for n in names):
        return VBA
    if any(n.startswith(("xl/macrosheets/", "xl/intlmacrosheets/")) for n in names):
        return XLM
    types = _read(archive, "[Content_Types].xml") if "[content_types].xml" in names else b""
    if b"macroEnabled" in types or b"vbaProject" in types:
        return VBA
    if b"macrosheet" in types:
        return XLM
    fields = b""
    for real in archive.namelist():
        name = real.lower()
        if name.startswith("xl/externallinks/") and name.endswith(".xml"):
            return DDE if b"<ddeLink" in _read(archive, real) else EXTERNAL
        if name.endswith(".rels") and _FOLLOWED.search(_read(archive, real)):
            return EXTERNAL
        if name.startswith("word/") and name.endswith(".xml"):
            fields += b"".join(a or b for a, b in _FIELD_CODE.findall(_read(archive, real)))
        if name.startswith("xl/worksheets/") and _DDE_FORMULA.search(_read(archive, real)):
            return DDE
    # a field code may be split over many runs ("DD", "EAUTO"): look at them joined
    return DDE if b"DDE" in re.sub(rb"\s+", b"", fields).upper() else None


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:
        return member.read(_READ_LIMIT)


def _ole_hazard(data: bytes) -> str | None:
    try:
        ole = olefile.OleFileIO(data)
    except Exception:  # a malformed compound file is refused by type detection instead
        return None
    try:
        if ole.exists("Macros") or ole.exists("_VBA_PROJECT_CUR") or ole.exists("VBA"):
            return VBA
        if ole.exists("WordDocument"):
            text = ole.openstream("WordDocument").read(_READ_LIMIT)
            return DDE if _has_dde(text) else None
        for book in ("Workbook", "Book"):
            if ole.exists(book):
                return _biff_hazard(ole.openstream(book).read(_READ_LIMIT))
        return None
    finally:
        ole.close()


def _has_dde(text: bytes) -> bool:
    return any(mark in text for mark in (b"DDEAUTO", b"DDE ", "DDEAUTO".encode("utf-16-le"),
                                         "DDE ".encode("utf-16-le")))


_BOF, _BOUNDSHEET, _SUPBOOK, _FILEPASS = 0x0809, 0x0085, 0x01AE, 0x002F
_SELF_REFERENCE, _ADD_IN = 0x0401, 0x3A01


def _biff_hazard(stream: bytes) -> str | None:
    """Macro sheets and external workbooks (DDE, links) in an Excel 97-2003 workbook."""
    if stream[:2] != struct.pack("<H", _BOF):
        return None  # not BIFF8 records; Excel would not open it either
    at = 0
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4:at + 4 + size]
        if kind == _FILEPASS:
            return None  # the rest is encrypted; type detection decides
        if kind == _BOUNDSHEET and len(body) >= 6 and body[5] == 0x01:
            return XLM
        if kind == _SUPBOOK and len(body) >= 4:
            (cch,) = struct.unpack_from("<H", body, 2)
            if cch not in (_SELF_REFERENCE, _ADD_IN):
                return EXTERNAL
        at += 4 + size
    return None
