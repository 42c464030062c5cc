"""Sessions in plain SQL: open, resolve (unexpired only), close."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from services.desk.store.investigators import Investigator


@dataclass(frozen=True)
class Session:
    who: Investigator
    csrf: str


def _digest(sid: str) -> bytes:
    return hashlib.sha256(sid.encode()).digest()


async def open_session(
    conn: asyncpg.Connection, investigator_id: uuid.UUID, expires_at: dt.datetime
) -> str:
    """A new session for the investigator; returns its id (the cookie's value)."""
    sid = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO web_session (id_sha256, investigator_id, csrf, expires_at)"
        " VALUES ($1, $2, $3, $4)",
        _digest(sid), investigator_id, secrets.token_urlsafe(24), expires_at,
    )
    return sid


async def resolve(conn: asyncpg.Connection, sid: str, now: dt.datetime) -> Session | None:
    row = await conn.fetchrow(
        "SELECT i.id, i.name, i.bureau, i.role, i.expires_at, s.csrf FROM web_session s"
        " JOIN investigator i ON i.id = s.investigator_id"
        " WHERE s.id_sha256 = $1 AND s.expires_at > $2"
        " AND i.revoked_at IS NULL AND i.expires_at > $2",  # a revoked token ends its sessions
        _digest(sid), now,
    )
    if row is None:
        return None
    who = Investigator(row["id"], row["name"], row["bureau"], row["role"], row["expires_at"])
    return Session(who, row["csrf"])


async def close(conn: asyncpg.Connection, sid: str, now: dt.datetime) -> None:
    """End the session, and sweep expired ones while here."""
    await conn.execute("DELETE FROM web_session WHERE id_sha256 = $1 OR expires_at <= $2",
                       _digest(sid), now)
