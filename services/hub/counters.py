"""The statistics counters in PostgreSQL: exact, maintained as events arrive, never a scan.

``stat_day``, ``stat_month`` and ``stat_total`` hold the same sums at three grains and
move together in the transaction that records the event id, so a redelivered event never
counts twice. A period is read as whole months plus the days of its partial months.
Flows and kinds have no daily rows (nothing reads them by day). ``overdue_request``
holds the per-request half of the overdue gauge until a mark and its end have met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from services.hub.counting import (
    Counted,
    Increment,
    by_day,
    china_day,
    increments,
    overdue_change,
    overdue_delta,
    overdue_pair_done,
    scopes_of,
)

Row = tuple[str, str, dt.date, int]
"""(scope, metric, China day, amount): one counter's addition."""

_ADD = {
    # one statement per grain, each row locked in (scope, metric, day) order by every
    # transaction (``add`` sorts them), so concurrent counting cannot deadlock; stat_total
    # is written last: its trigger moves ``stat_version``
    "stat_day": "INSERT INTO stat_day (scope, metric, day, n)"
    " SELECT s, m, d, n FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])"
    " AS x(s, m, d, n) ON CONFLICT (scope, metric, day) DO UPDATE SET n = stat_day.n + EXCLUDED.n",
    "stat_month": "INSERT INTO stat_month (scope, metric, month, n)"
    " SELECT s, m, date_trunc('month', d)::date, sum(n)"
    " FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[]) AS x(s, m, d, n)"
    " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    " ON CONFLICT (scope, metric, month) DO UPDATE SET n = stat_month.n + EXCLUDED.n",
    "stat_total": "INSERT INTO stat_total (scope, metric, n)"
    " SELECT s, m, sum(n) FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])"
    " AS x(s, m, d, n) GROUP BY 1, 2 ORDER BY 1, 2"
    " ON CONFLICT (scope, metric) DO UPDATE SET n = stat_total.n + EXCLUDED.n",
}


async def count_event(conn: asyncpg.Connection, body: Counted) -> bool:
    """Add the event to every counter it belongs to, once; False if already counted."""
    day = china_day(body.occurred_at)
    rows = sorted((s, m, day, n) for s, m, n in increments(body))
    columns = [list(c) for c in zip(*rows, strict=True)] or [[], [], [], []]
    first = bool(await conn.fetchval(
        _COUNT, body.event_id, body.request_id, body.event_type, body.occurred_at,
        *columns, [by_day(r[0]) for r in rows],
    ))
    if first and overdue_change(body) is not None:
        await add_rows(conn, await _overdue(conn, body))
    return first


_COUNT = (
    # the event id and its sums at every grain in one statement (one round trip per event
    # instead of four); the sums only when the id is new
    "WITH first AS (INSERT INTO counted_event (event_id, request_id, event_type, occurred_at)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true),"
    " x AS (SELECT s, m, d, n, daily FROM unnest($5::text[], $6::text[], $7::date[],"
    " $8::bigint[], $9::bool[]) AS x(s, m, d, n, daily) WHERE EXISTS (SELECT FROM first)),"
    " day AS (INSERT INTO stat_day (scope, metric, day, n)"
    " SELECT s, m, d, sum(n) FROM x WHERE daily GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    " ON CONFLICT (scope, metric, day) DO UPDATE SET n = stat_day.n + EXCLUDED.n),"
    " month AS (INSERT INTO stat_month (scope, metric, month, n)"
    " SELECT s, m, date_trunc('month', d)::date, sum(n) FROM x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    " ON CONFLICT (scope, metric, month) DO UPDATE SET n = stat_month.n + EXCLUDED.n),"
    " total AS (INSERT INTO stat_total (scope, metric, n)"
    " SELECT s, m, sum(n) FROM x GROUP BY 1, 2 ORDER BY 1, 2"
    " ON CONFLICT (scope, metric) DO UPDATE SET n = stat_total.n + EXCLUDED.n)"
    " SELECT EXISTS (SELECT FROM first)"
)


async def _overdue(conn: asyncpg.Connection, body: Counted) -> list[Row]:
    """The overdue gauge's rows for this event (see ``counting.overdue_delta``)."""
    change = overdue_change(body)
    if change is None:
        return []
    # one statement takes the request's row or makes it: a mark and an end of the same
    # request counted at once meet here, the second waits for the first to commit
    row = await conn.fetchrow(
        "INSERT INTO overdue_request AS o (request_id, requester, recipient, kind,"
        " marked_on, open) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (request_id) DO UPDATE SET open = o.open"
        " RETURNING xmax = 0 AS inserted, open, requester, recipient, kind, marked_on",
        body.request_id, body.requester, body.recipient, body.kind,
        china_day(body.occurred_at), change == "mark",
    )
    assert row is not None
    found = None if row["inserted"] else row["open"]
    if overdue_pair_done(change, found):
        await conn.execute("DELETE FROM overdue_request WHERE request_id = $1", body.request_id)
    delta = overdue_delta(change, found)
    if not delta:
        return []
    return [(s, "overdue_now", row["marked_on"], delta)
            for s in scopes_of(row["requester"], row["recipient"], row["kind"])]


async def add(conn: asyncpg.Connection, incs: Sequence[Increment], day: dt.date) -> None:
    await add_rows(conn, [(s, m, day, n) for s, m, n in incs])


async def add_rows(conn: asyncpg.Connection, rows: Sequence[Row]) -> None:
    """Add ``rows`` to the day (scopes read by day only), month and all-time counters."""
    ordered = sorted(rows)
    for table, sql in _ADD.items():
        part = [r for r in ordered if by_day(r[0])] if table == "stat_day" else ordered
        if part:
            await conn.execute(sql, *(list(c) for c in zip(*part, strict=True)))


async def totals(
    conn: asyncpg.Connection, scope: str, since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, int]:
    """All-time sums of ``scope``, or over the days from ``since`` to ``until`` (inclusive)."""
    if since is None and until is None:
        rows = await conn.fetch("SELECT metric, n FROM stat_total WHERE scope = $1", scope)
    else:
        rows = await conn.fetch(_PERIOD, scope, *_edges(since, until))
    return {r["metric"]: int(r["n"]) for r in rows}


_PERIOD = (
    "SELECT metric, sum(n)::bigint AS n FROM ("
    " SELECT metric, n FROM stat_month WHERE scope = $1 AND month >= $2 AND month < $3"
    " UNION ALL SELECT metric, n FROM stat_day WHERE scope = $1"
    "  AND ((day >= $4 AND day < $2) OR (day >= $3 AND day <= $5))"
    ") AS x GROUP BY metric"
)


def _edges(since: dt.date | None, until: dt.date | None) -> tuple[dt.date, ...]:
    """(first whole month, month after the last whole one, since, until) of a period."""
    lo, hi = since or dt.date(1970, 1, 1), until or dt.date(9000, 1, 1)
    first = lo if lo.day == 1 else _next_month(lo)
    after_last = _next_month(hi) if _next_month(hi) - dt.timedelta(days=1) == hi \
        else hi.replace(day=1)
    if after_last < first:  # inside one month: days only
        return lo, lo, lo, hi
    return first, after_last, lo, hi


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


async def sliced(
    conn: asyncpg.Connection, prefix: str, metrics: Sequence[str],
    since: dt.date, until: dt.date, histograms: Sequence[str] = (),
) -> list[tuple[str, dt.date, dict[str, int]]]:
    """(scope, month, {metric: n}) of every scope starting with ``prefix``, month by month
    from ``since``'s month to ``until``'s (whole months): ``metrics`` and every metric
    starting with one of ``histograms``."""
    # the scopes from the small all-time table, then exact key ranges of stat_month
    # (scope, metric, month) for each: rows read are the rows returned, one per cell out
    ranges = "".join(f" OR (m.metric >= ${5 + i} AND m.metric < ${5 + i} || '~')"
                     for i in range(len(histograms)))
    rows = await conn.fetch(
        "SELECT m.scope, m.month, array_agg(m.metric) AS metrics, array_agg(m.n) AS ns"
        " FROM stat_month m JOIN"
        " (SELECT DISTINCT scope FROM stat_total WHERE scope >= $1 AND scope < $1 || '~') t"
        f" ON m.scope = t.scope WHERE (m.metric = ANY($4::text[]){ranges})"
        " AND m.month >= $2 AND m.month <= $3 GROUP BY m.scope, m.month",
        prefix, since.replace(day=1), until, list(metrics), *histograms,
    )
    return [(r["scope"], r["month"], dict(zip(r["metrics"], r["ns"], strict=True)))
            for r in rows]


async def all_time_by_prefix(
    conn: asyncpg.Connection, prefix: str, metrics: Sequence[str]
) -> dict[str, dict[str, int]]:
    """All-time sums of every scope starting with ``prefix``: key -> metric -> n."""
    out: dict[str, dict[str, int]] = {}
    for r in await conn.fetch(
        "SELECT scope, metric, n FROM stat_total WHERE scope >= $1 AND scope < $1 || '~'"
        " AND metric = ANY($2::text[])", prefix, list(metrics),
    ):
        out.setdefault(r["scope"][len(prefix):], {})[r["metric"]] = int(r["n"])
    return out
