"""The formal papers: A4, the CJK font embedded, the text where GB/T 9704 puts it."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from services.desk.pages.papers import Paper, render

LETTER = Paper(
    kind="协查函", issuer="杭州市余杭区市场监督管理局", number="330110协〔2026〕7号",
    addressee="成都市武侯区市场监督管理局",
    title="关于协助核查成都某某商贸有限公司商户登记情况的函",
    paragraphs=["因办案需要，请贵局协助核查下列主体的有关情况："],
    items=[f"问题{n}：该商户是否在贵局登记注册？" for n in range(1, 31)],
    closing=["请于2026年12月7日前函复。"], attachments=["营业执照.pdf", "网店截图.png"],
    date=dt.date(2026, 11, 30), contact="张三",
)


def test_an_a4_letter_with_embedded_cjk_font_and_page_numbers() -> None:
    reader = PdfReader(io.BytesIO(render(LETTER)))
    assert len(reader.pages) >= 2
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    cjk = [f for f in fonts if "Hei" in f["/BaseFont"] or "CJK" in f["/BaseFont"]]
    assert cjk and all("/FontFile2" in f["/FontDescriptor"] for f in cjk)  # embedded
    first = reader.pages[0].extract_text()
    for text in ("杭州市余杭区市场监督管理局", "330110协〔2026〕7号",
                 "成都市武侯区市场监督管理局：", "— 1 —"):
        assert text in first
    everything = "".join(p.extract_text() for p in reader.pages)
    assert "附件：1. 营业执照.pdf" in everything and "2. 网店截图.png" in everything
    last = reader.pages[-1].extract_text()
    assert "2026年11月30日" in last and f"— {len(reader.pages)} —" in last
