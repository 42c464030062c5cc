"""SQL of the timeline's hash chain: linking a new entry, reading a chain back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.desk.domain import chain


async def link(conn: asyncpg.Connection, request_id: uuid.UUID,
               entry: dict[str, Any]) -> tuple[int, bytes | None, bytes, str]:
    """Position, previous hash, hash and algorithm of ``entry``, appended to its request's
    chain. Entries of one request are linked one at a time (a transaction-scoped lock)."""
    # the lock and the read of the last entry in one round trip (migration 017)
    tail = await conn.fetchrow("SELECT * FROM timeline_chain_tail($1)", request_id)
    position, previous, algorithm = tail["pos"] + 1, tail["last_hash"], tail["alg"]
    return position, previous, chain.entry_hash(algorithm, previous, entry), algorithm


async def stored(conn: asyncpg.Connection, request_id: uuid.UUID) -> list[chain.Stored]:
    """A request's chained entries in chain order."""
    return [entry for entry, _ in await sealed(conn, request_id)]


@dataclass(frozen=True)
class StoredSeal:
    by: str | None
    statement: bytes | None
    signature: bytes | None


async def sealed(conn: asyncpg.Connection,
                 request_id: uuid.UUID) -> list[tuple[chain.Stored, StoredSeal]]:
    """A request's chained entries in chain order, each with its seal (None: unsigned)."""
    rows = await conn.fetch(
        "SELECT event_id, request_id, seq, type, bureau, actor, occurred_at, data, chain_pos,"
        " prev_hash, hash, hash_alg, signed_by, signed, signature FROM request_event"
        " WHERE request_id = $1 AND chain_pos IS NOT NULL ORDER BY chain_pos", request_id)
    return [(chain.Stored(
        r["chain_pos"],
        chain.fields(event_id=r["event_id"], request_id=r["request_id"], seq=r["seq"],
                     type=r["type"], bureau=r["bureau"], actor=r["actor"],
                     at=r["occurred_at"], data=r["data"]),
        r["prev_hash"], r["hash"], r["hash_alg"]),
        StoredSeal(r["signed_by"], r["signed"].encode() if r["signed"] else None,
                   r["signature"])) for r in rows]


async def public_keys(conn: asyncpg.Connection) -> dict[str, bytes]:
    """Each desk's public key by region, as the hub's registry last listed them."""
    return {r["region"]: r["public_key"]
            for r in await conn.fetch("SELECT region, public_key FROM desk_key")}


async def set_algorithm(conn: asyncpg.Connection, algorithm: str) -> None:
    """The algorithm new chains start with; existing chains keep theirs."""
    await conn.execute("UPDATE timeline_chain_config SET algorithm = $1", algorithm)
