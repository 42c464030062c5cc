"""A posted joint-case form read into the change the joint use cases take (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.v1 import joint as j

ACTIONS = ("accept", "decline", "invite", "close", "confirm")
"""The steps the joint page offers as forms (tasks have a form of their own)."""


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def change_of(action: str, form: Mapping[str, Any]) -> j.JointChange:
    """The change a form asks for; pydantic's ValidationError when it is not valid."""
    if action == "accept":
        return j.Accepted()
    if action == "decline":
        return j.Declined.model_validate({"reason": _text(form, "reason")})
    if action == "invite":
        codes = (_text(form, "bureaus") or "").replace("，", ",").replace(" ", ",").split(",")
        return j.Invited.model_validate({"bureaus": [c for c in codes if c]})
    if action == "close":
        summary = j.Summary.model_validate({"findings": _text(form, "findings")})
        return j.ClosingProposed(summary=summary)
    return j.ClosingConfirmed()
