"""The statistics feed's queries: summaries and slices, read from the counters only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.hub import counters, store
from services.hub.figures import ROW_METRICS, ROW_PREFIXES, figures, row_figures

DIMENSIONS = {
    # by -> (scope prefix as requester, as recipient)
    "province": ("reqp:", "rcpp:"),
    "bureau": ("req:", "rcp:"),
    "kind": ("kind:", "kind:"),
    "flow": ("flow:", "flow:"),
}
ROLES = ("recipient", "requester")


@dataclass(frozen=True)
class Slice:
    by: str
    role: str
    since: dt.date
    until: dt.date

    @property
    def prefix(self) -> str:
        return DIMENSIONS[self.by][ROLES.index(self.role) ^ 1]


async def summary(conn: asyncpg.Connection, scope: str, since: dt.date | None,
                  until: dt.date | None) -> dict[str, Any]:
    body: dict[str, Any] = {"all_time": figures(await counters.totals(conn, scope))}
    if since or until:
        body["period"] = {
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
            **figures(await counters.totals(conn, scope, since, until)),
        }
    return body


async def coverage(conn: asyncpg.Connection) -> dict[str, int]:
    partners, provinces = await store.partner_coverage(conn)
    return {"partners": partners, "provinces_covered": provinces}


async def slice_rows(conn: asyncpg.Connection, s: Slice) -> list[dict[str, Any]]:
    """One row per key and month: the key's figures in that month."""
    cells = await counters.sliced(conn, s.prefix, ROW_METRICS, s.since, s.until, ROW_PREFIXES)
    return [
        {"key": scope[len(s.prefix):], "month": month.strftime("%Y-%m"),
         **row_figures(counts)}
        for scope, month, counts in sorted(cells, key=lambda c: (c[0], c[1]))
        if any(counts.values())  # a gauge back at 0 leaves a row of 0s: nothing happened
    ]


async def monthly(conn: asyncpg.Connection, scope: str, since: dt.date,
                  until: dt.date) -> list[dict[str, Any]]:
    """``scope``'s figures month by month (whole months from ``since``'s to ``until``'s)."""
    cells = await counters.sliced(conn, scope, ROW_METRICS, since, until, ROW_PREFIXES)
    return [{"month": m.strftime("%Y-%m"), **row_figures(c)}
            for s, m, c in sorted(cells, key=lambda c: c[1]) if s == scope]
