"""Evidence files: type detection from content, names, digests, chunking, wire limits."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from pydantic import ValidationError

from protocol.errors import ErrorCode
from protocol.v1.files import (
    CHUNK_BYTES,
    MAX_FILE_BYTES,
    ChunkBody,
    OfferedBody,
    chunk_count,
    encode_chunk,
)
from protocol.v1.messages import AttachmentChunk
from services.desk.attachments import limits, office, sniff
from services.desk.domain.errors import Refused
from tests import evidence


@pytest.mark.parametrize(("data", "media_type"), [
    (evidence.pdf(), "application/pdf"),
    (evidence.png(), "image/png"),
    (evidence.jpeg(), "image/jpeg"),
    (evidence.tiff(), "image/tiff"),
    (evidence.docx(), sniff.DOCX),
    (evidence.xlsx(), sniff.XLSX),
    (evidence.odf("text"), sniff.ODT),
    (evidence.odf("spreadsheet"), sniff.ODS),
    (evidence.compound("WordDocument"), "application/msword"),
    (evidence.compound("Workbook"), "application/vnd.ms-excel"),
], ids=["pdf", "png", "jpeg", "tiff", "docx", "xlsx", "odt", "ods", "doc", "xls"])
def test_accepted_types_are_recognised_from_their_content(data: bytes, media_type: str) -> None:
    assert sniff.media_type_of(data) == media_type


@pytest.mark.parametrize("data", [
    evidence.ELF, evidence.EXE, evidence.TEXT, evidence.plain_zip(), evidence.docx(macros=True),
    evidence.odf("presentation"), evidence.compound("SummaryInformation"),
    b"GIF89a" + b"\0" * 32, b"<!DOCTYPE html><html></html>", b"PK\x03\x04broken zip",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 broken compound file",
], ids=["elf", "exe", "text", "zip", "docm", "odp", "msi-like", "gif", "html", "bad-zip",
        "bad-ole"])
def test_anything_else_is_not_recognised(data: bytes) -> None:
    assert sniff.media_type_of(data) is None


@pytest.mark.parametrize("name", ["勘验笔录.pdf", "REPORT.PDF", "扫描件2024.11.27.pdf"])
def test_a_pdf_named_as_a_pdf_is_accepted(name: str) -> None:
    assert limits.accepted_type(name, evidence.pdf()) == "application/pdf"


@pytest.mark.parametrize("name", ["证据.hta", "证据.wsf", "证据.chm", "证据.lnk", "证据.url",
                                  "scan", "扫描件2024.11.27", ".pdf", "证据.pdf.hta"])
def test_only_an_extension_of_the_detected_type_is_allowed(name: str) -> None:
    with pytest.raises(Refused) as refused:
        limits.accepted_type(name, evidence.pdf())
    assert refused.value.code is ErrorCode.UNSUPPORTED_MEDIA_TYPE
    assert ".pdf" in refused.value.message


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("宏.docx", evidence.docx(macros=True), office.VBA),
    ("宏表.xlsx", evidence.xlsx_xlm(), office.XLM),
    ("宏表.xls", evidence.xls_macro_sheet(), office.XLM),
    ("字段.docx", evidence.docx_dde(), office.DDE),
    ("字段.doc", evidence.doc_dde(), office.DDE),
    ("链接.xlsx", evidence.xlsx_dde_link(), office.DDE),
    ("公式.xlsx", evidence.xlsx_dde_formula(), office.DDE),
    ("模板.docx", evidence.docx_remote_template(), office.EXTERNAL),
    ("外部.xls", evidence.xls_external_book(), office.EXTERNAL),
], ids=["vba", "xlm-xlsx", "xlm-xls", "dde-field", "dde-doc", "dde-link", "dde-formula",
        "remote-template", "external-book"])
def test_active_office_content_is_refused_with_its_reason(
    name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        limits.accepted_type(name, data)
    assert refused.value.code is ErrorCode.UNSUPPORTED_MEDIA_TYPE
    assert reason in refused.value.message


def test_plain_office_files_and_hyperlinks_pass() -> None:
    assert limits.accepted_type("a.docx", evidence.docx_hyperlink()) == sniff.DOCX
    assert limits.accepted_type("a.xls", evidence.compound("Workbook",
                                                           evidence._biff())) == sniff.XLS


@pytest.mark.parametrize(("name", "data"), [
    ("合同.pdf", evidence.TEXT), ("invoice.pdf", evidence.ELF), ("photo.pdf", evidence.png()),
    ("scan.png", evidence.pdf()), ("report.exe", evidence.pdf()), ("sheet.xlsx", evidence.docx()),
])
def test_wrong_or_mismatched_content_is_unsupported_media_type(name: str, data: bytes) -> None:
    with pytest.raises(Refused) as refused:
        limits.accepted_type(name, data)
    assert refused.value.code is ErrorCode.UNSUPPORTED_MEDIA_TYPE


def test_size_limits() -> None:
    with pytest.raises(Refused) as empty:
        limits.accepted_type("a.pdf", b"")
    assert empty.value.code is ErrorCode.VALIDATION_FAILED
    with pytest.raises(Refused) as large:
        limits.accepted_type("a.pdf", evidence.pdf(MAX_FILE_BYTES + 1))
    assert large.value.code is ErrorCode.BODY_TOO_LARGE


@pytest.mark.parametrize(("header", "name"), [
    ("%E8%AF%81%E6%8D%AE%201.pdf", "证据 1.pdf"), ("plain.pdf", "plain.pdf"),
    ("  spaced.pdf ", "spaced.pdf"),
])
def test_file_names_may_be_percent_encoded_utf8(header: str, name: str) -> None:
    assert limits.file_name(header) == name


@pytest.mark.parametrize("header", [
    None, "", "../etc/passwd", "a\\b.pdf", "%2Fabs.pdf", "nul%00.pdf", "bad%FF.pdf", "..",
    "x" * 256, "line%0Abreak.pdf",
])
def test_bad_file_names_are_refused(header: str | None) -> None:
    with pytest.raises(Refused) as refused:
        limits.file_name(header)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED


def test_claimed_digest_is_64_hex_digits() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert limits.claimed_digest(None) is None
    assert limits.claimed_digest(digest.hex().upper()) == digest
    for bad in ("abc", "z" * 64, digest.hex() + "00"):
        with pytest.raises(Refused):
            limits.claimed_digest(bad)


@pytest.mark.parametrize("size", [1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1,
                                  5 * 1024 * 1024 + 7])
def test_pieces_cover_the_file_in_chunks_without_copies(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"\x01" * (size % 256)
    parts = limits.pieces(data)
    assert len(parts) == chunk_count(size)
    assert all(len(p) == CHUNK_BYTES for p in parts[:-1]) and 1 <= len(parts[-1]) <= CHUNK_BYTES
    assert b"".join(parts) == data and all(p.obj is data for p in parts)
    assert limits.intact(parts, hashlib.sha256(data).digest(), size)


def test_intact_notices_a_changed_byte_or_a_missing_chunk() -> None:
    data = evidence.pdf(3 * CHUNK_BYTES)
    digest = hashlib.sha256(data).digest()
    parts = [bytes(p) for p in limits.pieces(data)]
    assert not limits.intact(parts[:-1], digest, len(data))
    parts[1] = b"\0" + parts[1][1:]
    assert not limits.intact(parts, digest, len(data))


def test_a_full_chunk_message_stays_below_350_kb() -> None:
    msg = AttachmentChunk(correlation_id="c" * 64, sender="330110", recipient="510107", body={
        "request_id": uuid.uuid4(), "attachment_id": uuid.uuid4(), "idx": 79,
        "data": encode_chunk(b"\xff" * CHUNK_BYTES)})
    assert len(msg.model_dump_json().encode()) < 350_000


def test_chunk_bodies_hold_at_most_one_chunk_of_base64() -> None:
    ids = {"request_id": uuid.uuid4(), "attachment_id": uuid.uuid4(), "idx": 0}
    assert ChunkBody(**ids, data=encode_chunk(b"abc")).raw() == b"abc"
    for data in (encode_chunk(b"\0" * (CHUNK_BYTES + 1)), "not base64!", ""):
        with pytest.raises(ValidationError):
            ChunkBody(**ids, data=data)


def test_an_offer_must_announce_the_right_number_of_chunks() -> None:
    offer = {"request_id": uuid.uuid4(), "attachment_id": uuid.uuid4(), "name": "a.pdf",
             "media_type": "application/pdf", "size": CHUNK_BYTES + 1, "sha256": "0" * 64,
             "purpose": "request", "uploaded_by": "张三", "uploaded_at": "2026-11-27T08:00:00Z"}
    assert OfferedBody(**offer, chunks=2).chunks == 2
    for bad in ({"chunks": 1}, {"chunks": 2, "media_type": "application/x-msdownload"},
                {"chunks": 2, "name": "../a.pdf"}, {"chunks": 2, "size": MAX_FILE_BYTES + 1}):
        with pytest.raises(ValidationError):
            OfferedBody(**offer | bad)
