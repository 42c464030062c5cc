"""Every figure of the statistics feed from real events: requests worked through the desks
(the deadline watch on a hand-moved clock) and hand-made events in any order, each
value computed by hand below."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest

from protocol import routing
from protocol.v1 import RequestEventRecorded
from services.desk.app import WATCH
from services.desk.requests.deadlines import DeadlineWatch
from services.hub.answers import Answers
from services.hub.api import ANSWERS
from tests.support import Clock, System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU = "330110", "510107"
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 2 Nov 2026, 10:00 in China
REPLY = {"findings": "已核实。", "answers": [{"question_id": "q1", "answer": "是"}]}


class Desks:
    """Yuhang (zj) asks Wuhou (sc); the steps of one test, on the module's clock."""

    def __init__(self, system: System, clock: Clock, a: str, b: str) -> None:
        self.system, self.clock, self.a, self.b = system, clock, a, b

    async def create(self) -> str:
        zj = self.system.desks["zj"]
        status, req = await self.system.call("POST", zj.url("/v1/requests"), self.a,
                                             json=new_request(WUHOU))
        assert status == 201 and req["due_date"] == "2026-11-09", req  # 5 working days
        await self.state(req["id"], "delivered")
        return str(req["id"])

    async def b_does(self, rid: str, action: str, body: Any = None) -> None:
        sc = self.system.desks["sc"]
        status, out = await self.system.call(
            "POST", sc.url(f"/v1/requests/{rid}/{action}"), self.b, json=body)
        assert status == 200, out

    async def a_does(self, rid: str, action: str, body: Any = None) -> None:
        zj = self.system.desks["zj"]
        status, out = await self.system.call(
            "POST", zj.url(f"/v1/requests/{rid}/{action}"), self.a, json=body)
        assert status == 202, out

    async def state(self, rid: str, state: str, field: str = "state") -> None:
        async def both() -> bool:
            views = [await self.system.call("GET", d.url(f"/v1/requests/{rid}"), t)
                     for d, t in ((self.system.desks["zj"], self.a),
                                  (self.system.desks["sc"], self.b))]
            return all(s == 200 and v[field] == state for s, v in views)
        await eventually(both, what=f"{rid} {field} {state} on both desks")

    def on(self, day: int, hour: int = 10) -> None:
        """November ``day`` 2026 at ``hour`` o'clock in China."""
        self.clock.now = dt.datetime(2026, 11, day, hour - 8, 0, tzinfo=dt.UTC)


async def stats(system: System, query: str) -> dict[str, Any]:
    status, body = await system.call("GET", system.hub_url(f"/v1/stats?{query}"))
    assert status == 200, body
    return dict(body)


async def hub_shows(system: System, query: str, what: str, check: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body = await stats(system, query)
        return body if check(body) else None
    return dict(await eventually(probe, what=what))


async def test_every_figure_from_requests_worked_through_the_desks(
    clocked_system: System, clock: Clock
) -> None:
    zj, sc = clocked_system.desks["zj"], clocked_system.desks["sc"]
    d = Desks(clocked_system, clock, await zj.investigator(YUHANG),
              await sc.investigator(WUHOU))
    watch: DeadlineWatch = zj.server.app[WATCH]
    wuhou = f"bureau={WUHOU}"

    # Monday 2 November: three requests, all due Monday 9 November
    d.on(2)
    a, b, c = await d.create(), await d.create(), await d.create()
    # A is accepted at once with a later date, which the requester agrees to
    await d.b_does(a, "accept", {"proposed_due_date": "2026-11-20"})
    await d.state(a, "2026-11-20", "proposed_due_date")
    await d.a_does(a, "agree-due-date")
    await d.state(a, "2026-11-20", "due_date")

    # Tuesday 10 November: B and C are past due; the watch marks them overdue
    d.on(10)
    assert await watch.tick() == 2
    await hub_shows(clocked_system, wuhou, "two overdue",
                    lambda s: s["as_recipient"]["all_time"]["overdue_now"] == 2)

    # Wednesday 11 November: B accepted 9 days after it was created (not within 7)
    d.on(11)
    await d.b_does(b, "accept")
    # Thursday 12 November: B answered late (10 days, 8 working days) and rated 2; C
    # withdrawn: neither is overdue any more
    d.on(12)
    await d.b_does(b, "reply", REPLY)
    await d.state(b, "replied")
    await d.a_does(b, "close", {"rating": 2})
    await d.a_does(c, "withdraw", {"note": "撤回"})
    # Monday 16 November: A answered by its agreed date (14 days, 10 working days), rated 4
    d.on(16)
    await d.b_does(a, "reply", REPLY)
    await d.state(a, "replied")
    await d.a_does(a, "close", {"rating": 4})
    await d.state(a, "closed")
    await d.state(b, "closed")

    body = await hub_shows(clocked_system, wuhou, "all counted", lambda s: (
        s["as_recipient"]["all_time"]["closed"] == 2
        and s["as_recipient"]["all_time"]["withdrawn"] == 1))
    figures = body["as_recipient"]["all_time"]
    expected = {
        "requests": 3, "accepted": 2, "replied": 2, "completed_checks": 2,
        "accepted_within_7_days_rate": 0.5,  # A at once, B after 9 days
        "on_time_rate": 0.5,  # A by its (agreed) date, B late
        "average_turnaround_days": 12.0,  # (14 + 10) / 2
        "median_turnaround_working_days": 8,  # of {8, 10}: the first reaching half
        "p90_turnaround_working_days": 10,
        "replied_with_agreed_date": 1, "agreed_date_rate": 1.0,  # A only
        "ratings": 2, "average_rating": 3.0,  # (4 + 2) / 2
        "overdue_now": 0,  # B answered, C withdrawn
    }
    assert {k: figures[k] for k in expected} == expected
    assert figures["rating_counts"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    # the same in November as a period, and in the by-bureau slice and its CSV
    period = (await stats(clocked_system, f"{wuhou}&from=2026-11-01&to=2026-11-30"))
    assert {k: period["as_recipient"]["period"][k] for k in expected} == expected
    query = "by=bureau&role=recipient&from=2026-11-01&to=2026-11-30"
    _, sl = await clocked_system.call("GET", clocked_system.hub_url(f"/v1/stats/slices?{query}"))
    [row] = [r for r in sl["rows"] if r["key"] == WUHOU]
    assert row["month"] == "2026-11"
    assert {k: row[k] for k in expected if k in row} == {
        k: v for k, v in expected.items() if k in row}
    async with clocked_system.http.get(
            clocked_system.hub_url(f"/v1/stats/slices.csv?{query}")) as resp:
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    [line] = [r for r in rows if r["key"] == WUHOU]
    assert (line["median_turnaround_working_days"], line["accepted_within_7_days_rate"],
            line["average_rating"], line["agreed_date_rate"], line["overdue_now"]) == (
        "8", "0.5", "3.0", "1.0", "0")


async def send(system: System, **fields: Any) -> None:
    """An ``event.recorded`` as the recipient's desk publishes it."""
    body = {"event_id": uuid.uuid4(), "requester": "330106", "recipient": "440106",
            "occurred_at": dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC)} | fields
    sender = body["recipient"]
    msg = RequestEventRecorded(correlation_id="figures", sender=sender, recipient="hub",
                               body=body)
    await system.send(routing.HUB_EXCHANGE, routing.hub_key(sender, msg.type),
                      msg.model_dump_json().encode(), str(msg.message_id))


async def test_overdue_now_is_exact_whatever_the_order_events_arrive_in(
    clocked_system: System,
) -> None:
    tianhe = "bureau=440106"
    mark = {"event_type": "reminded", "overdue": True}
    late, early, twice = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # the end of one request arrives before its overdue mark: it never counts
    await send(clocked_system, request_id=early, event_type="replied", overdue=True,
               on_time=False, turnaround_days=9)
    await send(clocked_system, request_id=early, **mark)
    # another is marked twice (two event ids) and not answered yet: it counts once
    await send(clocked_system, request_id=twice, **mark)
    await send(clocked_system, request_id=twice, **mark)
    # a third is marked, then rejected
    await send(clocked_system, request_id=late, **mark)
    await send(clocked_system, request_id=late, event_type="rejected", overdue=True)
    body = await hub_shows(clocked_system, tianhe, "six events counted", lambda s: (
        s["as_recipient"]["all_time"]["reminded"] == 4
        and s["as_recipient"]["all_time"]["rejected"] == 1
        and s["as_recipient"]["all_time"]["replied"] == 1))
    assert body["as_recipient"]["all_time"]["overdue_now"] == 1
    assert body["as_requester"]["all_time"]["overdue_now"] == 0  # 330106 is not in scope
    march = await stats(clocked_system, f"{tianhe}&from=2026-03-10&to=2026-03-10")
    assert march["as_recipient"]["period"]["overdue_now"] == 1  # marked that day
    province = await stats(clocked_system, "province=33")
    assert province["as_requester"]["all_time"]["overdue_now"] == 1


async def test_a_kept_answer_is_served_until_a_counter_moves(clocked_system: System) -> None:
    kept: Answers = clocked_system.hub.app[ANSWERS]
    query = "bureau=440305&from=2026-03-01&to=2026-03-31"
    first = await stats(clocked_system, query)
    hits = kept.hits
    assert await stats(clocked_system, query) == first and kept.hits == hits + 1
    # When an event for that bureau is counted, the next answer has it
    await send(clocked_system, request_id=uuid.uuid4(), event_type="created",
               requester="330106", recipient="440305")
    await hub_shows(clocked_system, query, "the new event", lambda s: (
        s["as_recipient"]["period"]["created"] == first["as_recipient"]["period"]["created"] + 1))
