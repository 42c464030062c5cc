"""The desks' public keys as the hub's registry last listed them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from protocol.v1.registry import DeskKey


async def replace(conn: asyncpg.Connection, desks: Sequence[DeskKey], now: dt.datetime) -> None:
    """Install the hub's list of desks and keys in place of the one before."""
    await conn.execute("DELETE FROM desk_key")
    await conn.executemany(
        "INSERT INTO desk_key (region, provinces, public_key, received_at)"
        " VALUES ($1, $2, $3, $4)",
        [(d.region, list(d.provinces), bytes.fromhex(d.public_key), now) for d in desks])


async def serving(conn: asyncpg.Connection, bureau: str) -> tuple[str, bytes] | None:
    """(region, public key) of the desk that serves ``bureau``'s province."""
    row = await conn.fetchrow("SELECT region, public_key FROM desk_key WHERE $1 = ANY(provinces)",
                              bureau[:2])
    return (row["region"], row["public_key"]) if row else None


async def of_region(conn: asyncpg.Connection, region: str) -> bytes | None:
    key: bytes | None = await conn.fetchval(
        "SELECT public_key FROM desk_key WHERE region = $1", region)
    return key
