"""The accounting after the chaos: every side's database against a recount from the rows.

For each request the API accepted: stored exactly once at the recipient's desk, delivered,
accepted and replied once there and at home, the reply recorded at home; no other request
anywhere (a create that was retried must not have made a second one); no timeline entry
doubled (by type or by sequence number); no outbox row, set-aside row or parked event left;
no dead letter; every message queue empty; the hub's counted events equal to the home
timelines' entries and its figures (all time, overall and per bureau) equal to the recount.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg

from services.common.rabbit_admin import RabbitAdmin
from tests.chaos.installation import VHOST, Installation, region_of
from tests.chaos.traffic import Planned

ONCE = ("created", "sent", "delivered", "accepted", "replied")
"""Timeline entries every answered request has exactly once, at home and at the hub."""
AT_RECIPIENT = ("delivered", "accepted", "replied")


@dataclass
class Accounts:
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    """Outbox rows, parked events, dead letters, queued messages, hub mismatches."""

    @property
    def lost_requests(self) -> int:
        """Requests with anything missing (an entry of ``lost`` starts with its id)."""
        return len({x.split()[0] for x in self.lost})

    @property
    def duplicated_requests(self) -> int:
        return len({x.split()[0] for x in self.duplicated})

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.leftovers)


async def rows(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


TIMELINE = ("SELECT r.id::text AS id, r.state, r.reply IS NOT NULL AS has_reply, "
            + ", ".join(f"count(*) FILTER (WHERE e.type = '{t}') AS {t}" for t in ONCE)
            + " FROM request r LEFT JOIN request_event e ON e.request_id = r.id"
            " WHERE r.id = ANY($1::uuid[]) GROUP BY r.id")


async def check_side(acc: Accounts, dsn: str, ids: list[str], types: tuple[str, ...],
                     where: str) -> None:
    """Each of ``ids`` once at this desk, replied, each of ``types`` on its timeline once."""
    found = {r["id"]: r for r in await rows(dsn, TIMELINE, ids)}
    acc.lost += [f"{i} missing at {where}" for i in ids if i not in found]
    for i, r in found.items():
        if r["state"] != "replied" or not r["has_reply"]:
            acc.lost.append(f"{i} {r['state']} at {where} (reply stored: {r['has_reply']})")
        for t in types:
            if r[t] != 1:
                (acc.duplicated if r[t] > 1 else acc.lost).append(f"{i} {t} x{r[t]} at {where}")


async def check_desk(acc: Accounts, region: str, dsn: str, known: set[str]) -> None:
    """No request this desk's traffic did not account for; no doubled entry; nothing left."""
    extra = await rows(dsn, "SELECT id::text AS id, requester FROM request"
                            " WHERE id <> ALL($1::uuid[])", list(known))
    acc.duplicated += [f"{r['id']} from {r['requester']} unaccounted at desk-{region}"
                       for r in extra]
    doubled = await rows(dsn, "SELECT request_id::text AS id, seq, count(*) AS n"
                              " FROM request_event WHERE seq IS NOT NULL"
                              " GROUP BY request_id, seq HAVING count(*) > 1")
    acc.duplicated += [f"{r['id']} seq {r['seq']} x{r['n']} at desk-{region}" for r in doubled]
    for table in ("outbox", "outbox_failed", "parked_event"):
        n = (await rows(dsn, f"SELECT count(*) AS n FROM {table}"))[0]["n"]
        if n:
            acc.leftovers.append(f"desk-{region}: {n} rows in {table}")


async def queued(inst: Installation) -> dict[str, int]:
    """Messages in each non-empty queue (ready and unacknowledged)."""
    queues: Any = await RabbitAdmin(inst.rabbit.admin).get(f"queues/{quote(VHOST, safe='')}")
    return {q["name"]: q["messages"] for q in queues if q.get("messages")}


async def check_broker(acc: Accounts, inst: Installation) -> None:
    """Nothing in any queue: no dead letter, no message waiting or in a retry tier."""
    acc.leftovers += [f"queue {name}: {n} messages" for name, n in (await queued(inst)).items()]


Event = tuple[str, str, str]
"""(request id, event id, type) of a timeline entry."""


async def check_hub(acc: Accounts, inst: Installation, session: aiohttp.ClientSession,
                    planned: dict[str, Planned], home: list[Event]) -> None:
    """The hub counted exactly the home timelines' entries, and its figures agree."""
    counted = {(r["id"], r["t"]) for r in await rows(
        inst.dsns["hub"], "SELECT event_id::text AS id, event_type AS t FROM counted_event"
                          " WHERE request_id = ANY($1::uuid[])", list(planned))}
    for table in ("outbox", "outbox_failed"):
        n = (await rows(inst.dsns["hub"], f"SELECT count(*) AS n FROM {table}"))[0]["n"]
        if n:
            acc.leftovers.append(f"hub: {n} rows in {table}")
    expected = {(e, t) for _, e, t in home}
    if counted != expected:
        acc.leftovers.append(f"hub counted {len(counted)} events, home timelines hold"
                             f" {len(expected)} ({len(counted - expected)} extra,"
                             f" {len(expected - counted)} missing)")
    await compare_figures(acc, session, f"{inst.hub.url}/v1/stats", "all",
                          Counter(t for _, _, t in home))
    for bureau in sorted({p.recipient for p in planned.values()}):
        mine = Counter(t for r, _, t in home if planned[r].recipient == bureau)
        await compare_figures(acc, session, f"{inst.hub.url}/v1/stats?bureau={bureau}",
                              "as_recipient", mine)


async def compare_figures(acc: Accounts, session: aiohttp.ClientSession, url: str,
                          part: str, expected: Counter[str]) -> None:
    async with session.get(url) as resp:
        body = await resp.json()
    figures = body.get(part, body)
    figures = figures.get("all_time", figures)
    got = {t: figures.get(t, 0) for t in ONCE}
    if got != {t: expected.get(t, 0) for t in ONCE}:
        acc.leftovers.append(f"hub figures {url}: {got} != recount {dict(expected)}")


async def account(inst: Installation, session: aiohttp.ClientSession,
                  planned: dict[str, Planned]) -> Accounts:
    acc = Accounts()
    home_events: list[Event] = []
    for region, dsn in ((r, inst.dsns[r]) for r in inst.desks):
        home = [i for i, p in planned.items() if region_of(p.requester) == region]
        there = [i for i, p in planned.items() if region_of(p.recipient) == region]
        await check_side(acc, dsn, home, ONCE, f"home desk-{region}")
        await check_side(acc, dsn, there, AT_RECIPIENT, f"recipient desk-{region}")
        await check_desk(acc, region, dsn, set(planned))
        home_events += [(r["rid"], r["eid"], r["type"]) for r in await rows(
            dsn, "SELECT request_id::text AS rid, event_id::text AS eid, type"
                 " FROM request_event WHERE request_id = ANY($1::uuid[])"
                 " AND type = ANY($2::text[])", home, list(ONCE))]
    await check_broker(acc, inst)
    await check_hub(acc, inst, session, planned, home_events)
    return acc
