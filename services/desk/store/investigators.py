"""Investigators and their bearer tokens (only a SHA-256 of each token is stored)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Investigator:
    id: uuid.UUID
    name: str
    bureau: str
    role: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def add(
    conn: asyncpg.Connection, name: str, bureau: str, role: str = "investigator",
    token: str | None = None,
) -> tuple[Investigator, str]:
    """Register an investigator; returns it with its token (shown once, never stored)."""
    token = token or secrets.token_urlsafe(24)
    inv = Investigator(uuid.uuid4(), name, bureau, role)
    await conn.execute(
        "INSERT INTO investigator (id, token_sha256, name, bureau, role)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (token_sha256) DO UPDATE SET name = $3, bureau = $4, role = $5",
        inv.id, _digest(token), name, bureau, role,
    )
    return inv, token


async def by_token(conn: asyncpg.Connection, token: str) -> Investigator | None:
    row = await conn.fetchrow(
        "SELECT id, name, bureau, role FROM investigator WHERE token_sha256 = $1", _digest(token)
    )
    return Investigator(row["id"], row["name"], row["bureau"], row["role"]) if row else None
