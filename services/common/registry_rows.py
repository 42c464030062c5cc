"""The partner registry's rows: one row type, ``BureauRecord``, for the hub and every desk.

The hub's ``bureau`` table and a desk's ``partner`` table have the columns of the
record's fields, so neither spells them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import asyncpg

from protocol.v1.registry import BureauRecord

COLUMNS: Final = tuple(BureauRecord.model_fields)


async def write(conn: asyncpg.Connection, table: str, bureaus: Sequence[BureauRecord]) -> None:
    """Replace the contents of ``table`` with ``bureaus`` (in the caller's transaction)."""
    await conn.execute(f"DELETE FROM {table}")
    await conn.copy_records_to_table(
        table, records=[tuple(getattr(b, c) for c in COLUMNS) for b in bureaus],
        columns=COLUMNS,
    )


async def read(conn: asyncpg.Connection, table: str) -> list[BureauRecord]:
    rows = await conn.fetch(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY code")
    return [BureauRecord.model_validate(dict(r)) for r in rows]
