"""Bus fuzzing: Hypothesis-made malformed messages (wrong types, missing fields, huge
strings, bad encodings, unknown versions) published to every queue the hub and a desk
consume. None crashes a consumer, none is lost: each is handled (a mutation that happens
to be valid) or reaches its queue's dead-letter queue with a reason."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import routing
from protocol.v1 import RegistryRequested, RequestEvent, RequestEventRecorded
from tests.integration.test_bus import create_and_deliver
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

PER_QUEUE = int(os.environ.get("XIECHA_BUS_FUZZ_PER_QUEUE", "25"))
"""Malformed messages per queue; `make chaos` raises it."""
NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
"""The message id in a fuzzed body, replaced by the id it is published with."""
VALID: list[dict[str, Any]] = [json.loads(m.model_dump_json()) | {"message_id": PLACEHOLDER}
                               for m in (
    RegistryRequested(correlation_id="f", sender="desk.zj", recipient="hub",
                      body={"have_version": 0}),
    RequestEventRecorded(correlation_id="f", sender="330110", recipient="hub", body={
        "event_id": uuid.uuid4(), "request_id": uuid.uuid4(), "event_type": "replied",
        "requester": "330110", "recipient": "510107", "occurred_at": NOW}),
    RequestEvent(correlation_id="f", sender="510107", recipient="330110", body={
        "request_id": uuid.uuid4(), "event_id": uuid.uuid4(), "seq": 2, "occurred_at": NOW,
        "bureau": "510107", "actor": "x", "state": "accepted", "due_date": NOW.date(),
        "change": {"event": "accepted"}}),
)]
JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                 st.text(max_size=50), st.just("长" * 200_000), st.lists(st.integers()),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@st.composite
def malformed(draw: st.DrawFn) -> bytes:
    """One malformed message body."""
    base = json.loads(json.dumps(draw(st.sampled_from(VALID))))
    target = base if draw(st.booleans()) else base["body"]
    key = draw(st.sampled_from(sorted(target)))
    match draw(st.sampled_from(["drop", "retype", "version", "bytes", "huge", "not_object"])):
        case "drop" if key != "message_id":  # without one it would get a fresh one: untraceable
            del target[key]
        case "retype" | "drop":
            target[key] = draw(JUNK)
        case "version":
            base["schema_version"] = draw(st.integers(min_value=2, max_value=2**40))
        case "huge":
            target[key] = "x" * draw(st.integers(100_000, 400_000))
        case "not_object":
            return json.dumps(draw(JUNK)).encode()
        case _:
            return draw(st.binary(max_size=200)) + b"\xff\xfe"  # never valid UTF-8 JSON
    return json.dumps(base, ensure_ascii=draw(st.booleans())).encode()


def generated(count: int) -> list[bytes]:
    """``count`` distinct examples, the same on every run (derandomized)."""
    found: dict[bytes, None] = {}

    @settings(max_examples=count * 3, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(malformed())
    def collect(body: bytes) -> None:
        found.setdefault(body)

    collect()
    return list(found)[:count]


@pytest_asyncio.fixture(loop_scope="session")
async def channel(system: System) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(system.scratch.amqp_url)
    yield await connection.channel(publisher_confirms=True)
    await connection.close()


async def test_malformed_messages_are_never_lost_nor_crash_a_consumer(
    system: System, channel: aio_pika.abc.AbstractChannel
) -> None:
    queues = {routing.HUB_EVENTS_QUEUE: system.hub_dsn,
              routing.HUB_UNROUTABLE_QUEUE: system.hub_dsn,
              routing.desk_inbox_queue("zj"): system.desks["zj"].settings.dsn,
              routing.desk_registry_queue("zj"): system.desks["zj"].settings.dsn}
    bodies = generated(PER_QUEUE * 4)
    sent: dict[str, list[str]] = {q: [] for q in queues}
    for i, body in enumerate(bodies):
        queue = list(queues)[i % len(queues)]
        message_id = str(uuid.uuid4())
        body = body.replace(PLACEHOLDER.encode(), message_id.encode())
        await channel.default_exchange.publish(
            aio_pika.Message(body, message_id=message_id), queue)
        sent[queue].append(message_id)

    async def accounted() -> bool:
        for queue, dsn in queues.items():
            if await missing(channel, queue, dsn, sent[queue]):
                return False
        return True

    await eventually(accounted, within=120 * max(1, PER_QUEUE // 25),
                     what="every fuzzed message handled or dead")
    codes = [code for seen in DEAD.values() for code in seen.values()]
    print(f"fuzzed {len(bodies)}: dead-lettered {len(codes)}"
          f" ({ {c: codes.count(c) for c in sorted(set(codes))} }),"
          f" handled {len(bodies) - len(codes)}")
    # and every consumer still works
    await create_and_deliver(system)


DEAD: dict[str, dict[str, str]] = {}
"""Dead letters seen so far per queue: message id -> error code."""


async def missing(channel: aio_pika.abc.AbstractChannel, queue: str, dsn: str,
                  ids: list[str]) -> list[str]:
    dlq = await channel.get_queue(routing.dead_letter_queue(queue))
    seen = DEAD.setdefault(queue, {})
    while (letter := await dlq.get(no_ack=True, fail=False)) is not None:
        code = (letter.headers or {}).get("x-xiecha-error-code")
        assert code and (letter.headers or {}).get("x-xiecha-error-reason") is not None
        seen[letter.message_id or ""] = str(code)
    rest = [i for i in ids if i not in seen]
    if not rest:
        return []
    conn = await asyncpg.connect(dsn)
    try:
        handled = {str(r[0]) for r in await conn.fetch(
            "SELECT message_id FROM processed_message WHERE message_id = ANY($1::uuid[])",
            [i for i in rest])}
    finally:
        await conn.close()
    return [i for i in rest if i not in handled]
