"""Tables in and out: CSV, XLSX and JSON bodies as rows of text cells; sheets to fill in.

Pure: bytes in, bytes out. Row numbers are those a user sees in a spreadsheet
(the header is row 1); for a JSON list, the item's position counted from 1.

Sheets are read as a stream, row by row, under hard caps (``MAX_ROWS``, ``MAX_COLUMNS``,
``MAX_CELL_CHARS``): the first row over a cap stops the reading with a ``SheetError``,
and an XLSX whose declared dimension exceeds them (the ``A1:XFD1048576`` bomb) is
refused before any row is read. Missing cells are never padded out to a declared size.
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

from protocol.v1.bulk import MAX_ITEMS

CSV: Final = "text/csv"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON: Final = "application/json"
MAX_UNPACKED: Final = 128 * 1024 * 1024
"""An XLSX is a zip archive; refuse one that unpacks to more than this (zip bombs)."""

MAX_ROWS: Final = MAX_ITEMS + 101
"""The header, the most items a request holds, and up to 100 blank rows."""
MAX_COLUMNS: Final = 32
MAX_CELL_CHARS: Final = 2000

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
    names = [column_name(h) for h in _capped(next(rows, ()), 1)]
    if not any(names):
        raise SheetError("the first row must name the columns")
    named = [n for n in names if n]
    if len(named) != len(set(named)):
        raise SheetError("a column is named twice")
    table = Table(frozenset(named))
    for number, values in enumerate(rows, start=2):
        if number > MAX_ROWS:
            raise SheetError(f"a sheet may have at most {MAX_ROWS} rows", row=number)
        cells = {n: cell_text(v) for n, v in zip(names, _capped(values, number), strict=False)
                 if n}
        table.rows.append(Row(number, cells))
    while table.rows and table.rows[-1].empty:  # trailing blank rows are no rows
        table.rows.pop()
    return table


def _capped(values: Sequence[object], number: int) -> Sequence[object]:
    """The row without its trailing empty cells; SheetError over a column or cell cap."""
    end = len(values)
    while end and values[end - 1] in (None, ""):
        end -= 1
    if end > MAX_COLUMNS:
        raise SheetError(f"a row may have at most {MAX_COLUMNS} columns", row=number)
    if any(isinstance(v, str) and len(v) > MAX_CELL_CHARS for v in values[:end]):
        raise SheetError(f"a cell may hold at most {MAX_CELL_CHARS} characters", row=number)
    return values[:end]


def _csv_grid(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # Excel on Chinese Windows
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise SheetError(f"not a readable CSV file: {exc}", row=None) from None


_XLSX_ERRORS = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, IndexError,
                OSError, TypeError)


def _xlsx_grid(data: bytes) -> Iterator[tuple[Any, ...]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED:
                raise SheetError("the XLSX file unpacks to more than 128 MiB", row=None)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise SheetError(f"not a readable XLSX file: {exc}", row=None) from None
    try:
        sheet = book.worksheets[0]
        _check_dimension(sheet.max_row, sheet.max_column)
        sheet.reset_dimensions()  # rows as stored, never padded out to a declared size
        yield from sheet.iter_rows(values_only=True)
    except _XLSX_ERRORS as exc:
        raise SheetError(f"not a readable XLSX file: {exc}", row=None) from None
    finally:
        book.close()


def _check_dimension(rows: int | None, columns: int | None) -> None:
    """Refuse a sheet that declares more rows or columns than the caps, before reading it."""
    if (rows or 0) > MAX_ROWS or (columns or 0) > MAX_COLUMNS:
        raise SheetError(f"the sheet declares {rows} rows and {columns} columns; at most"
                         f" {MAX_ROWS} rows and {MAX_COLUMNS} columns are read", row=None)


def _json_table(data: bytes) -> Table:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise SheetError(f"body is not valid JSON: {exc}", row=None, malformed=True) from None
    except RecursionError:
        raise SheetError("body is nested too deeply", row=None, malformed=True) from None
    if not isinstance(value, list):
        raise SheetError("send a JSON list of objects", row=None)
    if len(value) > MAX_ROWS:
        raise SheetError(f"a list may have at most {MAX_ROWS} elements", row=None)
    rows = [_json_row(n, element) for n, element in enumerate(value, start=1)]
    columns = frozenset(c for r in rows for c in r.cells)
    return Table(columns, rows, from_sheet=False)


def _json_row(number: int, element: object) -> Row:
    if not isinstance(element, dict):
        return Row(number, {}, "each element must be an object")
    if len(element) > MAX_COLUMNS:
        return Row(number, {}, f"an element may have at most {MAX_COLUMNS} keys")
    cells: dict[str, str] = {}
    for key, value in element.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            return Row(number, {}, f"{key} must be text or a number")
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            return Row(number, {}, f"{key} may hold at most {MAX_CELL_CHARS} characters")
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
