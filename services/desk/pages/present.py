"""Pure presentation rules of the pages: deadline badges, the actions to offer, the
credit code explained. No I/O, no templates: unit-tested on their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from services.desk.domain.lifecycle import ACTOR, RUNNING, Party, State, Transition, allowed_from

DUE_SOON_DAYS = 2
"""Calendar days before the due date from which a running request shows as due soon."""

OFFERED: tuple[Transition, ...] = (
    Transition.ACCEPT, Transition.REPLY, Transition.PARTIAL_REPLY, Transition.REQUEST_INFO,
    Transition.TRANSFER, Transition.REJECT, Transition.PROVIDE_INFO, Transition.REMIND,
    Transition.CLOSE, Transition.WITHDRAW,
)
"""The steps a page offers as buttons, in the order shown."""


@dataclass(frozen=True)
class Deadline:
    status: str  # 'overdue', 'due_soon', 'on_time' or 'none' (not running)
    icon: str
    days_left: int


def deadline(state: str, due: dt.date, today: dt.date) -> Deadline:
    """How urgent a request is today (China time): text and icon, never colour alone."""
    left = (due - today).days
    if state not in RUNNING:
        return Deadline("none", "", left)
    if left < 0:
        return Deadline("overdue", "⚠", left)
    if left <= DUE_SOON_DAYS:
        return Deadline("due_soon", "⏰", left)
    return Deadline("on_time", "✓", left)


def actions(state: str, party: Party | None) -> list[Transition]:
    """The steps the caller's side may take now, as the state machine allows them."""
    if party is None:
        return []
    allowed = allowed_from(State(state))
    return [t for t in OFFERED if t in allowed and ACTOR[t] is party]


@dataclass(frozen=True)
class CreditCheck:
    code: str | None
    """The normalised code when it is valid."""
    problem: str | None
    """'length', 'format' or 'check_character'."""
    expected: str | None = None
    """The check character the first 17 characters call for."""


def check_credit_code(text: str) -> CreditCheck:
    """A unified social credit code as typed, valid or with what is wrong with it."""
    code = text.strip().upper()
    if len(code) != 18:
        return CreditCheck(None, "length")
    try:
        return CreditCheck(str(uscc.validate(code)), None)
    except InvalidChecksum:
        return CreditCheck(None, "check_character", uscc.calc_check_digit(code[:17]))
    except ValidationError:
        return CreditCheck(None, "format")
