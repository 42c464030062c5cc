"""``dead-letters list|show|replay|purge`` of the hub and a desk, run as the operator would."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
import pytest_asyncio

from protocol import routing
from protocol.v1 import RequestEvent, RequestEventRecorded
from services.common.trust import user_of
from tests.integration.test_bus import WUHOU, YUHANG, create_and_deliver
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

TIANHE = "440106"


@pytest_asyncio.fixture(loop_scope="session")
async def channel(system: System) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(system.scratch.amqp_url)
    yield await connection.channel(publisher_confirms=True)
    await connection.close()


async def cli(system: System, service: str, *args: str) -> tuple[int, str]:
    admin = system.scratch.amqp_url  # the operator's broker user: services may not read DLQs
    env = os.environ | {"XIECHA_HUB_AMQP_URL": admin, "XIECHA_DESK_AMQP_URL": admin,
                        "XIECHA_DESK_REGION": "sc", "XIECHA_DESK_PROVINCES": "51"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"services.{service}", "dead-letters", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def dead_letter_event(channel: aio_pika.abc.AbstractChannel, bureau: str,
                            publisher: str) -> str:
    """An event the hub never counted, dead-lettered (as after a long outage)."""
    event = RequestEventRecorded(correlation_id="dl", sender=bureau, recipient="hub", body={
        "event_id": uuid.uuid4(), "request_id": uuid.uuid4(), "event_type": "replied",
        "requester": "330106", "recipient": bureau,
        "occurred_at": dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)})
    dlx = await channel.get_exchange(routing.DEAD_LETTER_EXCHANGE)
    await dlx.publish(aio_pika.Message(
        event.model_dump_json().encode(), message_id=str(event.message_id), type=event.type,
        headers={"x-xiecha-error-code": "retries_exhausted",
                 "x-xiecha-error-reason": "failed for longer than the retry window",
                 "x-xiecha-dead-lettered-at": 1_790_000_000,
                 "x-xiecha-original-user-id": publisher}), routing.HUB_EVENTS_QUEUE)
    return str(event.message_id)


async def replied(system: System, bureau: str) -> Any:
    _, stats = await system.call("GET", system.hub_url(f"/v1/stats?bureau={bureau}"))
    return stats["as_recipient"]["all_time"]["replied"]


async def test_hub_dead_letter_listed_shown_replayed_once(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given an event of Tianhe's that was dead-lettered
    mid = await dead_letter_event(channel, TIANHE, user_of(system.scratch.service_urls["gd"]))
    # When the operator lists the hub's dead letters: it is there with its reason
    status, out = await cli(system, "hub", "list")
    letters = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert status == 0 and [(x["message_id"], x["code"]) for x in letters] == [
        (mid, "retries_exhausted")], out
    assert letters[0]["dead_lettered_at"].startswith("2026-09-21")
    status, out = await cli(system, "hub", "show", mid)
    assert status == 0 and '"event_type":"replied"' in json.loads(out)["body"], out
    # When it is replayed: the hub counts it, and it has left the dead-letter queue
    assert await replied(system, TIANHE) == 0
    status, out = await cli(system, "hub", "replay", mid)
    assert status == 0 and routing.HUB_EVENTS_QUEUE in out, out

    async def counted() -> bool:
        return await replied(system, TIANHE) == 1

    await eventually(counted, what="the replayed event counted")
    assert (await cli(system, "hub", "list"))[1].strip() == ""
    assert (await cli(system, "hub", "replay", mid))[0] == 1


async def test_desk_dead_letters_purged_only_when_confirmed(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given an undecodable message at the Sichuan desk (dead-lettered by its consumer)
    exchange = await channel.get_exchange(routing.DESK_EXCHANGE)
    await exchange.publish(aio_pika.Message(b"\xff not json", message_id="bad-1"),
                           routing.desk_key("510107", "request.submitted"))

    async def listed() -> str:
        status, out = await cli(system, "desk", "list")
        return out if status == 0 and "bad-1" in out else ""

    out = await eventually(listed, within=30, what="the desk's dead letter listed")
    assert json.loads(out)["code"] == "undecodable_message"
    # purge refuses without --yes, then empties the queue
    assert (await cli(system, "desk", "purge"))[0] == 2
    assert "bad-1" in (await cli(system, "desk", "list"))[1]
    assert (await cli(system, "desk", "purge", "--yes"))[1].strip() == "purged 1"
    assert (await cli(system, "desk", "list"))[1].strip() == ""


async def test_an_event_parked_behind_a_lost_one_is_reported(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Given a request delivered at Wuhou, whose decided change #2 was lost on the way
    rid, _ = await create_and_deliver(system)
    now = dt.datetime.now(dt.UTC)
    third = system.signed(RequestEvent(correlation_id="lost", sender=WUHOU, recipient=YUHANG, body={
        "request_id": rid, "actor": "武侯 王五", "bureau": WUHOU, "due_date": dt.date(2027, 1, 29),
        "event_id": uuid.uuid4(), "seq": 3, "state": "replied", "occurred_at": now,
        "change": {"event": "replied", "reply": {"findings": "查无此户"}}}))
    sc_url = system.scratch.service_urls["sc"]  # published as Wuhou's desk, as it would be
    sc_bus = await aio_pika.connect(sc_url)
    exchange = await (await sc_bus.channel()).get_exchange(routing.DESK_EXCHANGE, ensure=False)
    await exchange.publish(aio_pika.Message(third.model_dump_json().encode(),
                                            message_id=str(third.message_id),
                                            user_id=user_of(sc_url)),
                           routing.desk_key(YUHANG, third.type))
    await sc_bus.close()
    # When change #3 arrives it is parked; the report names it and what it waits for
    env = os.environ | {"XIECHA_DESK_DATABASE_URL": system.desks["zj"].settings.dsn}

    async def reported() -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.desk", "parked", "--older-than", "0", env=env,
            stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        return out.decode() if proc.returncode == 1 else ""

    [line] = (await eventually(reported, within=30, what="parked event reported")).splitlines()
    row = json.loads(line)
    assert (row["request_id"], row["seq"], row["waiting_for_seq"]) == (rid, 3, 2)
