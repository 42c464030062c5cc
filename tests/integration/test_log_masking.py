"""Personal data never reaches the logs: a bus handler holding complainants' items fails
(a real unique violation from PostgreSQL, an exception that quotes the items), and the
log file shows neither their names, ID numbers nor phone numbers, nor any local variable."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from protocol.v1 import AnyMessage
from protocol.v1.messages import BulkItems
from services.common import topology
from services.common.consumer import Consumer, Outcome
from tests.support import Scratch, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

NAMES, IDS, PHONE = ("欧阳娜娜", "司马懿"), ("11010519491231002X", "330106198506121237"), \
    "13912345678"


@pytest_asyncio.fixture(loop_scope="session")
async def scratch() -> AsyncIterator[tuple[Scratch, asyncpg.Pool]]:
    s = Scratch()
    await s.open()
    pool = await s.pool("desk", "masking")
    yield s, pool
    await pool.close()
    await s.close()


def logged(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def complainants() -> BulkItems:
    items = [{"kind": "complainant", "name": n, "id_number": i} for n, i in zip(NAMES, IDS,
                                                                               strict=True)]
    return BulkItems(correlation_id="masking", sender="desk.zj", recipient="desk.sc",
                     body={"request_id": uuid.uuid4(), "batch_id": uuid.uuid4(),
                           "first_idx": 1, "items": items})


async def test_a_failing_handler_leaks_no_personal_data(
    scratch: tuple[Scratch, asyncpg.Pool], log_file: Path
) -> None:
    s, pool = scratch
    connection = await aio_pika.connect(s.amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await topology.declare_exchanges(channel)
    [spec] = [q for q in topology.queues_for("hub") if q.name.endswith(".events")]
    queue = await topology.declare_queue(channel, spec)
    outcomes: list[Outcome] = []

    async def handler(conn: asyncpg.Connection, message: AnyMessage) -> None:
        assert isinstance(message, BulkItems)
        items = message.body.items  # a local the old tracebacks printed in full
        contact = f"联系电话 {PHONE}"
        await conn.execute("CREATE TEMP TABLE seen (id_number text PRIMARY KEY)")
        try:
            for _item in items:  # the same ID twice: PostgreSQL quotes it in its error
                await conn.execute("INSERT INTO seen VALUES ($1)", IDS[0])
        except asyncpg.UniqueViolationError as exc:
            raise RuntimeError(f"could not store {items!r} ({contact}): {exc.detail}") from exc

    consumer = Consumer(pool, channel, queue, handler, concurrency=1,
                        observers=[lambda _q, outcome, _t: outcomes.append(outcome)],
                        backoff=lambda _count: 3600.0)
    await consumer.start()
    await channel.default_exchange.publish(
        aio_pika.Message(complainants().model_dump_json().encode()), spec.name)
    await eventually(lambda: asyncio.sleep(0, outcomes == [Outcome.FAILED]), what="failure")
    # the standard library's loggers (aiohttp, asyncio) go through the same masking
    try:
        raise ValueError(f"bad row: 姓名={NAMES[1]} 身份证号 {IDS[1]}")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    await asyncio.wait_for(consumer.stop(), 30)
    await connection.close()

    text = logged(log_file)
    assert "handler failed; message will be redelivered" in text
    assert "UniqueViolationError" in text and "Error handling request" in text
    for secret in (*NAMES, *IDS, PHONE):
        assert secret not in text, f"{secret} leaked into the logs"
    assert '"locals"' not in text
