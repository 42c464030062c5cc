"""The statistics counters in PostgreSQL: exact, maintained as events arrive, never a scan.

``stat_day``, ``stat_month`` and ``stat_total`` hold the same sums at three grains and
move together in the transaction that records the event id, so a redelivered event never
counts twice. A period is read as whole months plus the days of its partial months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from protocol.v1.messages import EventRecordedBody
from services.hub.counting import Increment, china_day, increments

_ADD = {
    # one statement per grain; rows are locked in the order of the increments (the
    # shared 'all' scope first) by every event, so concurrent counting cannot deadlock
    "stat_day": "INSERT INTO stat_day (scope, metric, day, n)"
    " SELECT s, m, $4, n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(s, m, n)"
    " ON CONFLICT (scope, metric, day) DO UPDATE SET n = stat_day.n + EXCLUDED.n",
    "stat_month": "INSERT INTO stat_month (scope, metric, month, n)"
    " SELECT s, m, date_trunc('month', $4::date)::date, n"
    " FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(s, m, n)"
    " ON CONFLICT (scope, metric, month) DO UPDATE SET n = stat_month.n + EXCLUDED.n",
    "stat_total": "INSERT INTO stat_total (scope, metric, n)"
    " SELECT s, m, n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(s, m, n)"
    " ON CONFLICT (scope, metric) DO UPDATE SET n = stat_total.n + EXCLUDED.n",
}


_COUNT_ONCE = (
    # the event id and its increments in one statement: one round trip instead of four.
    # The counters move only when the id is new. Each grain waits for the one before it
    # (its sub-select reads the previous one's rows), so rows are locked day, month, total,
    # each in the increments' order, as ``add`` does: concurrent counting cannot deadlock.
    "WITH first AS (INSERT INTO counted_event (event_id, request_id, event_type, occurred_at)"
    " VALUES ($5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING true),"
    " x AS MATERIALIZED (SELECT s, m, n, i FROM unnest($1::text[], $2::text[], $3::bigint[])"
    "  WITH ORDINALITY AS u(s, m, n, i) WHERE EXISTS (SELECT FROM first)),"
    " d AS (INSERT INTO stat_day (scope, metric, day, n) SELECT s, m, $4, n FROM x ORDER BY i"
    "  ON CONFLICT (scope, metric, day) DO UPDATE SET n = stat_day.n + EXCLUDED.n RETURNING 1),"
    " mo AS (INSERT INTO stat_month (scope, metric, month, n)"
    "  SELECT s, m, date_trunc('month', $4::date)::date, n FROM x"
    "  WHERE (SELECT count(*) FROM d) >= 0 ORDER BY i"
    "  ON CONFLICT (scope, metric, month) DO UPDATE SET n = stat_month.n + EXCLUDED.n"
    "  RETURNING 1),"
    " t AS (INSERT INTO stat_total (scope, metric, n)"
    "  SELECT s, m, n FROM x WHERE (SELECT count(*) FROM mo) >= 0 ORDER BY i"
    "  ON CONFLICT (scope, metric) DO UPDATE SET n = stat_total.n + EXCLUDED.n RETURNING 1)"
    " SELECT EXISTS (SELECT FROM first) AND (SELECT count(*) FROM t) >= 0"
)


async def count_event(conn: asyncpg.Connection, body: EventRecordedBody) -> bool:
    """Add the event to every counter it belongs to, once; False if already counted."""
    scopes, names, amounts = (list(c) for c in zip(*increments(body), strict=True))
    first: bool = await conn.fetchval(
        _COUNT_ONCE, scopes, names, amounts, china_day(body.occurred_at),
        body.event_id, body.request_id, body.event_type, body.occurred_at,
    )
    return first


async def add(conn: asyncpg.Connection, incs: Sequence[Increment], day: dt.date) -> None:
    scopes, names, amounts = (list(c) for c in zip(*incs, strict=True))
    for table, sql in _ADD.items():
        await conn.execute(sql, scopes, names, amounts, *(() if table == "stat_total" else (day,)))


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
    since: dt.date, until: dt.date,
) -> list[tuple[str, dt.date, dict[str, int]]]:
    """(scope, month, {metric: n}) of every scope starting with ``prefix``, month by month
    from ``since``'s month to ``until``'s (whole months)."""
    # the scopes from the small all-time table, then exact key ranges of stat_month
    # (scope, metric, month) for each: rows read are the rows returned, one per cell out
    rows = await conn.fetch(
        "SELECT m.scope, m.month, array_agg(m.metric) AS metrics, array_agg(m.n) AS ns"
        " FROM stat_month m JOIN"
        " (SELECT DISTINCT scope FROM stat_total WHERE scope >= $1 AND scope < $1 || '~') t"
        " ON m.scope = t.scope WHERE m.metric = ANY($4::text[])"
        " AND m.month >= $2 AND m.month <= $3 GROUP BY m.scope, m.month",
        prefix, since.replace(day=1), until, list(metrics),
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
