"""The hash chain of a request's timeline (pure): each entry's hash covers the one before.

An entry's hash is H(previous hash || canonical JSON of its fields), H being SM3
(GB/T 32905, through OpenSSL) by default or SHA-256 by setting; the algorithm is kept
with each entry, so a chain verifies whatever the setting is today. Altering, removing
or reordering a stored entry breaks the chain from that entry on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from protocol.v1.chain import ChainEntry, canonical

Algorithm = Literal["sm3", "sha256"]
ALGORITHMS: tuple[Algorithm, ...] = ("sm3", "sha256")


def fields(*, event_id: uuid.UUID, request_id: uuid.UUID, seq: int | None, type: str,
           bureau: str, actor: str, at: dt.datetime, data: Any) -> dict[str, Any]:
    """What an entry's hash covers, in a form that reads back equal from the database."""
    return {"event_id": str(event_id), "request_id": str(request_id), "seq": seq,
            "type": type, "bureau": bureau, "actor": actor,
            "at": at.astimezone(dt.UTC).isoformat(), "data": data}


def entry_hash(algorithm: str, previous: bytes | None, entry: Mapping[str, Any]) -> bytes:
    return hashlib.new(algorithm, (previous or b"") + canonical(entry)).digest()


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


def digest(entry: Mapping[str, Any]) -> str:
    """SM3 of an entry's canonical fields, without its link: equal on both desks for an
    entry both hold, whatever each desk's chain holds around it."""
    return hashlib.new("sm3", canonical(entry)).hexdigest()


def summary(entries: Sequence[Stored]) -> list[ChainEntry]:
    """A chain as it travels to the other desk for comparison."""
    return [ChainEntry(event_id=e.entry["event_id"], seq=e.entry["seq"], type=e.entry["type"],
                       digest=digest(e.entry)) for e in entries]


def first_difference(ours: Sequence[ChainEntry], theirs: Sequence[ChainEntry]) -> str | None:
    """The first entry in which two desks' chains of one request differ, or None. A decided
    (numbered) entry must be on both; a step only one desk records (sent, a note) need not."""
    their = {e.event_id: e for e in theirs}
    for position, e in enumerate(ours, start=1):
        other = their.get(e.event_id)
        if other is None and e.seq is not None:
            return f"entry {position} ({e.type} #{e.seq}, event {e.event_id}) is missing there"
        if other is not None and other.digest != e.digest:
            return (f"entry {position} ({e.type}, event {e.event_id}) differs from the other"
                    " desk's")
    mine = {e.event_id for e in ours}
    for e in theirs:
        if e.seq is not None and e.event_id not in mine:
            return f"the other desk's entry {e.type} #{e.seq} (event {e.event_id}) is missing here"
    return None
