"""A posted joint-case form read into the change the joint use cases take (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from protocol.v1 import joint as j

OUTCOME_ROWS = 3
"""Outcome rows the closing form offers at first (``?outcomes=`` asks for more, up to
``MAX_ROWS``); rows left without a kind are skipped."""
MAX_ROWS = 60


def rows_asked(raw: str | None) -> int:
    """The closing form's number of outcome rows from ``?outcomes=``, within bounds."""
    n = int(raw) if raw and raw.isascii() and raw.isdigit() else OUTCOME_ROWS
    return max(OUTCOME_ROWS, min(n, MAX_ROWS))


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _all(form: Any, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes); a plain mapping has at most one."""
    values = form.getall(name, []) if hasattr(form, "getall") else [form.get(name)]
    return [v for v in values if isinstance(v, str) and v]


def _invited(form: Mapping[str, Any]) -> j.JointChange:
    codes = (_text(form, "bureaus") or "").replace("，", ",").replace(" ", ",").split(",")
    return j.Invited.model_validate({"bureaus": [c for c in codes if c]})


def _amount(raw: str | None) -> int | str | None:
    """Yuan as typed (digits, maybe with thousands separators); pydantic judges the rest."""
    if raw is None:
        return None
    plain = raw.replace(",", "").replace("，", "")
    return int(plain) if plain.isascii() and plain.isdigit() else raw


def outcomes_of(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The outcome rows of the closing form that name a kind."""
    rows = []
    for i in range(MAX_ROWS):
        if f"outcome_kind_{i}" not in form:
            break
        kind = _text(form, f"outcome_kind_{i}")
        if kind is None:
            continue
        row = {"kind": kind, "bureau": _text(form, f"outcome_bureau_{i}"),
               "merchant_name": _text(form, f"outcome_merchant_{i}"),
               "credit_code": _text(form, f"outcome_credit_{i}"),
               "amount_yuan": _amount(_text(form, f"outcome_amount_{i}")),
               "note": _text(form, f"outcome_note_{i}")}
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


def _closing(form: Mapping[str, Any]) -> j.JointChange:
    summary = j.Summary.model_validate({"findings": _text(form, "findings"),
                                        "outcomes": outcomes_of(form)})
    return j.ClosingProposed(summary=summary)


FORMS: dict[str, Callable[[Any], j.JointChange]] = {
    "accept": lambda f: j.Accepted(),
    "decline": lambda f: j.Declined.model_validate({"reason": _text(f, "reason")}),
    "invite": _invited,
    "leave": lambda f: j.LeaveRequested.model_validate({"reason": _text(f, "reason")}),
    "agree-leave": lambda f: j.LeaveAgreed.model_validate({"bureau": _text(f, "bureau")}),
    "refuse-leave": lambda f: j.LeaveRefused.model_validate(
        {"bureau": _text(f, "bureau"), "note": _text(f, "note")}),
    "note": lambda f: j.Noted.model_validate({"text": _text(f, "text"),
                                              "handling": _all(f, "handling")}),
    "comment": lambda f: j.Commented.model_validate({"text": _text(f, "text")}),
    "close": _closing,
    "confirm": lambda f: j.ClosingConfirmed(),
}
"""The steps the joint page offers as forms (tasks and evidence have routes of their own),
named as in the API (``POST /v1/joint/{id}/<action>``)."""
ACTIONS = tuple(FORMS)


def change_of(action: str, form: Mapping[str, Any]) -> j.JointChange:
    """The change a form asks for; pydantic's ValidationError when it is not valid."""
    return FORMS[action](form)
