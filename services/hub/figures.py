"""Figures from counter sums: pure functions, the same for the JSON feed, exports and pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.hub.counting import histogram, percentile

METRICS = (
    "created", "sent", "delivered", "undeliverable", "accepted", "rejected", "info_requested",
    "transferred", "transfer_returned", "partially_replied", "replied", "withdrawn", "closed",
    "reminded", "escalated", "item_answered",
)
SLICE_METRICS = ("created", "replied", "item_answered", "bulk_replied", "replied_on_time",
                 "turnaround_days")
"""The counters the map's region panel reads (few rows per bureau)."""
ROW_METRICS = (*SLICE_METRICS, "accepted", "accepted_untimed", "accepted_after_7d",
               "replied_agreed", "replied_agreed_on_time", "overdue_now")
ROW_PREFIXES = ("rating:", "wd:")
"""The counters a slice row reads: these metrics and every bucket of these histograms."""
RATINGS = range(1, 6)


def figures(counts: Mapping[str, int]) -> dict[str, Any]:
    """Every figure of one scope and period from its counter sums."""
    out: dict[str, Any] = {m: counts.get(m, 0) for m in METRICS}
    out |= row_figures(counts)
    out["rating_counts"] = {str(r): counts.get(f"rating:{r}", 0) for r in RATINGS}
    return out


def slice_figures(counts: Mapping[str, int]) -> dict[str, Any]:
    replied = counts.get("replied", 0)
    return {
        "requests": counts.get("created", 0),
        # a bulk request's checks are its answered items, not its reply too (bulk_checks)
        "completed_checks": replied + counts.get("item_answered", 0)
        - counts.get("bulk_replied", 0),
        "on_time_rate": _ratio(counts.get("replied_on_time", 0), replied, 4),
        "average_turnaround_days": _ratio(counts.get("turnaround_days", 0), replied, 2),
    }


def row_figures(counts: Mapping[str, int]) -> dict[str, Any]:
    """The figures of a slice's row (a key in a month), also part of every summary."""
    hist, ratings = histogram(counts), histogram(counts, "rating:")
    agreed, rated = counts.get("replied_agreed", 0), sum(ratings.values())
    timed = counts.get("accepted", 0) - counts.get("accepted_untimed", 0)
    return slice_figures(counts) | {
        "median_turnaround_working_days": percentile(hist, 0.5),
        "p90_turnaround_working_days": percentile(hist, 0.9),
        "accepted_within_7_days_rate": _ratio(
            timed - counts.get("accepted_after_7d", 0), timed, 4),
        "replied_with_agreed_date": agreed,
        "agreed_date_rate": _ratio(counts.get("replied_agreed_on_time", 0), agreed, 4),
        "ratings": rated,
        "average_rating": _ratio(sum(r * n for r, n in ratings.items()), rated, 2),
        "overdue_now": counts.get("overdue_now", 0),
    }


def _ratio(part: int, whole: int, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None
