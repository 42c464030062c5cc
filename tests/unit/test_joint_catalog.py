"""Every text the joint pages translate has its Chinese in the catalogs, so a page in zh
never falls back to English (the hub's joint figures included)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from services.desk.pages import joint_page

ROOT = Path(__file__).parents[2] / "services"
LITERAL = re.compile(r'_\("((?:[^"\\]|\\.)*)"\)')


def translated(*catalogs: Path) -> set[str]:
    out: set[str] = set()
    for po in catalogs:
        with po.open("rb") as f:
            out |= {str(m.id) for m in read_po(f) if m.id and m.string}
    return out


def used(templates: list[Path]) -> set[str]:
    return {t for p in templates for t in LITERAL.findall(p.read_text(encoding="utf-8"))}


@pytest.mark.parametrize(("service", "pattern"), [
    ("desk/pages", "*joint*.html"), ("hub", "_joint_figures.html")])
def test_each_joint_text_is_translated(service: str, pattern: str) -> None:
    base = ROOT / service
    texts = used(sorted((base / "templates").glob(pattern)))
    if service == "desk/pages":
        texts |= {v for labels in joint_page.LABELS.values() for v in labels.values()}
        texts |= set(joint_page.NOTICES.values())
    catalogs = [base / "locale/zh_CN/LC_MESSAGES/messages.po",
                *ROOT.glob("common/locale/zh_CN/LC_MESSAGES/messages.po")]
    assert texts and texts - translated(*catalogs) == set()
