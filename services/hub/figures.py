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
"""The counters a slice reads (enough for its columns, few rows per cell)."""


def figures(counts: Mapping[str, int]) -> dict[str, Any]:
    """Every figure of one scope and period from its counter sums."""
    out: dict[str, Any] = {m: counts.get(m, 0) for m in METRICS}
    out |= slice_figures(counts)
    hist = histogram(counts)
    out["median_turnaround_days"] = percentile(hist, 0.5)
    out["p90_turnaround_days"] = percentile(hist, 0.9)
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


def _ratio(part: int, whole: int, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None
