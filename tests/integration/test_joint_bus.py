"""Joint-case messages on the real broker: repeats made once, a command the case no longer
allows refused back to its sender, forgeries dead-lettered with their reason, hub records
counted once."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import aio_pika
import pytest

from protocol import routing
from protocol.v1.files import encode_chunk
from protocol.v1.messages import JointCommand, JointEvent, JointFileChunk, JointRecorded, Message
from tests import evidence
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

LEAD, GD, FORGER = "330110", "440106", "510107"


async def send(system: System, msg: Message) -> None:
    """As the desk (or hub) serving the message's sender, with its user-id."""
    exchange, key = routing.route(msg.sender, msg.recipient, msg.type)
    await system.send(exchange, key, msg.model_dump_json().encode(), str(msg.message_id))


async def dead_letter(ch: aio_pika.abc.AbstractChannel, region: str) -> Any:
    q = await ch.get_queue(routing.dead_letter_queue(routing.desk_inbox_queue(region)),
                           ensure=False)

    async def one() -> Any:
        return await q.get(no_ack=True, fail=False)

    return await eventually(one, what=f"a dead letter at {region}")


async def opened(system: System) -> tuple[str, str, str]:
    """A case led by Yuhang with Guangdong invited, seen on both desks."""
    zj, gd = system.desks["zj"], system.desks["gd"]
    lead, g = await zj.investigator(LEAD), await gd.investigator(GD)
    status, case = await system.call("POST", zj.url("/v1/joint"), lead, json={
        "title": "案", "subjects": [{"merchant_name": "某公司"}], "legal_basis": "法",
        "aim": "查", "members": [GD]})
    assert status == 201, case

    async def seen() -> bool:
        return (await system.call("GET", gd.url(f"/v1/joint/{case['id']}"), g))[0] == 200

    await eventually(seen, what="invitation")
    return case["id"], lead, g


async def timeline(system: System, cid: str, token: str) -> list[str]:
    _, case = await system.call("GET", system.desks["zj"].url(f"/v1/joint/{cid}"), token)
    return [e["event"] for e in case["timeline"]]


async def test_a_repeated_command_is_made_once_and_a_late_one_refused_to_its_sender(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    cid, lead, g = await opened(system)
    body = {"case_id": cid, "command_id": uuid.uuid4(), "issued_at": dt.datetime.now(dt.UTC),
            "actor": "广东", "change": {"event": "accepted"}}
    for _ in range(3):  # three messages, one command
        await send(system, JointCommand(correlation_id="rep", sender=GD, recipient=LEAD,
                                         body=body))

    async def accepted() -> list[str] | None:
        events = await timeline(system, cid, lead)
        return events if "accepted" in events else None

    await eventually(accepted, what="accepted")
    late = JointCommand(correlation_id="late", sender=GD, recipient=LEAD, body=body | {
        "command_id": uuid.uuid4(), "change": {"event": "declined", "reason": "改主意"}})
    await send(system, late)

    async def told() -> Any:
        _, case = await system.call("GET", system.desks["gd"].url(f"/v1/joint/{cid}"), g)
        return case["refused"]

    [refusal] = await eventually(told, what="refusal at the member's desk")
    assert (refusal["event"], refusal["code"]) == ("declined", "illegal_transition")
    assert await timeline(system, cid, lead) == ["opened", "invited", "accepted"]

    # a command from a bureau outside the case is dead-lettered, not answered
    stranger = JointCommand(correlation_id="x", sender=FORGER, recipient=LEAD, body=body | {
        "command_id": uuid.uuid4()})
    await send(system, stranger)
    letter = await dead_letter(channel, "zj")
    assert letter.headers["x-xiecha-error-code"] == "forbidden"


async def test_an_event_not_from_the_lead_is_dead_lettered(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    cid, _, g = await opened(system)
    _, copy = await system.call("GET", system.desks["gd"].url(f"/v1/joint/{cid}"), g)
    forged_case = {"header": {"title": "伪", "subjects": [{"merchant_name": "某"}],
                              "legal_basis": "法", "aim": "查", "lead": FORGER,
                              "coordinator": "冒充者"},
                   "state": "closed", "members": [{"bureau": GD, "status": "accepted"}]}
    forged = JointEvent(correlation_id="forged", sender=FORGER, recipient=GD, body={
        "case_id": cid, "event_id": uuid.uuid4(), "seq": 99,
        "occurred_at": dt.datetime.now(dt.UTC), "bureau": FORGER, "actor": "冒充者",
        "change": {"event": "noted", "text": "结案"}, "case": forged_case})
    await send(system, forged)
    letter = await dead_letter(channel, "gd")
    assert letter.headers["x-xiecha-error-code"] == "forbidden"
    _, after = await system.call("GET", system.desks["gd"].url(f"/v1/joint/{cid}"), g)
    assert (after["state"], after["seq"], after["title"]) == ("open", copy["seq"], "案")


async def test_the_hub_counts_a_repeated_record_once(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    record = {"event_id": uuid.uuid4(), "case_id": uuid.uuid4(), "metric": "joint_outcome",
              "bureau": "440305", "occurred_at": dt.datetime(2026, 2, 3, 10, tzinfo=dt.UTC),
              "count": 4}
    for _ in range(3):
        await send(system, JointRecorded(correlation_id="dup", sender=LEAD, recipient="hub",
                                          body=record))
    url = system.hub_url("/v1/stats?bureau=440305&from=2026-02-03&to=2026-02-03")

    async def counted() -> Any:
        _, s = await system.call("GET", url)
        return s if s["joint"]["period"]["outcome"] else None

    await eventually(counted, what="counted")
    await opened(system)  # let any further copies drain first
    _, stats = await system.call("GET", url)
    assert stats["joint"]["period"]["outcome"] == 4
    _, province = await system.call("GET", system.hub_url(
        "/v1/stats?province=44&from=2026-02-03&to=2026-02-03"))
    assert province["joint"]["period"]["outcome"] == 4


async def test_a_members_file_damaged_on_the_way_is_refused_back_not_shared(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    cid, lead, g = await opened(system)
    gd = system.desks["gd"]
    await system.call("POST", gd.url(f"/v1/joint/{cid}/accept"), g)

    async def joined() -> bool:
        return "accepted" in await timeline(system, cid, lead)

    await eventually(joined, what="accepted")
    data = evidence.png()
    meta = {"file_id": uuid.uuid4(), "name": "照片.png", "media_type": "image/png",
            "size": len(data), "sha256": hashlib.sha256(b"other bytes").hexdigest(),
            "shared_by": GD, "uploaded_by": "广东"}
    await send(system, JointFileChunk(correlation_id="bad", sender=GD, recipient=LEAD, body={
        "case_id": cid, "file": meta, "idx": 0, "data": encode_chunk(data)}))

    async def told() -> Any:
        _, case = await system.call("GET", gd.url(f"/v1/joint/{cid}"), g)
        return case["refused"]

    [refusal] = await eventually(told, what="refusal at the member's desk")
    assert (refusal["event"], refusal["code"]) == ("evidence_shared", "checksum_mismatch")
    _, at_lead = await system.call("GET", system.desks["zj"].url(f"/v1/joint/{cid}"), lead)
    assert [e["status"] for e in at_lead["evidence"]] == ["failed"]
    assert "evidence_shared" not in [e["event"] for e in at_lead["timeline"]]
