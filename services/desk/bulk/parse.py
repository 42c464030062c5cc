"""Uploaded items and answers: validated models, and every bad row with its reason.

Pure: bytes in (CSV, XLSX or a JSON list), models and ``Rejected(row, reason)`` out.
A bad row never costs the good ones. Whole-body problems (unreadable file, a
required column missing) raise ``SheetError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from protocol.v1.bulk import MAX_ITEMS, AnyItem, Item, ItemAnswer, item_key
from services.desk.bulk.sheets import Row, SheetError, Table, read_table

T = TypeVar("T")
_ITEM: TypeAdapter[AnyItem] = TypeAdapter(Item)

FIELDS: Final = {
    "merchant": ("credit_code", "name", "shop_url", "platform"),
    "shop": ("shop_url", "platform", "name"),
    "complainant": ("name", "id_number"),
}
"""The cells each kind of item takes; other cells of a row are ignored."""
IDENTIFIED_BY: Final = (("id_number", "complainant"), ("credit_code", "merchant"),
                        ("shop_url", "shop"))
"""Without a ``kind`` cell, a row is of the kind of the first identifying cell it fills."""


@dataclass(frozen=True)
class Rejected:
    row: int
    reason: str


@dataclass
class Parsed(Generic[T]):
    good: list[tuple[int, T]] = field(default_factory=list)
    """(row number, model) in row order."""
    rejected: list[Rejected] = field(default_factory=list)


class RowError(Exception):
    pass


def parse_items(data: bytes, content_type: str) -> Parsed[AnyItem]:
    """Every row as a validated item, or as a rejection with its reason."""
    table = read_table(data, content_type)
    _require_item_columns(table)
    out: Parsed[AnyItem] = Parsed()
    for row in table.rows:
        try:
            out.good.append((row.number, item_of(row)))
        except RowError as exc:
            out.rejected.append(Rejected(row.number, str(exc)))
    return out


def _require_item_columns(table: Table) -> None:
    if not any(column in table.columns for column, _ in IDENTIFIED_BY):
        raise SheetError("missing column: items need credit_code, shop_url or id_number",
                         row=1 if table.from_sheet else None)
    if "id_number" in table.columns and "name" not in table.columns:
        raise SheetError("missing column name: complainants need name and id_number",
                         row=1 if table.from_sheet else None)


def item_of(row: Row) -> AnyItem:
    _readable(row)
    kind = _kind_of(row)
    cells = {f: row.cells[f] for f in FIELDS[kind] if row.cells.get(f)}
    try:
        return _ITEM.validate_python({"kind": kind, **cells})
    except ValidationError as exc:
        raise RowError(brief(exc)) from None


def _readable(row: Row) -> None:
    if row.problem:
        raise RowError(row.problem)
    if row.empty:
        raise RowError("empty row")


def _kind_of(row: Row) -> str:
    kind = row.cells.get("kind", "").lower()
    if kind:
        if kind not in FIELDS:
            raise RowError(f"kind must be one of {', '.join(FIELDS)}")
        return kind
    for column, implied in IDENTIFIED_BY:
        if row.cells.get(column):
            return implied
    raise RowError("no credit_code, shop_url or id_number in this row")


def brief(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False)[:3]:
        where = str(e["loc"][-1]) if e["loc"] else ""
        problem = e["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {problem}" if where else problem)
    return "; ".join(parts)


def admit(parsed: Parsed[AnyItem], known: Mapping[str, int], capacity: int) -> Parsed[AnyItem]:
    """Keep new, distinct items up to ``capacity``; ``known`` maps stored keys to numbers."""
    out: Parsed[AnyItem] = Parsed(rejected=list(parsed.rejected))
    seen: dict[str, int] = {}
    for row, item in parsed.good:
        key = item_key(item)
        if key in known:
            out.rejected.append(Rejected(row, f"duplicate of item {known[key]} of this request"))
        elif key in seen:
            out.rejected.append(Rejected(row, f"duplicate of row {seen[key]}"))
        elif len(out.good) >= capacity:
            out.rejected.append(Rejected(row, f"over the limit of {MAX_ITEMS} items a request"
                                              " may carry"))
        else:
            seen[key] = row
            out.good.append((row, item))
    out.rejected.sort(key=lambda r: r.row)
    return out


def parse_answers(data: bytes, content_type: str) -> Parsed[ItemAnswer]:
    """Answers from a JSON list or a filled-in sheet (rows without a result are skipped)."""
    table = read_table(data, content_type)
    for column in ("idx", "result"):
        if column not in table.columns and table.rows:
            raise SheetError(f"missing column {column}", row=1 if table.from_sheet else None)
    out: Parsed[ItemAnswer] = Parsed()
    for row in table.rows:
        if table.from_sheet and not row.problem and not row.cells.get("result"):
            continue  # not answered yet
        try:
            out.good.append((row.number, answer_of(row)))
        except RowError as exc:
            out.rejected.append(Rejected(row.number, str(exc)))
    return out


def answer_of(row: Row) -> ItemAnswer:
    _readable(row)
    cells = {f: row.cells[f] for f in ("idx", "result", "note") if row.cells.get(f)}
    if "result" in cells:
        cells["result"] = cells["result"].lower()
    try:
        return ItemAnswer.model_validate(cells)
    except ValidationError as exc:
        raise RowError(brief(exc)) from None


def answer_data(answer: ItemAnswer) -> dict[str, Any]:
    """What is stored (and compared) as an item's answer."""
    return answer.model_dump(mode="json", exclude={"idx"}, exclude_none=True)


@dataclass
class Sorted:
    new: list[ItemAnswer] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def sort_answers(parsed: Parsed[ItemAnswer], current: Mapping[int, Any]) -> Sorted:
    """Split answers into new ones, repeats of the stored answer, and refusals.

    ``current`` maps each item number of the request to its answer (None: pending).
    Answers are final: a different answer to an answered item is refused.
    """
    out = Sorted(rejected=list(parsed.rejected))
    seen: dict[int, int] = {}
    for row, answer in parsed.good:
        if answer.idx not in current:
            out.rejected.append(Rejected(row, f"this request has no item {answer.idx}"))
        elif answer.idx in seen:
            out.rejected.append(Rejected(row, f"item {answer.idx} is also answered in"
                                              f" row {seen[answer.idx]}"))
        elif current[answer.idx] is None:
            seen[answer.idx] = row
            out.new.append(answer)
        elif current[answer.idx] == answer_data(answer):
            seen[answer.idx] = row
            out.unchanged += 1
        else:
            out.rejected.append(Rejected(row, f"item {answer.idx} was already answered"
                                              f" ({current[answer.idx]['result']})"))
    out.rejected.sort(key=lambda r: r.row)
    return out
