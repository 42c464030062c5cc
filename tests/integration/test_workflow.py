"""The whole life of a request across desks: deadlines, information, transfer, partial and
final replies, withdrawal, closing, agreed due dates, handling restrictions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest

from services.desk.domain import calendar
from tests.support import Clock, System, eventually, new_request, refused

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU, JINJIANG, TIANHE = "330110", "510107", "510104", "440106"
# Monday 21 September 2026, 10:00 in China: the Mid-Autumn holiday (25-27) lies ahead.
START = dt.datetime(2026, 9, 21, 2, 0, tzinfo=dt.UTC)




class Case:
    """One request between Yuhang (zj) and a Sichuan bureau, seen from both sides."""

    def __init__(self, system: System, a: str, b: str, rid: str) -> None:
        self.system, self.a, self.b, self.id = system, a, b, rid

    async def home(self) -> Any:
        zj = self.system.desks["zj"]
        return (await self.system.call("GET", zj.url(f"/v1/requests/{self.id}"), self.a))[1]

    async def away(self) -> Any:
        sc = self.system.desks["sc"]
        return (await self.system.call("GET", sc.url(f"/v1/requests/{self.id}"), self.b))[1]

    async def b_does(self, action: str, body: Any = None) -> tuple[int, Any]:
        sc = self.system.desks["sc"]
        return await self.system.call("POST", sc.url(f"/v1/requests/{self.id}/{action}"),
                                      self.b, json=body)

    async def a_does(self, action: str, body: Any = None) -> tuple[int, Any]:
        zj = self.system.desks["zj"]
        return await self.system.call("POST", zj.url(f"/v1/requests/{self.id}/{action}"),
                                      self.a, json=body)

    async def both_in(self, state: str) -> tuple[Any, Any]:
        async def probe() -> tuple[Any, Any] | None:
            h, w = await self.home(), await self.away()
            return (h, w) if h["state"] == w["state"] == state else None
        return await eventually(probe, what=f"both sides {state}")


async def audited(system: System, region: str, rid: str) -> list[tuple[str, str]]:
    """The (bureau, action) rows of the request's audit log at ``region``, except views."""
    conn = await asyncpg.connect(system.desks[region].settings.dsn)
    try:
        rows = await conn.fetch("SELECT bureau, action FROM audit_log WHERE request_id = $1"
                                " AND action <> 'view' ORDER BY id", uuid.UUID(rid))
    finally:
        await conn.close()
    return [(r["bureau"], r["action"]) for r in rows]


async def new_case(system: System, recipient: str = WUHOU, **over: Any) -> Case:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG, "余杭 陈敏"), await sc.investigator(recipient, "川 张静")
    status, req = await system.call("POST", zj.url("/v1/requests"), a,
                                    json=new_request(recipient, **over))
    assert status == 201, req
    case = Case(system, a, b, req["id"])

    async def delivered() -> bool:
        status, body = await system.call("GET", sc.url(f"/v1/requests/{case.id}"), b)
        return status == 200 and body["state"] == "delivered"

    await eventually(delivered, what="delivered")
    # the requester's desk must know it too, or its own steps are refused as too early
    await case.both_in("delivered")
    return case


async def test_due_date_counts_working_days_and_may_only_be_later(clocked_system: System) -> None:
    case = await new_case(clocked_system)
    home = await case.home()
    limit = calendar.DEFAULT_LIMITS["merchant_registration"]
    expected = calendar.due_date(dt.date(2026, 9, 21), limit)
    assert home["due_date"] == expected.due.isoformat() == "2026-09-29"  # 25-27 are holidays
    assert (await case.away())["due_date"] == home["due_date"]
    zj, a = clocked_system.desks["zj"], case.a
    early = await clocked_system.call("POST", zj.url("/v1/requests"), a,
                               json=new_request(WUHOU, due_date="2026-09-24"))
    assert "2026-09-29" in refused(early, 422, "validation_failed")["message"]
    later = await clocked_system.call("POST", zj.url("/v1/requests"), a,
                               json=new_request(WUHOU, due_date="2026-10-30"))
    assert later[0] == 201 and later[1]["due_date"] == "2026-10-30"


async def test_handling_restrictions_travel_with_the_request(clocked_system: System) -> None:
    case = await new_case(clocked_system, handling=["case_only", "no_onward_sharing"])
    assert (await case.away())["handling"] == ["case_only", "no_onward_sharing"]


async def test_reject_with_a_reason(clocked_system: System) -> None:
    case = await new_case(clocked_system)
    status, _ = await case.b_does("reject", {"reason": "subject_not_found", "note": "查无此户"})
    assert status == 200
    home, _ = await case.both_in("rejected")
    assert home["timeline"][-1]["data"] == {"reason": "subject_not_found", "note": "查无此户"}
    refused(await case.b_does("accept"), 409, "illegal_transition")


async def test_information_request_stops_the_clock(clocked_system: System, clock: Clock) -> None:
    case = await new_case(clocked_system)
    assert (await case.b_does("accept"))[0] == 200
    status, _ = await case.b_does("request-info", {"questions": "请提供投诉人联系方式"})
    assert status == 200
    before, _ = await case.both_in("info_requested")
    clock.advance(days=3)  # Thu 24 Sep: the clock stood still for 22, 23, 24 Sep
    try:
        status, body = await case.a_does("provide-info", {"info": "电话 138..."})
        assert status == 202 and body["pending"] is True  # decided at Sichuan's desk
        home, away = await case.both_in("accepted")
    finally:
        clock.advance(days=-3)
    moved = calendar.extend(dt.date.fromisoformat(before["due_date"]), dt.date(2026, 9, 21),
                            dt.date(2026, 9, 24))
    assert home["due_date"] == away["due_date"] == moved.isoformat() == "2026-10-09"
    types = [e["type"] for e in home["timeline"]]
    assert types[-2:] == ["info_requested", "info_provided"]
    assert home["timeline"][-1]["data"]["due_date"] == {"from": before["due_date"],
                                                       "to": "2026-10-09"}


async def test_transfer_to_a_more_competent_bureau(clocked_system: System) -> None:
    case = await new_case(clocked_system)
    gd = clocked_system.desks["gd"]
    c = await gd.investigator(TIANHE, "天河 李娜")
    status, _ = await case.b_does("transfer", {"to": TIANHE, "note": "商户实际在广州"})
    assert status == 200

    async def at_tianhe() -> Any:
        s, r = await clocked_system.call("GET", gd.url(f"/v1/requests/{case.id}"), c)
        return r if s == 200 and r["state"] == "delivered" else None

    there = await eventually(at_tianhe, what="delivered to the new recipient")
    assert there["recipient"]["code"] == TIANHE
    assert [b["code"] for b in there["transferred_from"]] == [WUHOU]

    async def told() -> Any:
        h = await case.home()
        return h if h["state"] == "delivered" and h["recipient"]["code"] == TIANHE else None

    home = await eventually(told, what="requester told")
    assert [e["type"] for e in home["timeline"]][-2:] == ["transferred", "delivered"]
    # the former recipient still sees it, but can no longer act on it
    assert (await case.away())["state"] == "transferred"
    refused(await case.b_does("accept"), 403, "forbidden")
    status, _ = await clocked_system.call("POST", gd.url(f"/v1/requests/{case.id}/accept"), c)
    assert status == 200


async def test_partial_then_final_reply_then_close_with_rating(clocked_system: System) -> None:
    case = await new_case(clocked_system)
    await case.b_does("accept")
    partial = {"findings": "已核实登记信息，经营地址待查。",
               "answers": [{"question_id": "q1", "answer": "是", "confirmed": True}]}
    assert (await case.b_does("partial-reply", partial))[0] == 200
    await case.both_in("partially_replied")
    refused(await case.a_does("close", {"rating": 5}), 409, "illegal_transition")  # not yet
    final = {"findings": "地址一致。",
             "answers": [{"question_id": "q2", "answer": "一致", "confirmed": True}]}
    assert (await case.b_does("reply", final))[0] == 200
    home, _ = await case.both_in("replied")
    assert home["reply"]["findings"] == "地址一致。"
    status, _ = await case.a_does("close", {"rating": 4, "comment": "及时"})
    assert status == 202
    home, away = await case.both_in("closed")
    assert home["rating"] == away["rating"] == 4
    # every step is in the audit log of the desk where it was taken, by whom
    assert await audited(clocked_system, "sc", case.id) == [
        (WUHOU, "accept"), (WUHOU, "partial_reply"), (WUHOU, "reply")]
    assert await audited(clocked_system, "zj", case.id) == [(YUHANG, "create"),
                                                            (YUHANG, "close")]
    types = [e["type"] for e in home["timeline"]]
    assert types.count("partially_replied") == 1 and types[-2:] == ["replied", "closed"]


async def test_withdraw_an_unanswered_request(clocked_system: System) -> None:
    case = await new_case(clocked_system)
    status, _ = await case.a_does("withdraw", {"note": "案件已撤销"})
    assert status == 202
    await case.both_in("withdrawn")
    refused(await case.b_does("accept"), 409, "illegal_transition")
    refused(await case.a_does("withdraw"), 409, "illegal_transition")


async def test_proposed_due_date_agreed(clocked_system: System) -> None:
    case = await new_case(clocked_system)
    status, body = await case.b_does("accept", {"proposed_due_date": "2026-10-16"})
    assert status == 200 and body["proposed_due_date"] == "2026-10-16"

    async def proposed() -> Any:
        h = await case.home()
        return h if h["proposed_due_date"] == "2026-10-16" else None

    await eventually(proposed, what="proposal seen by the requester")
    assert (await case.a_does("agree-due-date"))[0] == 202

    async def agreed() -> Any:
        h, w = await case.home(), await case.away()
        return (h, w) if h["due_date"] == w["due_date"] == "2026-10-16" else None

    home, _ = await eventually(agreed, what="agreed due date on both sides")
    assert home["proposed_due_date"] is None
    assert [e["type"] for e in home["timeline"]][-1] == "due_date_agreed"


RECIPIENT_STEPS = {
    "accept": {"proposed_due_date": "2026-10-16"},
    "reject": {"reason": "subject_not_found", "note": "查无此户"},
    "transfer": {"to": TIANHE, "note": "商户实际在广州"},
    "request-info": {"questions": "请提供投诉人联系方式"},
}
ANSWERS = {"findings": "已登记。", "answers": [{"question_id": "q1", "answer": "是"}]}


async def test_each_party_is_refused_the_others_steps(clocked_system: System) -> None:
    # Valid bodies, in a state where the step is legal: only the party check refuses.
    case = await new_case(clocked_system)
    for action, body in RECIPIENT_STEPS.items():
        refused(await case.a_does(action, body), 403, "forbidden")
    refused(await case.b_does("withdraw", {"note": "案件已撤销"}), 403, "forbidden")
    refused(await case.b_does("remind", {}), 403, "forbidden")
    assert (await case.b_does("accept"))[0] == 200
    await case.both_in("accepted")
    for action in ("partial-reply", "reply"):
        refused(await case.a_does(action, ANSWERS), 403, "forbidden")
    # and nothing changed; only the step that was taken is audited
    home, _ = await case.both_in("accepted")
    assert [e["type"] for e in home["timeline"]][-1] == "accepted"
    assert await audited(clocked_system, "sc", case.id) == [(WUHOU, "accept")]
    assert await audited(clocked_system, "zj", case.id) == [(YUHANG, "create")]
    refused(await case.a_does("no-such-action"), 404, "not_found")
