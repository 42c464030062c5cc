"""The hub's PostgreSQL store: the partner registry (the counters are in counters.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import asyncpg

from protocol.v1.registry import BureauRecord
from services.common import registry_rows


def _digest(bureaus: Sequence[BureauRecord]) -> bytes:
    data = [b.model_dump(mode="json") for b in sorted(bureaus, key=lambda b: b.code)]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()


async def replace_registry(
    conn: asyncpg.Connection, bureaus: Sequence[BureauRecord], now: dt.datetime
) -> int:
    """Install ``bureaus`` as the registry; the version moves on only if they changed."""
    await conn.execute("LOCK TABLE registry_state IN EXCLUSIVE MODE")
    digest = _digest(bureaus)
    row = await conn.fetchrow("SELECT version, digest FROM registry_state")
    if row is not None and row["digest"] == digest:
        return int(row["version"])
    version = (row["version"] if row else 0) + 1
    await registry_rows.write(conn, "bureau", bureaus)
    await conn.execute(
        "INSERT INTO registry_state (version, digest, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (singleton) DO UPDATE SET version = $1, digest = $2, updated_at = $3",
        version, digest, now,
    )
    return version


async def load_registry(conn: asyncpg.Connection) -> tuple[int, list[BureauRecord]]:
    version = await conn.fetchval("SELECT version FROM registry_state") or 0
    return int(version), await registry_rows.read(conn, "bureau")


async def partner_coverage(conn: asyncpg.Connection) -> tuple[int, int]:
    """(signed partner bureaus, provincial-level regions with at least one)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS partners, count(DISTINCT province) AS provinces"
        " FROM bureau WHERE status = 'signed'"
    )
    assert row is not None
    return int(row["partners"]), int(row["provinces"])
