"""A service's running parts: database pool, broker connection, consumers, outbox relay.

Start-up order: database (created and migrated), broker topology, relay, consumers.
Shut-down runs in reverse, letting in-flight messages finish before connections close.
Background work runs under the ``Supervisor`` (restarted after a failure); ``health``
names every part and whether it is well.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractRobustConnection

from services.common import db, topology, trust
from services.common.consumer import Consumer
from services.common.handling import Handler
from services.common.outbox import AfterPublish, OutboxRelay
from services.common.supervise import Supervisor

log = structlog.get_logger()


@dataclass
class Runtime:
    service: str
    dsn: str
    amqp_url: str
    region: str = ""
    provinces: Iterable[str] = ()
    concurrency: int = 32
    pool_size: int = 10
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    pool: asyncpg.Pool = field(init=False)
    connection: AbstractRobustConnection = field(init=False)
    _consumers: list[Consumer] = field(default_factory=list, init=False)
    supervisor: Supervisor = field(default_factory=Supervisor)

    async def open(self) -> None:
        await db.ensure_database(self.dsn)
        await db.migrate(self.dsn, self.service)
        self.pool = await db.open_pool(self.dsn, max_size=self.pool_size)
        self.connection = await aio_pika.connect_robust(self.amqp_url)

    async def start(
        self, handler: Handler, *, after_publish: AfterPublish | None = None
    ) -> None:
        """Attach to the owned queues, start the relay (publishing with this service's
        ``user-id``), then consume every owned queue, refusing senders its publisher does
        not serve."""
        consuming = await self.connection.channel(publisher_confirms=True)
        await consuming.set_qos(prefetch_count=self.concurrency)
        queues = await topology.attach(consuming, self.service, self.region, self.provinces)
        publishing = await self.connection.channel(publisher_confirms=True)
        relay = OutboxRelay(self.pool, publishing, after_publish=after_publish,
                            clock=self.clock, user_id=trust.user_of(self.amqp_url),
                            alive=lambda: self.supervisor.mark_healthy("outbox_relay"))
        self.supervisor.start("outbox_relay", relay.run)
        for queue in queues.values():
            consumer = Consumer(self.pool, consuming, queue, handler,
                                concurrency=self.concurrency, trust=trust.sender_refusal)
            await consumer.start()
            self._consumers.append(consumer)
        log.info("service started", queues=sorted(queues))

    async def close(self) -> None:
        for consumer in self._consumers:
            await consumer.stop()
        await self.supervisor.close()
        with contextlib.suppress(Exception):
            await self.connection.close()
        with contextlib.suppress(Exception):
            await self.pool.close()
        log.info("service stopped")

    async def health(self) -> dict[str, dict[str, object]]:
        """Each part: database, broker, every consumer and supervised task."""
        parts: dict[str, dict[str, object]] = {
                 "database": await self._database_health(),
                 "broker": {"ok": not self.connection.is_closed}}
        for consumer in self._consumers:
            parts[f"consumer:{consumer.queue_name}"] = {"ok": consumer.consuming}
        return parts | self.supervisor.health()

    async def _database_health(self) -> dict[str, object]:
        try:
            async with asyncio.timeout(2):
                await self.pool.fetchval("SELECT 1")
        except Exception as exc:  # any failure means: not usable now
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        return {"ok": True}
