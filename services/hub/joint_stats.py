"""Joint-action counters at the hub: cases, members, tasks and outcomes per bureau and
province, exact and idempotent like the request counters.

Each ``joint.recorded`` is counted once by its event id (``counted_event``, in the same
transaction as the counters). A count goes to ``all``, to the bureau it is about
(``jnt:<bureau>``: the lead for cases opened and closed, the member for joins, declines
and tasks, the acting bureau for outcomes) and to that bureau's province
(``jntp:<province>``), in the same counters (day, month, all time) as the other figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from protocol.v1.joint import JointRecordedBody
from services.hub import counters
from services.hub.counting import Increment, china_day

METRICS = ("joint_opened", "joint_closed", "joint_member_joined", "joint_member_declined",
           "joint_task_assigned", "joint_outcome")


async def count(conn: asyncpg.Connection, body: JointRecordedBody) -> bool:
    """Add the record to its counters, once; False if it was counted before."""
    first = await conn.fetchval(
        "INSERT INTO counted_event (event_id, request_id, event_type, occurred_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        body.event_id, body.case_id, body.metric, body.occurred_at,
    )
    if not first:
        return False
    await counters.add(conn, increments(body), china_day(body.occurred_at))
    return True


def increments(body: JointRecordedBody) -> list[Increment]:
    """'all' first, in one order for every record, as the request counters do."""
    return [(s, body.metric, body.count)
            for s in ("all", f"jnt:{body.bureau}", f"jntp:{body.bureau[:2]}")]


def scope(bureau: str | None, province: str | None) -> str:
    """The counters a stats query is about (validated by the caller)."""
    if bureau is not None:
        return f"jnt:{bureau}"
    if province is not None:
        return f"jntp:{province}"
    return "all"


async def figures(conn: asyncpg.Connection, scope_name: str, since: dt.date | None,
                  until: dt.date | None) -> dict[str, Any]:
    """The ``joint`` part of the stats feed: all-time and, if asked, the period's; for
    the unscoped feed also all-time figures by province and by bureau."""
    out: dict[str, Any] = {"all_time": _short(await counters.totals(conn, scope_name))}
    if since or until:
        out["period"] = _short(await counters.totals(conn, scope_name, since, until))
    if scope_name == "all":
        out |= await breakdown(conn)
    return out


_NAMES = {
    "jnt:": "SELECT code AS key, name FROM bureau WHERE code = ANY($1::text[])",
    "jntp:": "SELECT DISTINCT province AS key, province_name AS name FROM bureau"
             " WHERE province = ANY($1::text[])",
}


async def breakdown(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """All-time figures per province and per bureau (only those with joint action), the
    busiest first, named from the registry: ``by_province`` and ``by_bureau``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key, prefix in (("by_province", "jntp:"), ("by_bureau", "jnt:")):
        sums = await counters.all_time_by_prefix(conn, prefix, METRICS)
        names = {r["key"]: r["name"] for r in await conn.fetch(_NAMES[prefix], list(sums))}
        found = [{"code": k, "name": names.get(k)} | _short(v) for k, v in sums.items()]
        out[key] = sorted(found, key=lambda r: (-sum(r[m] for m in SHORT), r["code"]))
    return out


SHORT = tuple(m.removeprefix("joint_") for m in METRICS)


def _short(counts: dict[str, int]) -> dict[str, int]:
    return {m.removeprefix("joint_"): counts.get(m, 0) for m in METRICS}
