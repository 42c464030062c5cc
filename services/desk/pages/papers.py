"""The formal papers of a case file as A4 PDF: the assistance letter (协查函) and the reply
letter (协查回复函), laid out after GB/T 9704-2012's letter format.

Pure: a ``Paper`` in, PDF bytes out. A4 with the standard's margins (top 37 mm, left
28 mm, text block 156 x 225 mm), the issuing bureau as a red marker over a red double
rule, the document number under it, a 22 pt title, 16 pt body with a two-character
indent, the attachments list, the issuing bureau and date right-aligned, page numbers
"— n —" outside. The CJK font is embedded (subset): Noto Serif CJK when installed (close
to the standard's Song/FangSong faces), else WenQuanYi Micro Hei, which the set-up installs.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer

FONTS = (  # (path, index in the collection), first found wins
    (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), 2),  # SC
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
)
FONT = "xiecha-cjk"
RED = colors.Color(0.85, 0, 0)
LINE = 28.9  # points: 22 lines in the 225 mm text block


@dataclass(frozen=True)
class Paper:
    kind: str  # 协查函 or 协查回复函
    issuer: str
    number: str
    addressee: str
    title: str
    paragraphs: list[str]
    items: list[str] = field(default_factory=list)
    """Numbered lines after the paragraphs (questions, or answers)."""
    closing: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    date: dt.date = dt.date(2026, 1, 1)
    contact: str = ""


def font_file() -> tuple[Path, int]:
    for path, index in FONTS:
        if path.is_file():
            return path, index
    raise FileNotFoundError("no CJK font: install fonts-wqy-microhei (or fonts-noto-cjk)")


def _register() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        path, index = font_file()
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=index))


def _style(size: float, align: int = TA_JUSTIFY, indent: float = 0, color: colors.Color =
           colors.black, leading: float = LINE) -> ParagraphStyle:
    return ParagraphStyle(f"s{size}", fontName=FONT, fontSize=size, leading=leading,
                          alignment=align, firstLineIndent=indent, textColor=color,
                          wordWrap="CJK")


def _paragraphs(paper: Paper) -> list[Flowable]:
    body, indent = _style(16), _style(16, indent=32)
    story: list[Flowable] = [
        Paragraph(escape(paper.issuer), _style(26, TA_CENTER, color=RED, leading=34)),
        Spacer(1, 4 * mm),
        HRFlowable(width="100%", thickness=2, color=RED, spaceAfter=1),
        HRFlowable(width="100%", thickness=0.75, color=RED, spaceAfter=3 * mm),
        Paragraph(escape(paper.number), _style(16, TA_RIGHT)),
        Spacer(1, 6 * mm),
        Paragraph(escape(paper.title), _style(22, TA_CENTER, leading=34)),
        Spacer(1, 4 * mm),
        Paragraph(escape(paper.addressee) + "：", body),
    ]
    story += [Paragraph(escape(p), indent) for p in paper.paragraphs]
    story += [Paragraph(f"{n}. {escape(t)}", indent) for n, t in enumerate(paper.items, 1)]
    story += [Paragraph(escape(p), indent) for p in paper.closing]
    if paper.attachments:
        story.append(Spacer(1, LINE))
        story += [Paragraph(("附件：" if n == 1 else "　　　") + f"{n}. {escape(a)}",
                            _style(16, indent=32)) for n, a in enumerate(paper.attachments, 1)]
    day = f"{paper.date.year}年{paper.date.month}月{paper.date.day}日"
    story += [Spacer(1, 2 * LINE), Paragraph(escape(paper.issuer), _style(16, TA_RIGHT)),
              Paragraph(day, _style(16, TA_RIGHT))]
    if paper.contact:
        story += [Spacer(1, LINE), Paragraph(f"（联系人：{escape(paper.contact)}）", indent)]
    return story


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    """"— n —" in 14 pt, 7 mm under the text block: odd pages right, even pages left."""
    n = canvas.getPageNumber()
    canvas.setFont(FONT, 14)
    y = 35 * mm - 7 * mm - 14
    text = f"— {n} —"
    if n % 2:
        canvas.drawRightString(A4[0] - 26 * mm - 14, y, text)
    else:
        canvas.drawString(28 * mm + 14, y, text)


def render(paper: Paper) -> bytes:
    """The paper as an A4 PDF with the CJK font embedded."""
    _register()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm,
                            topMargin=37 * mm, bottomMargin=35 * mm, title=paper.title,
                            author=paper.issuer, subject=paper.kind, creator="xiecha")
    doc.build(_paragraphs(paper), onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()
