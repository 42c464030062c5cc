"""What a desk's signature covers, and the two messages that compare two desks' chains.

A signed body (``request.submitted``, ``request.event``) is signed as its canonical JSON
without the ``signature`` field: keys sorted, no spaces, UTF-8. Both desks can rebuild
those bytes from the parsed message, so the receiving desk checks the signature before
it applies anything, and both keep the same signed statement for the entry.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel, Field

from protocol.v1.content import Frozen


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is signed or hashed."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def signed_body(body: BaseModel) -> bytes:
    """The bytes a body's ``signature`` covers: the body without its signature."""
    return canonical(body.model_dump(mode="json", exclude={"signature"}))


class ChainEntry(Frozen):
    """One timeline entry as a desk holds it: enough to compare, nothing personal."""

    event_id: uuid.UUID
    seq: int | None = Field(None, ge=0)
    type: str = Field(max_length=40)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    """SM3 of the entry's canonical fields (without the chain link, which differs per desk)."""


class ChainRequestedBody(Frozen):
    check_id: uuid.UUID
    request_id: uuid.UUID


class ChainAnsweredBody(Frozen):
    check_id: uuid.UUID
    request_id: uuid.UUID
    entries: tuple[ChainEntry, ...] = Field(max_length=10_000)
    """The answering desk's entries of the request in chain order (empty: none there)."""
    intact: bool
    """Whether the answering desk's own chain and signatures verify."""
    verdict: str = Field(max_length=500)
