"""What the bulk API returns: items as JSON, and as a sheet to fill in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from protocol.v1.bulk import ItemResult
from services.desk.bulk import sheets
from services.desk.bulk.parse import Rejected
from services.desk.domain.privacy import HIDDEN

SHEET_COLUMNS: Final = ("idx", "kind", "name", "credit_code", "shop_url", "platform",
                        "id_number", "status", "result", "note")
"""The downloadable sheet: the items, then the answer columns (result, note) to fill in."""
MAX_LISTED: Final = 1000
"""Rejected rows listed in one response (``rejected_count`` tells how many there were)."""


def item_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "idx": row["idx"],
        "kind": row["kind"],
        "item": row["data"],
        "status": row["status"],
        "answer": row["answer"],
        "answered_at": row["answered_at"].isoformat() if row["answered_at"] else None,
        "answered_by": row["answered_by"],
    }


def without_personal_data(row: Mapping[str, Any]) -> dict[str, Any]:
    """An item row with the complainant's name and ID number and the answer's note hidden."""
    data = dict(row["data"])
    if row["kind"] == "complainant":
        data |= {k: HIDDEN for k in ("name", "id_number") if k in data}
    answer = {**row["answer"], "note": HIDDEN} if row["answer"] and row["answer"].get(
        "note") else row["answer"]
    return {**row, "data": data, "answer": answer}


def rejected_view(rejected: Sequence[Rejected]) -> dict[str, Any]:
    return {
        "rejected": [{"row": r.row, "reason": r.reason} for r in rejected[:MAX_LISTED]],
        "rejected_count": len(rejected),
    }


def sheet_row(row: Mapping[str, Any]) -> list[str | int | None]:
    data, answer = row["data"], row["answer"] or {}
    return [row["idx"], row["kind"], *(data.get(c) for c in SHEET_COLUMNS[2:7]),
            row["status"], answer.get("result"), answer.get("note")]


def render(rows: Sequence[Mapping[str, Any]], fmt: str) -> bytes:
    """The items as an XLSX (with a drop-down of results) or a CSV sheet."""
    cells = [sheet_row(r) for r in rows]
    if fmt == "csv":
        return sheets.write_csv(SHEET_COLUMNS, cells)
    return sheets.write_xlsx(SHEET_COLUMNS, cells, {"result": [r.value for r in ItemResult]})
