"""Which deadline rules apply on which day (working days, official calendar)."""

from __future__ import annotations

import datetime as dt

from services.desk.requests.deadlines import rules_due


def test_rules_by_date() -> None:
    due = dt.date(2026, 11, 9)  # a Monday
    assert rules_due(due, dt.date(2026, 11, 2), 2, 3) == []
    assert rules_due(due, dt.date(2026, 11, 5), 2, 3) == ["before_due"]  # Fri and Mon left
    assert rules_due(due, dt.date(2026, 11, 9), 2, 3) == ["before_due"]
    assert rules_due(due, dt.date(2026, 11, 10), 2, 3) == ["overdue"]
    assert rules_due(due, dt.date(2026, 11, 12), 2, 3) == ["overdue"]
    assert rules_due(due, dt.date(2026, 11, 13), 2, 3) == ["overdue", "escalate"]


def test_holidays_do_not_count_towards_escalation() -> None:
    due = dt.date(2026, 9, 30)  # National Day holiday 1-7 Oct follows
    assert rules_due(due, dt.date(2026, 10, 7), 2, 3) == ["overdue"]
    assert rules_due(due, dt.date(2026, 10, 12), 2, 3) == ["overdue", "escalate"]
