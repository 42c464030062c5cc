"""PostgreSQL: create the database if missing, apply migrations, open a pool."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog

from services.common.paths import deploy_dir

log = structlog.get_logger()

UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError
    asyncpg.exceptions.OperatorInterventionError,  # AdminShutdown, CannotConnectNow, ...
    asyncpg.exceptions.InsufficientResourcesError,  # TooManyConnections
)
"""Errors that say the database is out of reach for now, not that the request is wrong."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset(conn: asyncpg.Connection) -> None:
    # asyncpg's default reset costs a round trip per release (UNLISTEN, RESET ALL, ...);
    # our code leaves no session state behind, so only an unfinished transaction matters.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def open_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_reset
    )
    assert pool is not None
    return pool


def _split_dsn(dsn: str) -> tuple[str, str]:
    """(dsn of the server's maintenance database, name of the target database)."""
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


async def ensure_database(dsn: str, template: str | None = None) -> bool:
    """Create the database named in ``dsn`` unless it exists; True when created."""
    admin_dsn, name = _split_dsn(dsn)
    conn = await asyncpg.connect(admin_dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        clause = f" TEMPLATE {_quote(template)}" if template else ""
        await conn.execute(f"CREATE DATABASE {_quote(name)}{clause}")
        return True
    finally:
        await conn.close()


async def drop_database(dsn: str) -> None:
    admin_dsn, name = _split_dsn(dsn)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await conn.close()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def migration_files(service: str) -> list[Path]:
    """The shared migrations, then the service's own, each set in name order."""
    root = deploy_dir() / "migrations"
    return sorted((root / "common").glob("*.sql")) + sorted((root / service).glob("*.sql"))


async def migrate(dsn: str, service: str) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns those applied."""
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock(4242)")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migration")}
        for path in migration_files(service):
            name = f"{path.parent.name}/{path.name}"
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_migration (name) VALUES ($1)", name)
            applied.append(name)
            log.info("migration applied", migration=name)
    finally:
        await conn.close()
    return applied
