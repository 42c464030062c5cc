"""The partner registry at a desk: received from the hub over the bus, held in memory.

The hub is the registry's authority; a desk asks for it at start-up and installs
every newer version the hub broadcasts (``store.registry.replace`` keeps the newest).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1 import RegistryPublished, RegistryRequested
from protocol.v1.registry import BureauRecord
from services.common.handling import Dispatcher
from services.desk.domain.errors import Refused
from services.desk.store import desk_keys
from services.desk.store import registry as registry_store


class RegistryCache:
    """The desk's registry in memory, reloaded when the stored version changes.

    The stored version is looked at most once per ``recheck`` seconds: a new registry
    (rare) takes effect within that time, and most API calls cost no query for it.
    """

    def __init__(self, recheck: float = 1.0) -> None:
        self.version, self.bureaus = 0, dict[str, BureauRecord]()
        self.recheck, self.checked = recheck, -recheck

    async def current(self, conn: asyncpg.Connection) -> dict[str, BureauRecord]:
        now = time.monotonic()
        if now - self.checked >= self.recheck or not self.bureaus:
            self.checked = now
            if await registry_store.version(conn) != self.version:
                self.version, self.bureaus = await registry_store.load(conn)
        if not self.bureaus:
            raise Refused(ErrorCode.REGISTRY_NOT_READY,
                          "this desk has not yet received the partner registry from the hub")
        return self.bureaus


def request_registry(region: str, have_version: int) -> RegistryRequested:
    """Asks the hub for its registry (sent at every start; the hub answers to all desks)."""
    return RegistryRequested(
        correlation_id=f"registry-{region}", sender=f"desk.{region}", recipient="hub",
        body={"have_version": have_version},
    )


MAX_VERSION_STEP = 1000
"""The hub's version moves on by one per changed registry: a jump this large is forged."""


def version_refusal(have: int, offered: int) -> str | None:
    """Why a registry at version ``offered`` must be refused by a desk at ``have``."""
    if offered < have:
        return f"stale registry version {offered}: this desk has version {have}"
    if offered > have + MAX_VERSION_STEP:
        return f"inflated registry version {offered}: this desk has version {have}"
    return None


def register(bus: Dispatcher, clock: Callable[[], dt.datetime]) -> None:
    """Install each registry the hub broadcasts: the same version again is ignored, an
    older or an implausibly newer one refused (only the hub publishes registries, which
    the broker and the consumer's sender check enforce)."""

    async def on_published(conn: asyncpg.Connection, msg: RegistryPublished) -> None:
        if why := version_refusal(await registry_store.version(conn), msg.body.version):
            raise Refused(ErrorCode.STALE_REGISTRY, why)
        await registry_store.replace(conn, msg.body.version, msg.body.bureaus, clock())
        if msg.body.desks:  # the hub's word on the desks' keys, even at the same version
            await desk_keys.replace(conn, msg.body.desks, clock())

    bus.register(RegistryPublished, on_published)
