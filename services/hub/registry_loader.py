"""Loading the partner registry into the hub and announcing a new version to the desks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import asyncpg

from services.hub import store
from services.hub.desk_keys import DeskKeys, no_keys
from services.hub.outgoing import publish_registry
from services.hub.registry_source import build_registry, load_agreements_csv


async def load_registry(conn: asyncpg.Connection, agreements_csv: str = "",
                        desk_keys: DeskKeys = no_keys) -> int:
    """Install the registry built from the package data (and agreements); returns its version."""
    agreements = load_agreements_csv(Path(agreements_csv)) if agreements_csv else None
    bureaus = build_registry(agreements)
    async with conn.transaction():
        before = await conn.fetchval("SELECT version FROM registry_state") or 0
        version = await store.replace_registry(conn, bureaus, dt.datetime.now(dt.UTC))
        if version != before:
            await publish_registry(conn, f"registry-v{version}", desk_keys())
    return version
