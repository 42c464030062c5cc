"""Tables in and out: CSV, XLSX and JSON bodies as rows of text cells; sheets to fill in.

Pure: bytes in, bytes out. Row numbers are those a user sees in a spreadsheet
(the header is row 1); for a JSON list, the item's position counted from 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

CSV: Final = "text/csv"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON: Final = "application/json"
MAX_UNPACKED: Final = 128 * 1024 * 1024
"""An XLSX is a zip archive; refuse one that unpacks to more than this (zip bombs)."""

ALIASES: Final = {
    "序号": "idx", "编号": "idx", "类型": "kind", "名称": "name", "姓名": "name",
    "商户名称": "name", "统一社会信用代码": "credit_code", "信用代码": "credit_code",
    "店铺网址": "shop_url", "网店地址": "shop_url", "平台": "platform",
    "身份证号": "id_number", "身份证号码": "id_number", "状态": "status",
    "核查结果": "result", "结果": "result", "备注": "note",
}


class SheetError(Exception):
    """The body as a whole cannot be read (not a row's problem)."""

    def __init__(self, reason: str, *, row: int | None = 1, malformed: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.row, self.malformed = reason, row, malformed


@dataclass(frozen=True)
class Row:
    number: int
    cells: Mapping[str, str]
    problem: str | None = None
    """Set when the row cannot even be read as cells (a JSON element that is no object)."""

    @property
    def empty(self) -> bool:
        return self.problem is None and not any(self.cells.values())


@dataclass(frozen=True)
class Table:
    columns: frozenset[str]
    rows: list[Row] = field(default_factory=list)
    from_sheet: bool = True
    """False for a JSON list, where every element is meant as a row."""


def column_name(raw: object) -> str:
    name = cell_text(raw).lower().replace(" ", "_")
    return ALIASES.get(name, name)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def read_table(data: bytes, content_type: str) -> Table:
    if content_type == CSV:
        return _from_grid(_csv_grid(data))
    if content_type == XLSX:
        return _from_grid(_xlsx_grid(data))
    if content_type == JSON:
        return _json_table(data)
    raise SheetError(f"send {CSV}, {XLSX} or {JSON}", row=None)


def _from_grid(grid: Iterable[Sequence[object]]) -> Table:
    rows = iter(grid)
    names = [column_name(h) for h in next(rows, ())]
    if not any(names):
        raise SheetError("the first row must name the columns")
    named = [n for n in names if n]
    if len(named) != len(set(named)):
        raise SheetError("a column is named twice")
    table = Table(frozenset(named))
    for number, values in enumerate(rows, start=2):
        cells = {n: cell_text(v) for n, v in zip(names, values, strict=False) if n}
        table.rows.append(Row(number, cells))
    while table.rows and table.rows[-1].empty:  # trailing blank rows are no rows
        table.rows.pop()
    return table


def _csv_grid(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # Excel on Chinese Windows
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SheetError(f"not a readable CSV file: {exc}", row=None) from None


def _xlsx_grid(data: bytes) -> Iterator[tuple[Any, ...]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED:
                raise SheetError("the XLSX file unpacks to more than 128 MiB", row=None)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            grid = list(sheet.iter_rows(values_only=True))
        finally:
            book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, IndexError,
            OSError, TypeError) as exc:
        raise SheetError(f"not a readable XLSX file: {exc}", row=None) from None
    return iter(grid)


def _json_table(data: bytes) -> Table:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise SheetError(f"body is not valid JSON: {exc}", row=None, malformed=True) from None
    except RecursionError:
        raise SheetError("body is nested too deeply", row=None, malformed=True) from None
    if not isinstance(value, list):
        raise SheetError("send a JSON list of objects", row=None)
    rows = [_json_row(n, element) for n, element in enumerate(value, start=1)]
    columns = frozenset(c for r in rows for c in r.cells)
    return Table(columns, rows, from_sheet=False)


def _json_row(number: int, element: object) -> Row:
    if not isinstance(element, dict):
        return Row(number, {}, "each element must be an object")
    cells: dict[str, str] = {}
    for key, value in element.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            return Row(number, {}, f"{key} must be text or a number")
        cells[column_name(key)] = cell_text(value)
    return Row(number, cells)


Cell = str | int | None


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with BOM (Excel reads it right); cells that would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_defused(c) for c in row])
    return out.getvalue().encode("utf-8-sig")


def _defused(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Cell]],
               choices: Mapping[str, Sequence[str]]) -> bytes:
    """One sheet; ``choices`` puts a drop-down list on the named columns."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("items")
    sheet.freeze_panes = "A2"
    for column, values in choices.items():
        letter = get_column_letter(list(header).index(column) + 1)
        rule = DataValidation(type="list", formula1=f'"{",".join(values)}"', allow_blank=True)
        rule.add(f"{letter}2:{letter}1048576")
        sheet.data_validations.append(rule)
    sheet.append(list(header))
    for row in rows:
        sheet.append([_as_text(sheet, c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_text(sheet: Any, cell: Cell) -> Any:
    """Strings are written as strings: openpyxl would take '=...' for a formula."""
    if isinstance(cell, str) and cell.startswith("="):
        written = WriteOnlyCell(sheet, cell)
        written.data_type = "s"
        return written
    return cell
