"""The desk's gauges read at scrape time: parked events (and the oldest), requests by state."""

from __future__ import annotations

import asyncpg

from services.common.metrics import Metrics
from services.desk.domain.lifecycle import State


async def collect(metrics: Metrics, conn: asyncpg.Connection) -> None:
    row = await conn.fetchrow("SELECT count(*) AS n, coalesce(extract(epoch FROM"
                              " now() - min(parked_at)), 0) AS age FROM parked_event")
    metrics.parked.set(row["n"])
    metrics.parked_age.set(float(row["age"]))
    counts = {r["state"]: r["n"] for r in await conn.fetch(
        "SELECT state, count(*) AS n FROM request GROUP BY state")}
    for state in State:
        metrics.requests.labels(state.value).set(counts.get(state.value, 0))
