"""Investigators and their bearer tokens (only a SHA-256 of each token is stored).

A token is valid until its ``expires_at`` unless revoked; rotating one replaces its
hash, so the old token stops working at once. Issuing a token never touches another
investigator: a token already held by someone else is refused (``TokenTaken``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

DEFAULT_VALIDITY = dt.timedelta(days=90)


@dataclass(frozen=True)
class Investigator:
    id: uuid.UUID
    name: str
    bureau: str
    role: str
    expires_at: dt.datetime | None = None


class TokenTaken(Exception):
    """The token is already issued to an investigator with another name, bureau or role."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def add(
    conn: asyncpg.Connection, name: str, bureau: str, role: str = "investigator",
    token: str | None = None, expires_at: dt.datetime | None = None,
) -> tuple[Investigator, str]:
    """Register an investigator; returns it with its token (shown once, never stored).

    The same token for the same name, bureau and role returns the existing holder with
    the new expiry (so a set-up script may run again; a revocation stays); for anyone else
    it raises ``TokenTaken``.
    """
    token = token or secrets.token_urlsafe(24)
    until = expires_at or _now() + DEFAULT_VALIDITY
    row = await conn.fetchrow(
        "INSERT INTO investigator (id, token_sha256, name, bureau, role, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_sha256) DO NOTHING"
        " RETURNING id", uuid.uuid4(), _digest(token), name, bureau, role, until,
    )
    if row is not None:
        return Investigator(row["id"], name, bureau, role, until), token
    held = await conn.fetchrow(
        "SELECT id, name, bureau, role, expires_at FROM investigator WHERE token_sha256 = $1",
        _digest(token),
    )
    if (held["name"], held["bureau"], held["role"]) != (name, bureau, role):
        raise TokenTaken("this token is already issued to another investigator")
    await conn.execute("UPDATE investigator SET expires_at = $2 WHERE id = $1", held["id"], until)
    return Investigator(held["id"], name, bureau, role, until), token


async def by_token(
    conn: asyncpg.Connection, token: str, now: dt.datetime | None = None
) -> Investigator | None:
    """The holder of a token that is neither expired nor revoked."""
    row = await conn.fetchrow(
        "SELECT id, name, bureau, role, expires_at FROM investigator"
        " WHERE token_sha256 = $1 AND revoked_at IS NULL AND expires_at > $2",
        _digest(token), now or _now(),
    )
    if row is None:
        return None
    return Investigator(row["id"], row["name"], row["bureau"], row["role"], row["expires_at"])


async def revoke(conn: asyncpg.Connection, investigator_id: uuid.UUID) -> bool:
    """Revoke the investigator's token; False if there is no such investigator."""
    done = await conn.execute(
        "UPDATE investigator SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
        investigator_id,
    )
    return bool(done.endswith(" 1"))


async def rotate(
    conn: asyncpg.Connection, investigator_id: uuid.UUID,
    expires_at: dt.datetime | None = None,
) -> str | None:
    """A new token for the investigator (the old one stops working); None if unknown."""
    token = secrets.token_urlsafe(24)
    done = await conn.execute(
        "UPDATE investigator SET token_sha256 = $2, expires_at = $3, revoked_at = NULL"
        " WHERE id = $1", investigator_id, _digest(token),
        expires_at or _now() + DEFAULT_VALIDITY,
    )
    return token if done.endswith(" 1") else None


async def listing(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every investigator with its token's state (never the token)."""
    return list(await conn.fetch(
        "SELECT id, name, bureau, role, expires_at, revoked_at FROM investigator"
        " ORDER BY bureau, name"
    ))
