"""Downloads of a statistics table: CSV for Excel (UTF-8 with BOM) and XLSX.

A cell that starts with = + - @ (or a tab or carriage return) would be a formula to a
spreadsheet; such text is prefixed with an apostrophe. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([defuse(h) for h in header])
    writer.writerows([["" if v is None else defuse(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append([defuse(h) for h in header])
    for row in rows:
        ws.append([defuse(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
