"""The hash chain of a request's timeline (pure): each entry's hash covers the one before.

An entry's hash is H(previous hash || canonical JSON of its fields), H being SM3
(GB/T 32905, through OpenSSL) by default or SHA-256 by setting; the algorithm is kept
with each entry, so a chain verifies whatever the setting is today. Altering, removing
or reordering a stored entry breaks the chain from that entry on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Algorithm = Literal["sm3", "sha256"]
ALGORITHMS: tuple[Algorithm, ...] = ("sm3", "sha256")


def fields(*, event_id: uuid.UUID, request_id: uuid.UUID, seq: int | None, type: str,
           bureau: str, actor: str, at: dt.datetime, data: Any) -> dict[str, Any]:
    """What an entry's hash covers, in a form that reads back equal from the database."""
    return {"event_id": str(event_id), "request_id": str(request_id), "seq": seq,
            "type": type, "bureau": bureau, "actor": actor,
            "at": at.astimezone(dt.UTC).isoformat(), "data": data}


def entry_hash(algorithm: str, previous: bytes | None, entry: Mapping[str, Any]) -> bytes:
    canonical = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.new(algorithm, (previous or b"") + canonical.encode()).digest()


@dataclass(frozen=True)
class Stored:
    """An entry as stored: its fields, its position, the hashes kept with it."""

    position: int
    entry: Mapping[str, Any]
    previous: bytes | None
    hash: bytes
    algorithm: str


@dataclass(frozen=True)
class Broken:
    position: int
    event_id: str
    type: str
    why: str


def verify(entries: Sequence[Stored]) -> Broken | None:
    """The first entry that does not chain (altered, removed or reordered), or None."""
    previous: bytes | None = None
    for expected, e in enumerate(entries, start=1):
        why = None
        if e.position != expected:
            why = f"position {e.position} where {expected} was expected (an entry is missing)"
        elif e.previous != previous:
            why = "its link does not match the entry before (an entry was removed or replaced)"
        elif e.algorithm not in ALGORITHMS:
            why = f"unknown hash algorithm {e.algorithm!r}"
        elif entry_hash(e.algorithm, previous, e.entry) != e.hash:
            why = "its content does not match its hash (the entry was altered)"
        if why:
            return Broken(e.position, str(e.entry.get("event_id")), str(e.entry.get("type")), why)
        previous = e.hash
    return None
