"""Joint action against the real servers: a lead in Zhejiang, members in Guangdong and
Sichuan (and one on the lead's own desk), a supervising bureau, tasks, shared evidence,
one timeline, a closing with outcomes, and the hub's counts."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests import evidence
from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

LEAD, LOCAL, SC, SUPERVISOR, STRANGER = "330110", "330106", "510107", "330000", "330102"


def case_body(*members: str) -> dict[str, Any]:
    return {
        "title": "某电商平台销售假冒化妆品案",
        "subjects": [{"merchant_name": "杭州某某电子商务有限公司", "platform": "某电商平台"},
                     {"shop_url": "https://shop.example.com/joint-1"}],
        "legal_basis": "《中华人民共和国产品质量法》第三十二条",
        "aim": "查清假冒化妆品的生产、仓储和销售链条",
        "members": list(members), "supervisor": SUPERVISOR, "handling": ["case_only"],
    }


async def signed_in(system: System, province: str) -> str:
    url = system.hub_url(f"/v1/registry?status=signed&province={province}")
    _, reg = await system.call("GET", url)
    return str(sorted(b["code"] for b in reg["bureaus"] if b["level"] == 3)[0])


async def test_a_joint_case_from_invitation_to_closing(system: System) -> None:
    zj, gd, sc = system.desks["zj"], system.desks["gd"], system.desks["sc"]
    GD = await signed_in(system, "44")
    lead, local, sup = (await zj.investigator(LEAD, "组长"), await zj.investigator(LOCAL),
                        await zj.investigator(SUPERVISOR, "省局督办"))
    stranger = await zj.investigator(STRANGER)
    g, s = await gd.investigator(GD, "广东协办"), await sc.investigator(SC, "四川")

    # Given a case led by Yuhang with members in Guangdong, Sichuan and Hangzhou Xihu
    status, case = await system.call("POST", zj.url("/v1/joint"), lead,
                                     json=case_body(GD, SC, LOCAL),
                                     headers={"Idempotency-Key": "joint-1"})
    assert status == 201, case
    cid = case["id"]
    assert case["state"] == "open" and case["your_role"] == "lead"
    assert {m["status"] for m in case["members"]} == {"invited"}
    again, replay = await system.call("POST", zj.url("/v1/joint"), lead,
                                      json=case_body(GD, SC, LOCAL),
                                      headers={"Idempotency-Key": "joint-1"})
    assert (again, replay["id"]) == (201, cid)
    assert (await system.call("GET", zj.url(f"/v1/joint/{cid}"), stranger))[0] == 404

    # the invitations reach the members' desks
    for desk, token in ((gd, g), (sc, s)):
        await eventually(lambda d=desk, t=token: _case(system, d, t, cid), what="invitation")

    # When Guangdong and Xihu accept and Sichuan declines with a reason
    status, body = await system.call("POST", gd.url(f"/v1/joint/{cid}/accept"), g)
    assert status == 202 and body["pending"], body
    assert (await system.call("POST", zj.url(f"/v1/joint/{cid}/accept"), local))[0] == 200
    status, body = await system.call("POST", sc.url(f"/v1/joint/{cid}/decline"), s,
                                     json={"reason": "该商户不在我局辖区"})
    assert status == 202, body
    statuses = {GD: "accepted", SC: "declined", LOCAL: "accepted"}
    await eventually(lambda: _members_are(system, zj, lead, cid, statuses), what="answers")
    await eventually(lambda: _members_are(system, gd, g, cid, statuses), what="gd's copy")

    # and the lead assigns a task to Guangdong, none to the bureau that declined
    task = new_request(assignee=GD)
    status, made = await system.call("POST", zj.url(f"/v1/joint/{cid}/tasks"), lead, json=task)
    assert status == 201, made
    rid = made["request_id"]
    status, refused = await system.call("POST", zj.url(f"/v1/joint/{cid}/tasks"), lead,
                                        json=new_request(assignee=SC))
    assert status == 409 and refused["error"]["code"] == "illegal_transition"

    # which Guangdong answers as any request
    await eventually(lambda: _delivered(system, gd, g, rid), what="task delivered")
    await system.call("POST", gd.url(f"/v1/requests/{rid}/accept"), g)
    status, _ = await system.call("POST", gd.url(f"/v1/requests/{rid}/reply"), g,
                                  json={"findings": "仓库已查封", "answers": []})
    assert status == 200

    async def done() -> Any:
        _, c = await system.call("GET", zj.url(f"/v1/joint/{cid}"), lead)
        return c if c["progress"].get(GD, {}).get("done") == 1 else None

    shown = await eventually(done, what="task answered")
    assert shown["progress"][GD]["pending"] == 0

    # and evidence is shared by the lead (two chunks) and by Guangdong
    big = evidence.pdf(300_000)
    url = zj.url(f"/v1/joint/{cid}/evidence?handling=personal_data")
    status, f1 = await system.call("POST", url, lead, data=big,
                                   headers={"X-Filename": "现场笔录.pdf"})
    assert status == 201, f1
    status, f2 = await system.call("POST", gd.url(f"/v1/joint/{cid}/evidence"), g,
                                   data=evidence.png(), headers={"X-Filename": "仓库.png"})
    assert status == 201 and f2["pending"], f2

    # Then every working desk holds both files, verified, and serves them intact
    wanted = {f1["file_id"]: hashlib.sha256(big).hexdigest(),
              f2["file_id"]: hashlib.sha256(evidence.png()).hexdigest()}
    for desk, token in ((zj, lead), (gd, g), (zj, sup)):
        await eventually(lambda d=desk, t=token: _files_complete(system, d, t, cid, wanted),
                         what="evidence on every desk")
        for fid, digest in wanted.items():
            async with system.http.get(desk.url(f"/v1/joint/{cid}/evidence/{fid}"),
                                       headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200
                assert hashlib.sha256(await r.read()).hexdigest() == digest
                assert r.headers["X-Content-SHA256"] == digest
    _, sc_copy = await system.call("GET", sc.url(f"/v1/joint/{cid}"), s)
    assert sc_copy["evidence"] == []  # it declined: nothing shared reaches it
    _, lead_view = await system.call("GET", zj.url(f"/v1/joint/{cid}"), lead)
    restricted = next(e for e in lead_view["evidence"] if e["file_id"] == f1["file_id"])
    assert restricted["handling"] == ["personal_data"]

    # and the supervisor comments; the lead proposes a closing with outcomes
    assert (await system.call("POST", zj.url(f"/v1/joint/{cid}/comment"), sup,
                              json={"text": "请于月底前结案"}))[0] == 200
    summary = {"findings": "查明生产窝点一处、仓库一处",
               "outcomes": [{"kind": "fine", "bureau": GD, "amount_yuan": 50000,
                             "merchant_name": "广州某某化妆品有限公司"},
                            {"kind": "referral_police", "bureau": LEAD},
                            {"kind": "warning", "bureau": LEAD}]}
    status, closing = await system.call("POST", zj.url(f"/v1/joint/{cid}/close"), lead,
                                        json=summary)
    assert status == 200 and closing["state"] == "closing", closing
    await eventually(lambda: _state_is(system, gd, g, cid, "closing"), what="closing seen")

    # which both working members confirm, and the case closes
    assert (await system.call("POST", gd.url(f"/v1/joint/{cid}/confirm"), g))[0] == 202
    assert (await system.call("POST", zj.url(f"/v1/joint/{cid}/confirm"), local))[0] == 200
    await eventually(lambda: _state_is(system, zj, lead, cid, "closed"), what="closed")
    final_gd = await eventually(lambda: _state_is(system, gd, g, cid, "closed"),
                                what="closed at gd")

    # and every desk shows the same timeline in the same order
    final_zj = await _case(system, zj, lead, cid)
    assert final_zj is not None
    entries = [(e["seq"], e["event_id"], e["event"]) for e in final_zj["timeline"]]
    assert [e[0] for e in entries] == list(range(1, len(entries) + 1))
    assert [(e["seq"], e["event_id"], e["event"]) for e in final_gd["timeline"]] == entries
    final_sc = await _case(system, sc, s, cid)
    assert final_sc is not None
    assert set((e["seq"], e["event_id"], e["event"]) for e in final_sc["timeline"]) <= set(entries)
    assert [e[2] for e in entries].count("evidence_shared") == 2
    assert "commented" in [e[2] for e in entries]

    # and the hub counted each thing once, per bureau and province (counted concurrently:
    # wait until the figures match, then see they stay so)
    everything = {"opened": 1, "closed": 1, "member_joined": 2, "member_declined": 1,
                  "task_assigned": 1, "outcome": 3}
    await _hub_counts(system, "", everything)
    await _hub_counts(system, f"?bureau={GD}", {
        "opened": 0, "closed": 0, "member_joined": 1, "member_declined": 0,
        "task_assigned": 1, "outcome": 1})
    await _hub_counts(system, "?province=33", {
        "opened": 1, "closed": 1, "member_joined": 1, "member_declined": 0,
        "task_assigned": 0, "outcome": 2})
    await _hub_counts(system, "", everything)


async def test_leaving_needs_the_leads_agreement(system: System) -> None:
    zj, gd = system.desks["zj"], system.desks["gd"]
    GD = await signed_in(system, "44")
    lead, g, local = (await zj.investigator(LEAD), await gd.investigator(GD),
                      await zj.investigator(LOCAL))
    _, case = await system.call("POST", zj.url("/v1/joint"), lead, json=case_body(GD, LOCAL))
    cid = case["id"]
    await eventually(lambda: _case(system, gd, g, cid), what="invitation")
    # an invitee sees who is in the case, not what the case holds, until it accepts
    note = {"text": "线人提供的地址", "handling": ["personal_data"]}
    assert (await system.call("POST", zj.url(f"/v1/joint/{cid}/note"), lead, json=note))[0] == 200
    invitee = await _case(system, zj, local, cid)
    assert invitee is not None
    assert [e["event"] for e in invitee["timeline"]] == ["opened", "invited"]
    assert invitee["actions"] == ["accept", "decline"]
    status, early = await system.call("POST", gd.url(f"/v1/joint/{cid}/leave"), g,
                                      json={"reason": "人手不足"})
    assert status == 409 and early["error"]["code"] == "illegal_transition"  # not a member yet
    await system.call("POST", gd.url(f"/v1/joint/{cid}/accept"), g)
    await eventually(lambda: _members_are(system, gd, g, cid, {GD: "accepted"}), what="joined")

    async def caught_up() -> Any:  # the earlier timeline follows the acceptance
        c = await _case(system, gd, g, cid)
        return c and [e["event"] for e in c["timeline"]] == ["opened", "invited", "noted",
                                                              "accepted"]

    await eventually(caught_up, what="timeline caught up")
    assert (await system.call("POST", gd.url(f"/v1/joint/{cid}/leave"), g,
                              json={"reason": "人手不足"}))[0] == 202
    await eventually(lambda: _members_are(system, zj, lead, cid, {GD: "leaving"}),
                     what="leave asked")
    status, bad = await system.call("POST", gd.url(f"/v1/joint/{cid}/agree-leave"), g,
                                    json={"bureau": GD})
    assert status == 403 and bad["error"]["code"] == "forbidden"
    assert (await system.call("POST", zj.url(f"/v1/joint/{cid}/agree-leave"), lead,
                              json={"bureau": GD}))[0] == 200
    await eventually(lambda: _members_are(system, gd, g, cid, {GD: "left"}), what="left")


async def test_bad_input_is_a_4xx(system: System) -> None:
    zj = system.desks["zj"]
    lead = await zj.investigator(LEAD)
    status, body = await system.call("POST", zj.url("/v1/joint"), lead,
                                     json={**case_body(), "members": []})
    assert status == 422 and body["error"]["code"] == "validation_failed"
    status, body = await system.call("POST", zj.url("/v1/joint"), lead,
                                     json={**case_body("999999")})
    assert status == 422 and body["error"]["code"] == "unknown_bureau"
    status, body = await system.call("POST", zj.url("/v1/joint/not-a-uuid/accept"), lead)
    assert status == 404
    _, case = await system.call("POST", zj.url("/v1/joint"), lead, json=case_body(SC))
    evidence_url = zj.url(f"/v1/joint/{case['id']}/evidence")
    status, body = await system.call("POST", evidence_url, lead, data=b"MZ\x90\x00 not a pdf",
                                     headers={"X-Filename": "a.pdf"})
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    status, body = await system.call("POST", evidence_url + "?handling=secret", lead,
                                     data=evidence.png(), headers={"X-Filename": "a.png"})
    assert status == 400 and body["error"]["code"] == "bad_query"
    stranger = await zj.investigator(STRANGER)
    status, body = await system.call("POST", evidence_url, stranger, data=evidence.png(),
                                     headers={"X-Filename": "a.png"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await system.call("POST", zj.url(f"/v1/joint/{case['id']}/close"), lead,
                                     json={"findings": "x", "outcomes": [
                                         {"kind": "fine", "bureau": SC, "amount_yuan": 1}]})
    assert status == 422 and body["error"]["code"] == "validation_failed"  # SC never joined


async def _hub_counts(system: System, query: str, want: dict[str, int]) -> None:
    seen: list[Any] = []

    async def counted() -> bool:
        _, st = await system.call("GET", system.hub_url(f"/v1/stats{query}"))
        seen.append(st["joint"]["all_time"])
        return bool(seen[-1] == want)

    try:
        await eventually(counted, what=f"hub counts {query}")
    except AssertionError:
        raise AssertionError(f"hub counts {query}: {seen[-1]} != {want}") from None


async def _case(system: System, desk: Any, token: str, cid: str) -> dict[str, Any] | None:
    status, body = await system.call("GET", desk.url(f"/v1/joint/{cid}"), token)
    return body if status == 200 else None


async def _members_are(system: System, desk: Any, token: str, cid: str,
                       want: dict[str, str]) -> bool:
    case = await _case(system, desk, token, cid)
    have = {m["bureau"]["code"]: m["status"] for m in case["members"]} if case else {}
    return all(have.get(b) == s for b, s in want.items())


async def _state_is(system: System, desk: Any, token: str, cid: str,
                    state: str) -> dict[str, Any] | None:
    case = await _case(system, desk, token, cid)
    return case if case and case["state"] == state else None


async def _delivered(system: System, desk: Any, token: str, rid: str) -> bool:
    status, _ = await system.call("GET", desk.url(f"/v1/requests/{rid}"), token)
    return status == 200


async def _files_complete(system: System, desk: Any, token: str, cid: str,
                          wanted: dict[str, str]) -> bool:
    case = await _case(system, desk, token, cid)
    have = {e["file_id"]: e["sha256"] for e in case["evidence"]
            if e["status"] == "complete"} if case else {}
    return have == wanted
