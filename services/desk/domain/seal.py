"""A timeline entry's seal (pure): who signed what, and whether that matches the entry.

The desk that decides a change signs a *statement*: for a change that travels, the
canonical body of the message carrying it (``protocol.v1.chain.signed_body``), so the
other desk checks the signature before applying it and both keep the same statement;
for a step that never leaves its desk (sent, a refused command's note), the entry's own
canonical fields. ``disagreement`` tells whether a stored statement says what the entry
beside it says, so an altered entry cannot hide behind a valid signature.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from protocol.v1.chain import canonical


@dataclass(frozen=True)
class Seal:
    by: str
    """Region of the desk whose SM2 key made ``signature``."""
    statement: bytes
    signature: bytes

    def __call__(self, _entry: bytes) -> Seal:
        """A seal that came with a message stays as it came, whatever entry it goes on."""
        return self


Sealer = Callable[[bytes], "Seal"]
"""Gives the seal of an entry from its canonical fields: this desk's key signs them, or a
seal that came with the change is kept."""


def disagreement(entry: Mapping[str, Any], statement: bytes) -> str | None:
    """Why ``statement`` does not vouch for ``entry`` (its canonical fields); None if it does."""
    if statement == canonical(entry):
        return None
    try:
        said = json.loads(statement)
    except ValueError:
        return "the signed statement is not JSON"
    if not isinstance(said, dict):
        return "the signed statement is not an object"
    if said.get("event_id") != entry["event_id"] or said.get("request_id") != entry["request_id"]:
        return "the signed statement is about another entry"
    if "change" in said:
        return _event_disagreement(entry, said)
    if "content" in said:
        expected = {"type": "created", "bureau": said.get("requester"),
                    "actor": said.get("created_by"), "at": _utc(said.get("created_at"))}
        return _first_difference(entry, expected)
    return "the signed statement is neither the entry nor a message body"


def _event_disagreement(entry: Mapping[str, Any], said: dict[str, Any]) -> str | None:
    change = dict(said["change"]) if isinstance(said["change"], dict) else {}
    expected = {"type": change.pop("event", None), "seq": said.get("seq"),
                "bureau": said.get("bureau"), "actor": said.get("actor"),
                "at": _utc(said.get("occurred_at"))}
    if why := _first_difference(entry, expected):
        return why
    data = {k: v for k, v in (entry["data"] or {}).items() if k != "due_date"}
    if data != change:
        return "its data differs from the signed change"
    return None


def _first_difference(entry: Mapping[str, Any], expected: Mapping[str, Any]) -> str | None:
    for key, value in expected.items():
        if entry.get(key) != value:
            return f"its {key} differs from the signed statement"
    return None


def _utc(value: Any) -> str | None:
    """An ISO time as ``chain.fields`` writes it (UTC, isoformat)."""
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()
