"""The simulated history: exactly the checks asked for, every kind, realistic outcomes."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from services.hub.counting import increments
from services.hub.figures import slice_figures
from services.hub.history import Plan, history
from services.hub.registry_source import build_registry

PLAN = Plan(5_000, dt.date(2023, 1, 1), dt.date(2025, 12, 31), seed=7)


def test_the_history_completes_exactly_the_checks_asked_for_in_every_kind() -> None:
    partners = [b for b in build_registry() if b.status == "signed"]
    totals: Counter[str] = Counter()
    kinds, late = set(), 0
    for events, _ in history(PLAN, partners):
        for e in events:
            assert PLAN.start <= e.occurred_at.date() <= PLAN.end
            for scope, metric, n in increments(e):
                if scope == "all":
                    totals[metric] += n
            totals["overdue_now"] += e.event_type == "reminded"  # marks; some are answered
            kinds.add(e.kind)
            late += e.event_type == "replied" and not e.on_time
    # as the hub shows them: a bulk request's answered items, not its reply as well
    assert slice_figures(totals)["completed_checks"] == PLAN.checks
    assert totals["bulk_replied"] > 0
    assert len(kinds) == 5
    assert totals["rejected"] and totals["transferred"] and totals["withdrawn"] and late
    assert totals["created"] > totals["replied"] > totals["created"] * 0.8
    # and what the newer figures need: late acceptances, agreed dates, ratings, overdue marks
    assert 0 < totals["accepted_after_7d"] < totals["accepted"] * 0.1
    assert totals["replied_agreed"] and totals["overdue_now"] > 0
    assert sum(totals[f"rating:{r}"] for r in range(1, 6)) == totals["closed"]


def test_the_same_plan_gives_the_same_history() -> None:
    partners = [b for b in build_registry() if b.status == "signed"][:50]
    small = Plan(300, PLAN.start, PLAN.end, seed=1)
    first = [[(e.event_type, e.requester, e.occurred_at) for e in evs]
             for evs, _ in history(small, partners)]
    again = [[(e.event_type, e.requester, e.occurred_at) for e in evs]
             for evs, _ in history(small, partners)]
    assert first == again
