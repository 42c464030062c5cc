"""The access audit log: who did or saw what, on which request (and file), when.

The table only grows (migration 010: triggers refuse UPDATE, DELETE and TRUNCATE; the
service's role has no such grant); an investigator's rows on one request are a hash chain
(``domain.chain``), so a row removed or altered by whoever bypassed that shows. A read of
many requests at once names them in ``detail``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from services.desk.domain import chain
from services.desk.store.investigators import Investigator


async def record(
    conn: asyncpg.Connection, who: Investigator, action: str, request_id: uuid.UUID | None,
    correlation_id: str, attachment_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One ``audit_log`` row, in the caller's transaction (no action without its record),
    chained to the investigator's previous row on the same request (one chain per
    investigator and request: concurrent calls on different requests do not wait)."""
    # the lock, the last row and the transaction's time in one round trip (migration 017)
    last = await conn.fetchrow("SELECT * FROM audit_chain_tail($1, $2)", who.id, request_id)
    position, algorithm, at = last["pos"] + 1, last["alg"], last["at"]
    entry = _fields(who.id, who.bureau, action, request_id, attachment_id, correlation_id, at,
                    detail)
    digest = chain.entry_hash(algorithm, last["last_hash"], entry)
    await conn.execute(
        "INSERT INTO audit_log (at, investigator_id, bureau, action, request_id, attachment_id,"
        " correlation_id, chain_pos, prev_hash, hash, hash_alg, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)",
        at, who.id, who.bureau, action, request_id, attachment_id, correlation_id, position,
        last["last_hash"], digest, algorithm,
        json.dumps(detail, ensure_ascii=False) if detail is not None else None,
    )


def _fields(who_id: object, bureau: str, action: str, request_id: uuid.UUID | None,
            attachment_id: uuid.UUID | None, correlation_id: str,
            at: dt.datetime, detail: dict[str, Any] | None) -> dict[str, Any]:
    return {"investigator_id": str(who_id), "bureau": bureau, "action": action,
            "request_id": str(request_id) if request_id else None,
            "attachment_id": str(attachment_id) if attachment_id else None,
            "correlation_id": correlation_id, "at": at.astimezone(dt.UTC).isoformat(),
            **({"detail": detail} if detail is not None else {})}


async def verify_chain(conn: asyncpg.Connection, investigator_id: uuid.UUID,
                       request_id: uuid.UUID | None) -> int | None:
    """Position of the first row of an investigator's chain on a request that does not
    chain, or None."""
    rows = await conn.fetch(
        "SELECT * FROM audit_log WHERE investigator_id = $1 AND request_id IS NOT DISTINCT"
        " FROM $2 AND chain_pos IS NOT NULL ORDER BY chain_pos", investigator_id, request_id)
    broken = chain.verify([chain.Stored(
        r["chain_pos"],
        _fields(r["investigator_id"], r["bureau"], r["action"], r["request_id"],
                r["attachment_id"], r["correlation_id"], r["at"],
                r["detail"] and json.loads(r["detail"])),
        r["prev_hash"], r["hash"], r["hash_alg"]) for r in rows])
    return broken.position if broken else None


def shown(ids: list[uuid.UUID], **about: Any) -> dict[str, Any]:
    """The ``detail`` of a read of many requests: which it showed, and how it asked."""
    return {**about, "count": len(ids), "ids": [str(i) for i in ids]}
