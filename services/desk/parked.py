"""Parked events older than a threshold: an event whose predecessor never came.

Each one leaves its request behind at the requester's desk; ``python -m services.desk
parked --older-than 60`` lists them (exit 1 when there are any, for an alert), and the
missing predecessor is usually found with ``dead-letters list``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg


async def older_than(
    conn: asyncpg.Connection, age: dt.timedelta, now: dt.datetime
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT p.request_id, p.seq, p.parked_at,"
        " (SELECT r.last_seq FROM request r WHERE r.id = p.request_id) AS applied_seq"
        " FROM parked_event p WHERE p.parked_at <= $1 ORDER BY p.parked_at", now - age)
    return [{"request_id": str(r["request_id"]), "seq": r["seq"],
             "waiting_for_seq": (r["applied_seq"] or 0) + 1,
             "parked_at": r["parked_at"].isoformat(),
             "age_seconds": int((now - r["parked_at"]).total_seconds())} for r in rows]
