"""The access audit log: who did or saw what, on which request (and file), when.

The table only grows (migration 009: triggers refuse UPDATE, DELETE and TRUNCATE).
A read of many requests at once names them in ``detail``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from services.desk.store.investigators import Investigator


async def record(
    conn: asyncpg.Connection, who: Investigator, action: str, request_id: uuid.UUID | None,
    correlation_id: str, attachment_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One ``audit_log`` row, in the caller's transaction (no action without its record)."""
    await conn.execute(
        "INSERT INTO audit_log (investigator_id, bureau, action, request_id, attachment_id,"
        " correlation_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        who.id, who.bureau, action, request_id, attachment_id, correlation_id,
        json.dumps(detail, ensure_ascii=False) if detail is not None else None,
    )


def shown(ids: list[uuid.UUID], **about: Any) -> dict[str, Any]:
    """The ``detail`` of a read of many requests: which it showed, and how it asked."""
    return {**about, "count": len(ids), "ids": [str(i) for i in ids]}
