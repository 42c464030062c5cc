"""PostgreSQL: create the database if missing, apply migrations, open a pool."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

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
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_reset,
        # short indexed statements only: JIT compiling one whose estimate looks big (a
        # statistics slice over a year) took longer than running it (11 of 25 ms)
        server_settings={"jit": "off"},
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
        if not await conn.fetchval("SELECT to_regclass('schema_migration') IS NOT NULL"):
            # only the owner creates it; a service's role finds it made by set-up
            await conn.execute(
                "CREATE TABLE schema_migration"
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


SERVICE_ROLES = {"desk": "xiecha_desk", "hub": "xiecha_hub"}
"""The role each service logs in as: it reads and writes rows, never changes the schema."""
APPEND_ONLY = {
    "desk": {"audit_log": "UPDATE, DELETE, TRUNCATE",
             # the timeline is chained and signed: entries are added, and removed whole by
             # retention, never changed
             "request_event": "UPDATE, TRUNCATE"},
    "hub": {},
}
"""What each service's role is refused on its own tables, beyond owning none of them."""


async def grant_service_role(dsn: str, service: str, password: str = "") -> None:
    """As the database's owner: make ``service``'s login role (if missing), grant it the
    rows of every table but what ``APPEND_ONLY`` refuses; set its password if given."""
    role = _quote(SERVICE_ROLES[service])
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVICE_ROLES[service]}')
            THEN CREATE ROLE {role} LOGIN;
            ELSIF NOT (SELECT rolcanlogin FROM pg_roles
                       WHERE rolname = '{SERVICE_ROLES[service]}')
            THEN ALTER ROLE {role} LOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- another database's
        END $$""")
        grants = [
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            *(f"REVOKE {what} ON {_quote(table)} FROM {role}, PUBLIC"
              for table, what in APPEND_ONLY[service].items()),
        ]
        async with conn.transaction():
            for sql in grants:
                await conn.execute(sql)
        if password:
            await conn.execute(await conn.fetchval(
                "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                SERVICE_ROLES[service], password))
    finally:
        await conn.close()


def role_dsn(dsn: str, service: str, password: str = "") -> str:
    """``dsn`` (host, port, database) as ``service``'s login role."""
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    auth = SERVICE_ROLES[service] + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))
