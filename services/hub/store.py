"""The hub's PostgreSQL store: the partner registry and the statistics counters."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from collections.abc import Sequence

import asyncpg

from protocol.v1.messages import EventRecordedBody
from protocol.v1.registry import BureauRecord
from services.common import registry_rows

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def _digest(bureaus: Sequence[BureauRecord]) -> bytes:
    data = [b.model_dump(mode="json") for b in sorted(bureaus, key=lambda b: b.code)]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()


async def replace_registry(
    conn: asyncpg.Connection, bureaus: Sequence[BureauRecord], now: dt.datetime
) -> int:
    """Install ``bureaus`` as the registry; the version moves on only if they changed."""
    await conn.execute("LOCK TABLE registry_state IN EXCLUSIVE MODE")
    digest = _digest(bureaus)
    row = await conn.fetchrow("SELECT version, digest FROM registry_state")
    if row is not None and row["digest"] == digest:
        return int(row["version"])
    version = (row["version"] if row else 0) + 1
    await registry_rows.write(conn, "bureau", bureaus)
    await conn.execute(
        "INSERT INTO registry_state (version, digest, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (singleton) DO UPDATE SET version = $1, digest = $2, updated_at = $3",
        version, digest, now,
    )
    return version


async def load_registry(conn: asyncpg.Connection) -> tuple[int, list[BureauRecord]]:
    version = await conn.fetchval("SELECT version FROM registry_state") or 0
    return int(version), await registry_rows.read(conn, "bureau")


def scopes(body: EventRecordedBody) -> list[str]:
    """The counters one event adds to: overall, per bureau and per province, by role."""
    return ["all", f"req:{body.requester}", f"rcp:{body.recipient}",
            f"reqp:{body.requester[:2]}", f"rcpp:{body.recipient[:2]}"]


async def count_event(conn: asyncpg.Connection, body: EventRecordedBody) -> bool:
    """Add the event to every counter it belongs to, once; False if already counted."""
    first = await conn.fetchval(
        "INSERT INTO counted_event (event_id, request_id, event_type, occurred_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        body.event_id, body.request_id, body.event_type, body.occurred_at,
    )
    if not first:
        return False
    day = body.occurred_at.astimezone(CHINA).date()
    names, amounts = zip(*metrics(body), strict=True)
    # One statement; rows are locked scope by scope in the same order by every event,
    # with the shared 'all' scope first, so concurrent counting cannot deadlock.
    await conn.execute(
        "INSERT INTO stat_day (scope, metric, day, n)"
        " SELECT s, m.metric, $3, m.n FROM unnest($1::text[]) WITH ORDINALITY AS s(s, i),"
        " unnest($2::text[], $4::bigint[]) WITH ORDINALITY AS m(metric, n, j)"
        " ORDER BY i, j"
        " ON CONFLICT (scope, metric, day) DO UPDATE SET n = stat_day.n + EXCLUDED.n",
        scopes(body), list(names), day, list(amounts),
    )
    return True


def metrics(body: EventRecordedBody) -> list[tuple[str, int]]:
    """What one event adds: its own count, and for replies on-time and turnaround sums."""
    # an 'item_answered' event stands for ``count`` answered items of a bulk request
    n = body.count if body.event_type == "item_answered" else 1
    out: list[tuple[str, int]] = [(body.event_type, n)]
    if body.event_type == "replied":
        out.append(("replied_on_time", 1 if body.on_time else 0))
        out.append(("turnaround_days", body.turnaround_days or 0))
    return out


async def totals(
    conn: asyncpg.Connection, scope: str, since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT metric, sum(n)::bigint AS n FROM stat_day WHERE scope = $1"
        " AND ($2::date IS NULL OR day >= $2) AND ($3::date IS NULL OR day <= $3)"
        " GROUP BY metric", scope, since, until,
    )
    return {r["metric"]: int(r["n"]) for r in rows}


async def partner_coverage(conn: asyncpg.Connection) -> tuple[int, int]:
    """(signed partner bureaus, provincial-level regions with at least one)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS partners, count(DISTINCT province) AS provinces"
        " FROM bureau WHERE status = 'signed'"
    )
    assert row is not None
    return int(row["partners"]), int(row["provinces"])
