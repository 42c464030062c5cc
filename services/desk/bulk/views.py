"""What the bulk API returns: items as JSON, and as a sheet to fill in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import asyncpg

from protocol.v1.bulk import ItemResult
from services.desk.bulk import sheets
from services.desk.bulk.parse import Rejected

SHEET_COLUMNS: Final = ("idx", "kind", "name", "credit_code", "shop_url", "platform",
                        "id_number", "status", "result", "note")
"""The downloadable sheet: the items, then the answer columns (result, note) to fill in."""
MAX_LISTED: Final = 1000
"""Rejected rows listed in one response (``rejected_count`` tells how many there were)."""


def item_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "idx": row["idx"],
        "kind": row["kind"],
        "item": row["data"],
        "status": row["status"],
        "answer": row["answer"],
        "answered_at": row["answered_at"].isoformat() if row["answered_at"] else None,
        "answered_by": row["answered_by"],
    }


def rejected_view(rejected: Sequence[Rejected]) -> dict[str, Any]:
    return {
        "rejected": [{"row": r.row, "reason": r.reason} for r in rejected[:MAX_LISTED]],
        "rejected_count": len(rejected),
    }


def sheet_row(row: asyncpg.Record) -> list[str | int | None]:
    data, answer = row["data"], row["answer"] or {}
    return [row["idx"], row["kind"], *(data.get(c) for c in SHEET_COLUMNS[2:7]),
            row["status"], answer.get("result"), answer.get("note")]


def render(rows: Sequence[asyncpg.Record], fmt: str) -> bytes:
    """The items as an XLSX (with a drop-down of results) or a CSV sheet."""
    cells = [sheet_row(r) for r in rows]
    if fmt == "csv":
        return sheets.write_csv(SHEET_COLUMNS, cells)
    return sheets.write_xlsx(SHEET_COLUMNS, cells, {"result": [r.value for r in ItemResult]})
