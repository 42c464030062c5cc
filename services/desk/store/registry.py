"""The desk's copy of the partner registry, replaced whole by each newer hub version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from protocol.v1.registry import BureauRecord
from services.common import registry_rows


async def version(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM registry_state"))


async def load(conn: asyncpg.Connection) -> tuple[int, dict[str, BureauRecord]]:
    bureaus = {b.code: b for b in await registry_rows.read(conn, "partner")}
    return await version(conn), bureaus


async def replace(
    conn: asyncpg.Connection, new_version: int, bureaus: Sequence[BureauRecord], now: dt.datetime
) -> bool:
    """Install ``new_version`` unless this desk already has it or a newer one."""
    await conn.execute("LOCK TABLE registry_state IN EXCLUSIVE MODE")
    if new_version <= await version(conn):
        return False
    await registry_rows.write(conn, "partner", bureaus)
    await conn.execute(
        "INSERT INTO registry_state (version, received_at) VALUES ($1, $2)"
        " ON CONFLICT (singleton) DO UPDATE SET version = $1, received_at = $2",
        new_version, now,
    )
    return True
