"""Evidence files through the API: upload at one party's desk, a verified copy at the
other's, type and size limits, checksums on the way in and out, visibility, audit."""

from __future__ import annotations

import hashlib
import urllib.parse
import uuid
from collections.abc import AsyncIterator

import pytest

from protocol.v1.files import CHUNK_BYTES, MAX_FILE_BYTES, chunk_count
from tests import evidence
from tests.attachments import (
    JINJIANG,
    TIANHE,
    WUHOU,
    YUHANG,
    Case,
    new_case,
    sql,
)
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

async def test_pdf_and_png_reach_the_recipient_byte_identical(system: System, case: Case) -> None:
    # Given a request from Yuhang (zj) delivered to Wuhou (sc)
    for data, name, media_type in ((evidence.pdf(), "询问笔录.pdf", "application/pdf"),
                                   (evidence.png(), "网店截图.png", "image/png")):
        digest = hashlib.sha256(data).hexdigest()
        # When the requester uploads the file at its desk (the name percent-encoded)
        status, up = await case.upload("zj", data, urllib.parse.quote(name),
                                       **{"X-Content-SHA256": digest})
        # Then it is stored with the type found in its content and its SHA-256
        assert status == 201, up
        assert (up["name"], up["media_type"], up["size"], up["sha256"], up["purpose"]) == (
            name, media_type, len(data), digest, "request")
        # And it arrives complete at the recipient's desk, where it downloads byte-identical
        there = await case.arrived("sc", up["id"])
        assert {k: there[k] for k in up} == up | {"status": "complete"}
        for side in ("sc", "zj"):
            status, headers, got = await case.download(side, up["id"])
            assert status == 200 and got == data, (side, status)
            assert headers["X-Content-SHA256"] == digest and headers["ETag"] == f'"{digest}"'
            assert headers["Content-Type"] == media_type
            assert headers["Content-Length"] == str(len(data))
            assert "filename*=UTF-8''" in headers["Content-Disposition"]


async def test_a_5_mib_file_crosses_in_several_chunks(system: System, case: Case) -> None:
    data = evidence.pdf(5 * 1024 * 1024)
    # When a 5 MiB file is uploaded (more than the desk's 256 KiB JSON body limit)
    status, up = await case.upload("zj", data, "账册扫描.pdf")
    assert status == 201, up
    # Then it crosses in 256 KiB chunks and is whole at the other desk
    await case.arrived("sc", up["id"])
    rows = await sql(system, "sc", "SELECT idx, length(data) AS n FROM attachment_chunk"
                     " WHERE attachment_id = $1 ORDER BY idx", uuid.UUID(up["id"]))
    assert [r["idx"] for r in rows] == list(range(chunk_count(len(data))))
    assert len(rows) == 20 and {r["n"] for r in rows[:-1]} == {CHUNK_BYTES}
    status, _, got = await case.download("sc", up["id"])
    assert status == 200 and got == data


async def stored(system: System, rid: str) -> int:
    rows = await sql(system, "zj", "SELECT count(*) AS n FROM attachment WHERE request_id = $1",
                     uuid.UUID(rid))
    return int(rows[0]["n"])


@pytest.mark.parametrize(("data", "name"), [
    (evidence.ELF, "发票.pdf"), (evidence.EXE, "invoice.pdf"), (evidence.TEXT, "合同.pdf"),
    (evidence.png(), "伪装.pdf"), (evidence.docx(macros=True), "宏.docx"),
    (evidence.pdf(), "证据.hta"), (evidence.pdf(), "证据.wsf"), (evidence.pdf(), "证据.chm"),
    (evidence.pdf(), "证据.lnk"), (evidence.pdf(), "证据.url"),
    (evidence.xls_macro_sheet(), "宏表.xls"), (evidence.docx_dde(), "字段.docx"),
    (evidence.docx_remote_template(), "模板.docx"),
], ids=["elf", "exe", "text", "png-named-pdf", "macros", "pdf-hta", "pdf-wsf", "pdf-chm",
        "pdf-lnk", "pdf-url", "xlm", "dde", "remote-template"])
async def test_other_content_is_refused_whatever_its_name(
    system: System, case: Case, data: bytes, name: str
) -> None:
    before = await stored(system, case.rid)
    # When a file whose content is not an accepted type (or not the named one) is uploaded,
    # even declared as a PDF
    status, err = await case.upload("zj", data, urllib.parse.quote(name),
                                    **{"Content-Type": "application/pdf"})
    # Then it is refused as an unsupported media type and nothing is stored
    assert status == 415 and err["error"]["code"] == "unsupported_media_type", err
    assert await stored(system, case.rid) == before


async def test_over_20_mib_is_too_large(system: System, case: Case) -> None:
    before = await stored(system, case.rid)
    big = evidence.pdf(MAX_FILE_BYTES + 1024 * 1024)

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for i in range(0, len(big), 1024 * 1024):
            yield big[i:i + 1024 * 1024]

    # When 21 MiB are sent, with a Content-Length and streamed without one
    for body in (big, streamed()):
        status, err = await case.upload("zj", body, "太大.pdf")  # type: ignore[arg-type]
        # Then the upload is refused as too large and nothing is stored
        assert status == 413 and err["error"]["code"] == "body_too_large", err
    assert await stored(system, case.rid) == before
    # And exactly the limit is fine
    status, up = await case.upload("zj", evidence.pdf(MAX_FILE_BYTES), "刚好.pdf")
    assert status == 201 and up["size"] == MAX_FILE_BYTES, up


async def test_a_wrong_claimed_checksum_stores_nothing(system: System, case: Case) -> None:
    before = await stored(system, case.rid)
    data = evidence.pdf()
    # When the client's X-Content-SHA256 does not match the body (damaged on the way)
    wrong = hashlib.sha256(data + b"x").hexdigest()
    status, err = await case.upload("zj", data, "a.pdf", **{"X-Content-SHA256": wrong})
    # Then the upload is refused and nothing is stored
    assert status == 422 and err["error"]["code"] == "checksum_mismatch", err
    assert await stored(system, case.rid) == before
    status, err = await case.upload("zj", data, "a.pdf", **{"X-Content-SHA256": "xyz"})
    assert status == 422 and err["error"]["code"] == "validation_failed", err


async def test_a_corrupt_stored_chunk_is_refused_not_served(system: System, case: Case) -> None:
    data = evidence.pdf(600 * 1024)
    status, up = await case.upload("zj", data, "鉴定意见.pdf")
    assert status == 201, up
    await case.arrived("sc", up["id"])
    # Given a chunk of the recipient's copy damaged in its database
    await sql(system, "sc", "UPDATE attachment_chunk SET data = set_byte(data, 100,"
              " get_byte(data, 100) # 1) WHERE attachment_id = $1 AND idx = 1",
              uuid.UUID(up["id"]))  # one bit flipped
    # When the recipient downloads it
    status, headers, got = await case.download("sc", up["id"])
    # Then it is refused with checksum_mismatch, and not one byte of the file is sent
    assert status == 409 and b"checksum_mismatch" in got and data[:64] not in got, got[:200]
    assert headers["Content-Type"].startswith("application/json")
    # And the refused attempt is audited
    rows = await sql(system, "sc", "SELECT action FROM audit_log WHERE attachment_id = $1",
                     uuid.UUID(up["id"]))
    assert "download_attachment_refused" in {r["action"] for r in rows}
    # While the requester's intact copy still downloads
    assert (await case.download("zj", up["id"]))[2] == data


@pytest.mark.parametrize(("region", "bureau"), [("sc", JINJIANG), ("zj", "330102"),
                                                ("gd", TIANHE)])
async def test_a_third_bureau_finds_nothing(system: System, case: Case, region: str,
                                            bureau: str) -> None:
    status, up = await case.upload("zj", evidence.pdf(), "证据.pdf")
    assert status == 201
    await case.arrived("sc", up["id"])
    desk = system.desks[region]
    eve = await desk.investigator(bureau)
    base = desk.url(f"/v1/requests/{case.rid}/attachments")
    # When a bureau that is no party lists, downloads or uploads
    for method, url, kw in (("GET", base, {}), ("GET", f"{base}/{up['id']}", {}),
                            ("POST", base, {"data": evidence.pdf(),
                                            "headers": {"X-Filename": "x.pdf"}})):
        status, err = await system.call(method, url, eve, **kw)
        # Then it is told there is no such request
        assert status == 404 and err["error"]["code"] == "not_found", (method, url, err)


async def test_reply_evidence_reaches_the_requester(system: System) -> None:
    case = await new_case(system)
    sc = system.desks["sc"]
    assert (await system.call("POST", sc.url(f"/v1/requests/{case.rid}/accept"), case.b))[0] == 200
    # When the recipient uploads evidence with its reply
    for data, name in ((evidence.docx(), "核查报告.docx"), (evidence.xlsx(), "登记信息.xlsx")):
        status, up = await case.upload("sc", data, urllib.parse.quote(name))
        assert status == 201 and up["purpose"] == "reply", up
        # Then the requester's desk gets it, as reply evidence of Wuhou
        home = await case.arrived("zj", up["id"])
        assert home["purpose"] == "reply" and home["uploaded_by"]["bureau"] == WUHOU
        assert (await case.download("zj", up["id"]))[2] == data


async def test_uploads_and_downloads_are_audited_and_closed_requests_take_no_files(
    system: System,
) -> None:
    case = await new_case(system)
    status, up = await case.upload("zj", evidence.jpeg(), "现场.jpg")
    assert status == 201, up
    await case.download("zj", up["id"])
    rows = await sql(system, "zj", "SELECT action, bureau FROM audit_log"
                     " WHERE attachment_id = $1 ORDER BY id", uuid.UUID(up["id"]))
    assert [(r["action"], r["bureau"]) for r in rows] == [
        ("upload_attachment", YUHANG), ("download_attachment", YUHANG)]
    # When the request is withdrawn, no more files may be added
    zj = system.desks["zj"]
    status, _ = await system.call("POST", zj.url(f"/v1/requests/{case.rid}/withdraw"), case.a)
    assert status in (200, 202)

    async def refused() -> bool:
        status, err = await case.upload("zj", evidence.pdf(), "迟到.pdf")
        return status == 409 and err["error"]["code"] == "illegal_transition"

    await eventually(refused, what="upload refused after withdrawal")
